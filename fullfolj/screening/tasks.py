"""Background jobs: the daily screening (queued by cron) and the rule evaluations asked for on
the rule page, both run by `fullfolj worker`."""

from __future__ import annotations

from django_tasks import task

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Pupil

from . import actions
from .models import ScreeningRun


@task()
def screen_daily() -> list[int]:
    """Screen every organiser's pupils today; skip organisers with no school days (holidays).

    Queue it once a day from cron with `fullfolj screen --daily`; the worker runs it.
    """
    today = clock.today()
    runs = []
    for organiser in Organiser.objects.filter(pk__in=Pupil.objects.values("organiser_id")):
        try:
            run = actions.run_screening(organiser, today, source=ScreeningRun.Source.DAILY)
        except actions.NoSchoolDays:
            continue
        runs.append(run.pk)
    return runs


@task()
def evaluate_rules() -> list[int]:
    """Evaluate the rules for every request made on the rule page (queued by the page)."""
    return actions.run_requested()
