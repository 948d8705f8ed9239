"""Follow-up that really happens: reads of measures due or overdue for follow-up, and which
pupils count as acted on.

Measures that are never followed up are the most common failure (DOMAIN.md, "Act and follow
up"): a measure whose follow-up date has passed without an evaluation shows on the home of the
person responsible for it and of the school's principal, and on the list "Uppföljningar att
göra". `pupils_acted_on` is screening's action provider (registered in apps.py), as
`queries.active_adaptations` is the register's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from fullfolj.access.gate import Viewer, pupils_visible_to
from fullfolj.schools.models import Placement, Role

from .models import Case, Evaluation, Measure

SOON_DAYS = 14  # the list also shows follow-ups due within two weeks


def pupils_acted_on(pupil_ids: Iterable[int]) -> QuerySet[Any]:
    """The pupils among `pupil_ids` with an open case or a measure still running, as a query of
    single pupil ids that screening unites with its open ladder tasks ("flagged, nobody acting")."""
    ids = list(pupil_ids)
    return (
        Case.objects.filter(pupil_id__in=ids)
        .filter(~Q(status=Case.Status.CLOSED) | Q(measures__status=Measure.Status.ACTIVE))
        .order_by()
        .values_list("pupil_id")
    )


# --- Follow-ups due -------------------------------------------------------------------------


def _unevaluated() -> Q:
    """No evaluation on or after the follow-up date: the follow-up has not been done."""
    done = Evaluation.objects.filter(
        measure_id=OuterRef("pk"), evaluated_on__gte=OuterRef("follow_up_on")
    )
    return ~Q(Exists(done))


def due_by(day: dt.date) -> QuerySet[Measure]:
    """Running measures whose follow-up date is on or before `day`, not yet followed up."""
    return (
        Measure.objects.active()
        .filter(follow_up_on__isnull=False, follow_up_on__lte=day)
        .filter(_unevaluated())
        .exclude(case__status=Case.Status.CLOSED)
    )


def overdue(today: dt.date) -> QuerySet[Measure]:
    """Measures whose follow-up date has passed (before today) without an evaluation."""
    return due_by(today - dt.timedelta(days=1))


def _responsible_is(viewer: Viewer) -> Q:
    """The measure's responsible person; the case's, when the measure names nobody."""
    return Q(responsible=viewer.staff) | Q(responsible__isnull=True, case__responsible=viewer.staff)


def principal_schools(viewer: Viewer) -> set[int]:
    return viewer.schools_with({Role.PRINCIPAL})


def follow_ups_for(viewer: Viewer, day: dt.date) -> QuerySet[Measure]:
    """The follow-ups due by `day` this viewer answers for: as the responsible person, and as
    principal every one at their schools; only of pupils the gate shows them today."""
    mine = _responsible_is(viewer)
    schools = principal_schools(viewer)
    if schools:
        mine |= Q(case__school_id__in=schools)
    return due_by(day).filter(mine, case__pupil__in=pupils_visible_to(viewer))


@dataclass(frozen=True)
class FollowUpCounts:
    """One viewer's follow-ups: theirs overdue and due within SOON_DAYS; and per principal's
    school, every overdue follow-up there."""

    mine_overdue: int
    mine_soon: int
    school_overdue: dict[int, int]


def counts(viewer: Viewer, today: dt.date) -> FollowUpCounts:
    """The home cards' figures, in two queries whatever the number of measures."""
    soon = today + dt.timedelta(days=SOON_DAYS)
    visible = pupils_visible_to(viewer)
    mine = (
        due_by(soon)
        .filter(_responsible_is(viewer), case__pupil__in=visible)
        .aggregate(
            overdue=Count("pk", filter=Q(follow_up_on__lt=today)),
            soon=Count("pk", filter=Q(follow_up_on__gte=today)),
        )
    )
    schools = principal_schools(viewer)
    per_school: dict[int, int] = {}
    if schools:
        per_school = dict(
            overdue(today)
            .filter(case__school_id__in=schools, case__pupil__in=visible)
            .order_by()
            .values("case__school_id")
            .annotate(n=Count("pk"))
            .values_list("case__school_id", "n")
        )
    return FollowUpCounts(mine["overdue"] or 0, mine["soon"] or 0, per_school)


@dataclass(frozen=True)
class FollowUpRow:
    measure: Measure
    class_name: str
    is_overdue: bool
    days_late: int
    is_mine: bool


PAGE_SIZE = 50  # rows per page of the list, as the other lists


@dataclass(frozen=True)
class FollowUpPage:
    """One page of Uppföljningar att göra: its rows, and how many are overdue and soon in all."""

    page: Page
    rows: list[FollowUpRow]
    overdue_total: int
    soon_total: int

    @property
    def overdue(self) -> list[FollowUpRow]:
        return [r for r in self.rows if r.is_overdue]

    @property
    def soon(self) -> list[FollowUpRow]:
        return [r for r in self.rows if not r.is_overdue]


def follow_up_rows(viewer: Viewer, today: dt.date, page: int | None = None) -> FollowUpPage:
    """Uppföljningar att göra: the viewer's follow-ups overdue and due within SOON_DAYS, oldest
    date first (so the overdue come first), with the pupil's class; PAGE_SIZE rows a page, a
    number past the end shows the last. Three queries whatever the number of rows."""
    soon = today + dt.timedelta(days=SOON_DAYS)
    due = follow_ups_for(viewer, soon)
    totals = due.aggregate(
        overdue=Count("pk", filter=Q(follow_up_on__lt=today)),
        soon=Count("pk", filter=Q(follow_up_on__gte=today)),
    )
    overdue_total, soon_total = totals["overdue"] or 0, totals["soon"] or 0
    ordered = due.select_related(
        "case__pupil", "case__school", "responsible", "case__responsible"
    ).order_by("follow_up_on", "case__pupil__last_name", "case__pupil__first_name", "pk")
    paginator = Paginator(ordered, PAGE_SIZE)
    paginator.count = overdue_total + soon_total  # known already: no second COUNT
    shown = paginator.get_page(page or 1)
    measures: list[Measure] = list(shown.object_list)
    classes = dict(
        Placement.objects.active_on(today)
        .filter(pupil_id__in={m.case.pupil_id for m in measures})
        .values_list("pupil_id", "school_class__name")
    )
    rows = []
    for measure in measures:
        date = measure.follow_up_on or today
        rows.append(
            FollowUpRow(
                measure=measure,
                class_name=classes.get(measure.case.pupil_id) or "",
                is_overdue=date < today,
                days_late=max(0, (today - date).days),
                is_mine=(measure.responsible_id or measure.case.responsible_id) == viewer.staff.pk,
            )
        )
    return FollowUpPage(shown, rows, overdue_total, soon_total)
