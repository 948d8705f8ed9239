"""The daily retention run as a background task; each run queues the next day's."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django_tasks import task

from fullfolj.lib.jobs import enqueue_once, next_daily

from . import retention


@task()
def retention_daily() -> int:
    """Remove what has passed its period, then queue tomorrow's run."""
    counts = retention.run()
    schedule_next()
    return sum(sum(per.values()) for per in counts.values())


def next_run(now: dt.datetime | None = None) -> dt.datetime:
    """The next FULLFOLJ_RETENTION_RUN_AT ("03:00", local time) after now, by the real clock."""
    return next_daily(str(getattr(settings, "FULLFOLJ_RETENTION_RUN_AT", "03:00")), now)


def schedule_next() -> None:
    enqueue_once(retention_daily, next_run())


def start() -> None:
    """At worker start: make sure the daily run is queued."""
    schedule_next()
