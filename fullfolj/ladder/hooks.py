"""Who hears of the tasks the ladder opens, inside the evaluation's transaction.

Apps above the ladder (support: a step asking for an investigation opens or joins the pupil's
case) register a listener from their AppConfig.ready(); the ladder knows them only as listeners.
They may also offer links on a task's page (support: open a case from the step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from fullfolj.access.gate import Viewer

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


class TaskLink(NamedTuple):
    """A way on from a task's page that an app above the ladder offers (support: open a case)."""

    text: str
    url: str


TaskLinks = Callable[["Viewer", "LadderTask"], list[TaskLink]]
_link_providers: list[TaskLinks] = []


def provide_task_links(provider: TaskLinks) -> None:
    """Offer links on every task's page from now on (once, however often called)."""
    if provider not in _link_providers:
        _link_providers.append(provider)


def task_links(viewer: Viewer, task: LadderTask) -> list[TaskLink]:
    """The links the apps above offer this viewer on this task's page."""
    return [link for provider in _link_providers for link in provider(viewer, task)]
