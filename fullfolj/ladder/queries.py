"""Reads of the ladder for pages: a pupil's history, the list summaries, a staff member's tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from fullfolj.access import gate
from fullfolj.access.gate import Viewer
from fullfolj.lib import clock
from fullfolj.schools.models import Pupil

from .models import LadderStep, LadderTask, LadderTaskQuerySet


@dataclass(frozen=True)
class Summary:
    """A pupil's place on the ladder for the lists: the current step, and overdue tasks."""

    step: str | None = None
    order: int | None = None
    overdue: int = 0


def summaries(pupil_ids: Iterable[int], today: dt.date) -> dict[int, Summary]:
    """Each pupil's current step and number of overdue tasks, in one query.

    The current step is the one the evaluation climbs from (engine module docstring): the
    highest step whose task is open or opened less than the step's repeat_after_days ago.
    """
    ids = list(pupil_ids)
    if not ids:
        return {}
    longest = max(LadderStep.objects.values_list("repeat_after_days", flat=True), default=0)
    rows = LadderTask.objects.filter(
        Q(opened_on__gt=today - dt.timedelta(days=longest)) | Q(closed_at__isnull=True),
        pupil_id__in=ids,
    ).values_list(
        "pupil_id",
        "step__order",
        "step__name",
        "step__repeat_after_days",
        "opened_on",
        "closed_at",
        "due",
    )
    best: dict[int, tuple[int, str]] = {}
    overdue: dict[int, int] = {}
    for pupil, order, name, repeat, opened_on, closed_at, due in rows:
        current = closed_at is None or opened_on > today - dt.timedelta(days=repeat)
        if current and (pupil not in best or order > best[pupil][0]):
            best[pupil] = (order, name)
        if closed_at is None and due < today:
            overdue[pupil] = overdue.get(pupil, 0) + 1
    return {
        pupil: Summary(
            step=f"{best[pupil][0]}. {best[pupil][1]}" if pupil in best else None,
            order=best[pupil][0] if pupil in best else None,
            overdue=overdue.get(pupil, 0),
        )
        for pupil in set(best) | set(overdue)
    }


def visible_tasks(viewer: Viewer) -> LadderTaskQuerySet:
    """Tasks of pupils this viewer reaches through a ladder role (mentor, principal, EHT)."""
    return LadderTask.objects.filter(pupil__in=gate.ladder_pupils(viewer)).select_related(
        "pupil", "step", "assignee", "school"
    )


def tasks_for(viewer: Viewer) -> QuerySet[LadderTask]:
    """Mina uppgifter: open tasks assigned to this person or to their role at their school."""
    return visible_tasks(viewer).open().filter(gate.assigned_tasks(viewer)).order_by("due", "pk")


# "Due" on the home page: open tasks due within this many days, today included.
DUE_SOON_DAYS = 7


@dataclass(frozen=True)
class TaskCounts:
    """Open tasks of one acting role at one school: all, due within a week, and overdue."""

    actor: str
    school_id: int | None
    open: int
    due_soon: int
    overdue: int


def task_counts(viewer: Viewer, today: dt.date) -> list[TaskCounts]:
    """Mina uppgifter counted per acting role and school, in one query: what the home shows.

    A task is overdue from the day after its due day (docs/ladder.md), due soon while its due
    day is within `DUE_SOON_DAYS`.
    """
    soon = today + dt.timedelta(days=DUE_SOON_DAYS - 1)
    rows = (
        tasks_for(viewer)
        .order_by()
        .values("actor", "school_id")
        .annotate(
            open=Count("pk"),
            due_soon=Count("pk", filter=Q(due__gte=today, due__lte=soon)),
            overdue=Count("pk", filter=Q(due__lt=today)),
        )
    )
    return [TaskCounts(**row) for row in rows]


def overdue_at_schools(school_ids: Iterable[int], today: dt.date) -> dict[int, int]:
    """Overdue open tasks of every acting role per school: the principal answers for the whole
    ladder at their school (Skollagen 7 kap. 19 a §), not only for the steps they act on."""
    ids = list(school_ids)
    if not ids:
        return {}
    rows = (
        LadderTask.objects.overdue(today)
        .filter(school_id__in=ids)
        .order_by()
        .values_list("school_id")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def open_by_step(pupils: QuerySet[Any], today: dt.date) -> list[dict[str, Any]]:
    """Open tasks of these pupils (a query of pupil ids) per ladder step (order and name), with
    how many are overdue: the ladder as a whole, for figures without names."""
    rows = (
        LadderTask.objects.open()
        .filter(pupil_id__in=pupils)
        .order_by()
        .values("step__order", "step__name")
        .annotate(
            open=Count("pupil_id", distinct=True),
            overdue=Count("pupil_id", distinct=True, filter=Q(due__lt=today)),
        )
        .order_by("step__order", "step__name")
    )
    return [dict(row) for row in rows]


def history_for(pupil_id: int) -> QuerySet[LadderTask]:
    """A pupil's ladder history, newest first, with what was done."""
    return (
        LadderTask.objects.filter(pupil_id=pupil_id)
        .select_related("step", "assignee", "closed_by")
        .prefetch_related("records__by")
        .order_by("-opened_on", "-step__order")
    )


def for_pupil(pupil: Pupil, viewer: Viewer) -> dict[str, object] | None:
    """The pupil record's ladder section, for those who reach the pupil through a ladder role
    (not as teacher); student-health documentation only to those who may read it."""
    if not gate.ladder_pupils(viewer).filter(pk=pupil.pk).exists():
        return None
    tasks = []
    for task in history_for(pupil.pk):
        access = gate.task_records_access(viewer, task)
        tasks.append((task, access is gate.HealthAccess.READ, access is gate.HealthAccess.VERIFY))
    locked = any(is_locked and task.records.all() for task, _read, is_locked in tasks)
    return {"tasks": tasks, "today": clock.today(), "locked": locked}
