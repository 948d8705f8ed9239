"""Reads of the ladder for pages: a pupil's history, the list summaries, a staff member's tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from fullfolj.access.gate import Viewer, pupils_visible_to
from fullfolj.lib import clock
from fullfolj.schools.models import STUDENT_HEALTH_ROLES, Pupil, Role

from .models import Actor, LadderStep, LadderTask, LadderTaskQuerySet

# Who works with the ladder: not teachers as such (docs/privacy.md: roles and relationships).
LADDER_ROLES = {Role.MENTOR, Role.PRINCIPAL, *STUDENT_HEALTH_ROLES}


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
    return LadderTask.objects.filter(
        pupil__in=pupils_visible_to(viewer, roles=LADDER_ROLES)
    ).select_related("pupil", "step", "assignee", "school")


def tasks_for(viewer: Viewer) -> QuerySet[LadderTask]:
    """Mina uppgifter: open tasks assigned to this person or to their role at their school."""
    mine = Q(assignee=viewer.staff)
    student_health = viewer.schools_with(STUDENT_HEALTH_ROLES)
    if student_health:
        mine |= Q(actor=Actor.STUDENT_HEALTH, school_id__in=student_health)
    principal = viewer.schools_with({Role.PRINCIPAL})
    if principal:
        mine |= Q(actor=Actor.PRINCIPAL, assignee__isnull=True, school_id__in=principal)
    if viewer.is_mentor:  # the pupil's mentor now, also when the task went to the one before
        mine |= Q(actor=Actor.MENTOR, pupil__in=pupils_visible_to(viewer, roles={Role.MENTOR}))
    return visible_tasks(viewer).open().filter(mine).order_by("due", "pk")


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


def open_by_step(pupils: QuerySet[Pupil], today: dt.date) -> list[dict[str, Any]]:
    """Open tasks of these pupils per ladder step (order and name), with how many are overdue:
    the ladder as a whole, for figures without names."""
    rows = (
        LadderTask.objects.open()
        .filter(pupil__in=pupils)
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


def can_read_records(viewer: Viewer, task: LadderTask) -> bool:
    """What the student-health team documented is health data (OSL 25 kap., GDPR art. 9): only
    the team, the school's principal and the assignee read it; others see that it was done."""
    if task.actor != Actor.STUDENT_HEALTH or task.assignee_id == viewer.staff.pk:
        return True
    return task.school_id in viewer.schools_with(STUDENT_HEALTH_ROLES | {Role.PRINCIPAL})


def can_close(viewer: Viewer, task: LadderTask) -> bool:
    """Who may document and close a task: the person it is assigned to, whoever holds the
    acting role for the pupil (their mentor, the school's principal or student-health team),
    and the school's principal, who answers for the whole ladder (Skollagen 7 kap. 19 a §)."""
    if not task.is_open:
        return False
    if task.assignee_id == viewer.staff.pk:
        return True
    if task.school_id in viewer.schools_with({Role.PRINCIPAL}):
        return True
    if task.actor == Actor.STUDENT_HEALTH:
        return task.school_id in viewer.schools_with(STUDENT_HEALTH_ROLES)
    if task.actor == Actor.MENTOR:  # also a new mentor, after a change of mentor
        return pupils_visible_to(viewer, roles={Role.MENTOR}).filter(pk=task.pupil_id).exists()
    return False


def for_pupil(pupil: Pupil, viewer: Viewer) -> dict[str, object] | None:
    """The pupil record's ladder section, for those who reach the pupil through a ladder role
    (not as teacher); student-health documentation only to those who may read it."""
    if not pupils_visible_to(viewer, roles=LADDER_ROLES).filter(pk=pupil.pk).exists():
        return None
    tasks = [(task, can_read_records(viewer, task)) for task in history_for(pupil.pk)]
    return {"tasks": tasks, "today": clock.today()}
