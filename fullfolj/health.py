"""Health of an installation: does the database answer, is the background worker keeping up.

`/halsa/` is for the container's health check and the IT department's monitoring. A middleware
answers it before anything else, so it works on the container's own address (not one of
ALLOWED_HOSTS) over plain HTTP (no HTTPS redirect), without a session or a login, and it tells
nothing about pupils. 200 when the database answers, 503 when it does not. The worker's state
is reported beside it but does not make the answer 503: a web server should not be restarted
because the worker is late. `fullfolj health --worker` checks both, for the worker's container.

The worker records no heartbeat of its own. What shows it is alive is its queue: the daily
ladder and retention runs are always queued for a time, so a worker that has stopped leaves a
task waiting past its time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_tasks import TaskResultStatus

PATH = "/halsa/"
# A task waiting this long past its time means no worker is taking tasks (it polls every second).
WORKER_LATE_AFTER = dt.timedelta(minutes=15)

logger = logging.getLogger(__name__)


def database_answers() -> bool:
    """Whether the database takes a query now."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health: the database does not answer")
        return False
    return True


def worker_state(now: dt.datetime | None = None) -> dict[str, Any]:
    """How many tasks wait past their time, and when the worker last finished one."""
    from django.db.models import Max, Q
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = now or timezone.now()
    late = now - WORKER_LATE_AFTER
    try:
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).filter(
            # A task for "as soon as possible" has the far future as its time; then its age counts.
            Q(run_after__lte=late) | Q(run_after=get_date_max(), enqueued_at__lte=late)
        )
        overdue = waiting.count()
        finished = DBTaskResult.objects.aggregate(last=Max("finished_at"))["last"]
    except DatabaseError:
        logger.exception("health: the task queue cannot be read (not migrated?)")
        return {"status": "unknown"}
    return {
        "status": "late" if overdue else "ok",
        "tasks_waiting_too_long": overdue,
        "last_task_finished_at": finished.isoformat() if finished else None,
    }


def report(now: dt.datetime | None = None) -> dict[str, Any]:
    """The whole answer: the database first, the worker only when the database answers."""
    if not database_answers():
        return {"status": "unavailable", "database": "unavailable"}
    return {"status": "ok", "database": "ok", "worker": worker_state(now)}


class HealthMiddleware:
    """Answers GET and HEAD on /halsa/ with `report()` as JSON; passes everything else on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != PATH or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        answer = report()
        response = HttpResponse(
            json.dumps(answer),
            content_type="application/json",
            status=200 if answer["status"] == "ok" else 503,
        )
        response["Cache-Control"] = "no-store"
        return response
