"""Who hears of changed marks inside the register's own transaction, and who tells the
register of a pupil's adaptations.

Apps above attendance (guardian notices) keep rows in step with the marks: a transactional
outbox, written and rolled back with the marks. Attendance knows them only as listeners,
registered from their AppConfig.ready(); the register asks each which changes concern it, runs
its read with the save's writes (one round trip on PostgreSQL), and hands it the rows.

The support app, above attendance, provides the extra adaptations a teacher is to see beside a
pupil's name (`provide_adaptations`, from its AppConfig.ready()); with no provider there are none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from .store import Pair, Statement

Snapshot = dict[str, Any]  # LessonAttendance.snapshot(); None: no mark


class MarksListener(Protocol):
    def concerns(self, old: Snapshot | None, new: Snapshot) -> bool:
        """Whether this change of one pupil's mark is news to the listener."""

    def read(self, pairs: set[Pair]) -> Statement:
        """What the listener needs to know of these (pupil, day)s, run after the writes."""

    def heard(self, pairs: set[Pair], rows: list[tuple]) -> None:
        """The (pupil, day)s with changes that concern it, and its read's rows; still inside
        the transaction that changed the marks, so whatever it writes commits with them."""


_listeners: list[MarksListener] = []


def listen(listener: MarksListener) -> None:
    """Tell `listener` of every saved register from now on (once, however often called)."""
    if listener not in _listeners:
        _listeners.append(listener)


def forget(listener: MarksListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def listeners() -> tuple[MarksListener, ...]:
    return tuple(_listeners)


# Pupil ids and a day -> each pupil's adaptations running that day, by title.
AdaptationsProvider = Callable[[list[int], dt.date], dict[int, list[str]]]
_adaptation_providers: list[AdaptationsProvider] = []


def provide_adaptations(provider: AdaptationsProvider) -> None:
    """Ask `provider` for the register's adaptations from now on (once, however often called)."""
    if provider not in _adaptation_providers:
        _adaptation_providers.append(provider)


def withdraw_adaptations(provider: AdaptationsProvider) -> None:
    if provider in _adaptation_providers:
        _adaptation_providers.remove(provider)


def adaptations(pupil_ids: list[int], day: dt.date) -> dict[int, list[str]]:
    """Every provider's adaptations of these pupils on `day`; none without a provider."""
    found: dict[int, list[str]] = {}
    for provider in _adaptation_providers:
        for pupil_id, titles in provider(pupil_ids, day).items():
            found.setdefault(pupil_id, []).extend(titles)
    return found
