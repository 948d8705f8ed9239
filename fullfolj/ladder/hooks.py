"""Who hears of the tasks the ladder opens, inside the evaluation's transaction.

Apps above the ladder (support: a step asking for an investigation opens or joins the pupil's
case) register a listener from their AppConfig.ready(); the ladder knows them only as listeners.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import LadderTask


class TasksListener(Protocol):
    def opened(self, day: dt.date, tasks: list[LadderTask]) -> None:
        """The tasks the day's evaluation tried to open (some may have been open already)."""


_listeners: list[TasksListener] = []


def listen(listener: TasksListener) -> None:
    """Tell `listener` of every evaluation's new tasks from now on (once, however often called)."""
    if not any(type(known) is type(listener) for known in _listeners):
        _listeners.append(listener)


def forget(listener: TasksListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def listeners() -> tuple[TasksListener, ...]:
    return tuple(_listeners)
