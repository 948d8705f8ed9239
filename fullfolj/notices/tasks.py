"""Background work for guardian notices, run by `fullfolj worker` (django-tasks, database backend).

The outbox rows are the truth; a queued task only wakes a worker. A task row left running by a
killed worker is never retried by django-tasks, so each run queues the next wake-up itself (for
the next due notice or lapsing lease), and the worker queues one when it starts.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from fullfolj.lib import clock

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


def enqueue_once(task_obj: object, when: dt.datetime) -> bool:
    """Queue `task_obj` to run at `when` (real time) unless one is already queued by then."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    queued = DBTaskResult.objects.filter(
        Q(run_after__lte=when) | Q(run_after=get_date_max()),
        task_path=task_obj.module_path,  # type: ignore[attr-defined]
        status=TaskResultStatus.READY,
    )
    if queued.exists():
        return False
    task_obj.using(run_after=when).enqueue()  # type: ignore[attr-defined]
    return True


def wake_deliverer(when: dt.datetime | None) -> None:
    """Make sure a worker looks at the outbox at `when` (product time)."""
    if when is not None:
        enqueue_once(deliver_notices, _real_time(when))


def start() -> None:
    """At worker start: pick up whatever is due or was left half-sent by a killed worker."""
    wake_deliverer(actions.next_wakeup())
