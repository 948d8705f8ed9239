"""Background work for guardian notices, run by `fullfolj worker` (django-tasks, database backend).

The outbox rows are the truth; a queued task only wakes a worker. A task row left running by a
killed worker is never retried by django-tasks, so each run queues the next wake-up itself (for
the next due notice or lapsing lease), and the worker queues one when it starts.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from fullfolj.lib import clock
from fullfolj.lib.jobs import enqueue_once

from . import actions


@task()
def deliver_notices() -> dict[str, int]:
    """Send every due guardian notice, then queue the next wake-up, even if delivery failed."""
    try:
        delivery = actions.deliver_due()
    finally:  # a failed run must not leave due notices without a wake-up (the law's same day)
        wake_deliverer(actions.next_wakeup())
    return delivery.counts


def _real_time(product_time: dt.datetime) -> dt.datetime:
    """The product's clock may be pinned to another date (demo): queue by the real clock."""
    return timezone.now() + max(product_time - clock.now(), dt.timedelta(0))


def wake_deliverer(when: dt.datetime | None) -> None:
    """Make sure a worker looks at the outbox at `when` (product time)."""
    if when is not None:
        enqueue_once(deliver_notices, _real_time(when))


def start() -> None:
    """At worker start: pick up whatever is due or was left half-sent by a killed worker."""
    wake_deliverer(actions.next_wakeup())
