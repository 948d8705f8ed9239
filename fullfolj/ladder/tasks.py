"""The daily ladder evaluation as a background task; each run queues the next day's."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django_tasks import task

from fullfolj.lib.jobs import enqueue_once, next_daily

from . import actions


@task()
def evaluate_ladder_daily() -> int:
    """Open the ladder tasks that trigger today, then queue tomorrow's run."""
    opened = len(actions.evaluate_ladder())
    schedule_next()
    return opened


def next_run(now: dt.datetime | None = None) -> dt.datetime:
    """The next FULLFOLJ_LADDER_RUN_AT ("06:00", local time) after now, by the real clock."""
    return next_daily(str(getattr(settings, "FULLFOLJ_LADDER_RUN_AT", "06:00")), now)


def schedule_next() -> None:
    enqueue_once(evaluate_ladder_daily, next_run())


def start() -> None:
    """At worker start: make sure the daily evaluation is queued."""
    schedule_next()
