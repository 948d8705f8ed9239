"""Who hears of changed marks inside the register's own transaction.

Apps above attendance (guardian notices) keep rows in step with the marks: a transactional
outbox, written and rolled back with the marks. Attendance knows them only as listeners,
registered from their AppConfig.ready(); the register asks each which changes concern it, runs
its read with the save's writes (one round trip on PostgreSQL), and hands it the rows.
"""

from __future__ import annotations

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
