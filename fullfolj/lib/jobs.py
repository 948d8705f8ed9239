"""Queueing background tasks (django-tasks with the database backend of django-tasks-db)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus


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


def next_daily(at: str, now: dt.datetime | None = None) -> dt.datetime:
    """The next time of day `at` ("06:00", local time) after now, by the real clock."""
    now = timezone.localtime(now or timezone.now())
    hour, minute = (int(p) for p in at.split(":"))
    run = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return run if run > now else run + dt.timedelta(days=1)
