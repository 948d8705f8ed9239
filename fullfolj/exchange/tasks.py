"""The nightly import of every enabled source, run by `fullfolj worker`."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from fullfolj.lib.jobs import enqueue_once

from . import actions
from .models import FileImport, ImportRun, Source

log = logging.getLogger(__name__)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time))


def due(now: dt.datetime | None = None) -> list[Source]:
    """Enabled sources whose time has come today and that have not run well since."""
    now = timezone.localtime(now or timezone.now())
    found = []
    for source in Source.objects.filter(enabled=True, run_at__isnull=False):
        if source.run_at is None:  # the filter says not; the type checker cannot know
            continue
        moment = _at(now.date(), source.run_at)
        if moment > now:
            continue
        ran = source.runs.filter(started_at__gte=moment, status=ImportRun.Status.DONE)
        if not ran.exists():
            found.append(source)
    return found


def next_run(now: dt.datetime | None = None) -> dt.datetime | None:
    """The next run_at of any enabled source after now (real time)."""
    now = timezone.localtime(now or timezone.now())
    times = []
    for run_at in Source.objects.filter(enabled=True, run_at__isnull=False).values_list(
        "run_at", flat=True
    ):
        if run_at is None:
            continue
        moment = _at(now.date(), run_at)
        times.append(moment if moment > now else _at(now.date() + dt.timedelta(days=1), run_at))
    return min(times, default=None)


@task()
def import_sources() -> list[int]:
    """Import every source that is due, each all or nothing; then queue the next run."""
    runs = []
    for source in due():
        try:
            runs.append(actions.run_import(source).run.pk)
        except actions.ImportStopped as error:  # recorded on its run; the others go on
            log.warning("Import from %s stopped: %s", source, error)
            runs.append(error.run.pk)
    schedule_next()
    return runs


def schedule_next() -> None:
    when = next_run()
    if when is not None:
        enqueue_once(import_sources, when)


def start() -> None:
    """At worker start: run what is due now (a missed night) and queue the next run."""
    if due():
        enqueue_once(import_sources, timezone.now())
    else:
        schedule_next()


@task()
def import_uploaded_file(file_import_id: int) -> str:
    """Import a file the administration uploaded and confirmed (the upload page)."""
    upload = FileImport.objects.filter(pk=file_import_id, status=FileImport.Status.QUEUED).first()
    if upload is None:  # already run, or gone
        return "gone"
    return actions.run_file_import(upload).status
