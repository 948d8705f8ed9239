"""The student-health team's meeting (EHT-möte): the agenda for a school and date, and the
minutes recorded per case.

The agenda is generated, never typed: the cases with a follow-up (or an agreed action) due by
the meeting, the pupils flagged in the latest screening with nobody acting yet, and the absence
ladder's steps waiting for the team (Skollagen 7 kap. 19 a §: repeated absence is investigated
together with the student-health team). The minutes of a case are one entry in its timeline
(kind EHT minutes) with what was decided and who does what by when (docs/support.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, F, Prefetch, QuerySet
from django.utils.translation import gettext as _

from fullfolj.access.gate import (
    ACTOR_STUDENT_HEALTH,
    HEALTH_SECRECY_ROLES,
    HealthAccess,
    SecondFactorKind,
    Viewer,
    health_access,
    pupils_visible_to,
)
from fullfolj.ladder.models import LadderTask
from fullfolj.schools.models import (
    STUDENT_HEALTH_ROLES,
    Placement,
    Pupil,
    Role,
    School,
    Staff,
    StaffRole,
)
from fullfolj.screening import queries as screening

from . import followups
from .models import AgreedAction, Case, CaseEntry, Measure

AGENDA_ROLES = frozenset({Role.PRINCIPAL, *STUDENT_HEALTH_ROLES})


def agenda_schools(viewer: Viewer) -> list[School]:
    """The schools whose meeting this viewer holds: principal and student-health team."""
    ids = viewer.schools_with(AGENDA_ROLES)
    found = {r.school_id: r.school for r in viewer.roles if r.school_id in ids and r.school}
    return sorted(found.values(), key=lambda s: s.name)


def may_hold_meeting(viewer: Viewer, school_id: int) -> bool:
    return school_id in viewer.schools_with(AGENDA_ROLES)


@dataclass
class CaseItem:
    """A case on the agenda: what is due on it by the meeting, and its latest minutes."""

    case: Case
    class_name: str
    measures: list[Measure] = field(default_factory=list)
    actions: list[AgreedAction] = field(default_factory=list)
    last_minutes: CaseEntry | None = None


@dataclass
class TaskItem:
    task: LadderTask
    class_name: str
    case: Case | None


@dataclass
class FlagItem:
    row: screening.RiskRow
    class_name: str


SECTION_ROWS = 15  # rows a section of the agenda shows at once; the rest a page further


@dataclass
class Agenda:
    """The meeting's agenda: per section the rows of the page shown and the page (with the
    section's total), so a big school's agenda stays a page the meeting can work through."""

    school: School
    day: dt.date
    cases: list[CaseItem]
    flags: list[FlagItem]
    tasks: list[TaskItem]
    case_page: Page
    flag_page: Page
    task_page: Page
    # Minutes under health secrecy wait for this login's second factor: shown without content.
    locked: bool = False

    def pupil_ids(self) -> list[int]:
        """Every pupil the agenda names, for the access log."""
        return sorted(
            {item.case.pupil_id for item in self.cases}
            | {item.row.pupil.pk for item in self.flags}
            | {item.task.pupil_id for item in self.tasks}
        )

    @property
    def is_empty(self) -> bool:
        return not (self.cases or self.flags or self.tasks)


@dataclass(frozen=True)
class AgendaPages:
    """The page of each section asked for (1 unless the meeting paged on)."""

    cases: int = 1
    flags: int = 1
    tasks: int = 1


def _pupils_at(viewer: Viewer, school: School, day: dt.date) -> QuerySet[Pupil]:
    """The school's pupils placed there on the meeting day, as far as the gate shows them."""
    placed = Placement.objects.active_on(day).filter(school=school).values("pupil_id")
    return pupils_visible_to(viewer, roles=AGENDA_ROLES).filter(pk__in=placed)


def _page(rows: Sequence[object] | QuerySet[Any], number: int) -> Page:
    return Paginator(rows, SECTION_ROWS).get_page(number)


def agenda(
    viewer: Viewer, school: School, day: dt.date, pages: AgendaPages | None = None
) -> Agenda:
    """The meeting's agenda for `school` on `day`, SECTION_ROWS rows a section, in a fixed
    number of queries whatever the number of cases, flags and steps."""
    pages = pages or AgendaPages()
    pupils = _pupils_at(viewer, school, day)
    due_measures = (
        followups.due_by(day)
        .filter(case__school=school, case__pupil__in=pupils)
        .select_related("responsible")
        .order_by("follow_up_on", "pk")
    )
    due_actions = (
        AgreedAction.objects.filter(
            done_on__isnull=True,
            due__lte=day,
            entry__case__school=school,
            entry__case__pupil__in=pupils,
        )
        .exclude(entry__case__status=Case.Status.CLOSED)
        .order_by("due", "pk")
    )
    # The cases in agenda order (earliest date due, then the pupil's name) from their dates
    # alone; only the page shown is read whole.
    earliest: dict[int, tuple[dt.date, str, str]] = {}
    name = ("pupil__last_name", "pupil__first_name")
    dated = (
        due_measures.order_by()
        .values_list("case_id", "follow_up_on", *(f"case__{n}" for n in name))
        .union(
            due_actions.order_by().values_list(
                "entry__case_id", "due", *(f"entry__case__{n}" for n in name)
            ),
            all=True,
        )
    )
    for case_id, date, last, first in dated:
        if date is not None and (case_id not in earliest or date < earliest[case_id][0]):
            earliest[case_id] = (date, last, first)
    order = sorted(earliest, key=lambda pk: (*earliest[pk], pk))
    case_page = _page(order, pages.cases)
    minutes = CaseEntry.objects.filter(kind=CaseEntry.Kind.EHT_MINUTES).order_by(
        "case_id", "-occurred_on", "-written_at", "-pk"
    )
    health = health_access(viewer, school.pk, SecondFactorKind.HEALTH_ENTRIES)
    if health is not HealthAccess.READ:
        minutes = minutes.filter(health_restricted=False)
    shown_ids = list(case_page.object_list)
    cases = {
        case.pk: case
        for case in Case.objects.filter(pk__in=shown_ids)
        .select_related("pupil", "responsible")
        .prefetch_related(
            Prefetch("measures", queryset=due_measures, to_attr="due_measures"),
            Prefetch("entries", queryset=minutes, to_attr="all_minutes"),
        )
    }
    actions_by_case: dict[int, list[AgreedAction]] = {}
    for action in due_actions.filter(entry__case_id__in=shown_ids).select_related("who", "entry"):
        actions_by_case.setdefault(action.entry.case_id, []).append(action)
    tasks = (
        LadderTask.objects.open()
        .filter(actor=ACTOR_STUDENT_HEALTH, school=school, opened_on__lte=day, pupil__in=pupils)
        .select_related("pupil", "step", "assignee")
        .order_by("due", "pk")
    )
    task_page = _page(tasks, pages.tasks)
    shown_tasks = list(task_page.object_list)
    flag_page = _page(
        screening.riskzon(school.organiser_id, pupils, school=school).without_action, pages.flags
    )
    shown_flags = list(flag_page.object_list)
    named = {c.pupil_id for c in cases.values()} | {t.pupil_id for t in shown_tasks}
    named |= {r.pupil.pk for r in shown_flags}
    classes = dict(
        Placement.objects.active_on(day)
        .filter(pupil_id__in=named, school=school)
        .values_list("pupil_id", "school_class__name")
    )
    open_cases = {
        c.pupil_id: c
        for c in Case.objects.open().filter(pupil_id__in={t.pupil_id for t in shown_tasks})
    }
    items = [
        CaseItem(
            case=cases[pk],
            class_name=classes.get(cases[pk].pupil_id) or "",
            measures=list(cases[pk].due_measures),
            actions=actions_by_case.get(pk, []),
            last_minutes=next(iter(cases[pk].all_minutes), None),
        )
        for pk in shown_ids
        if pk in cases
    ]
    return Agenda(
        school=school,
        day=day,
        cases=items,
        flags=[FlagItem(row, classes.get(row.pupil.pk) or "") for row in shown_flags],
        tasks=[
            TaskItem(task, classes.get(task.pupil_id) or "", open_cases.get(task.pupil_id))
            for task in shown_tasks
        ],
        case_page=case_page,
        flag_page=flag_page,
        task_page=task_page,
        locked=health is HealthAccess.VERIFY,
    )


@dataclass(frozen=True)
class Agreed:
    """Who does what by when, as entered in the minutes."""

    who: Staff
    what: str
    due: dt.date


def writes_under_secrecy(staff: Staff, school_id: int) -> bool:
    """Whether this person writes as student-health staff under secrecy at the school."""
    return StaffRole.objects.filter(
        staff=staff, school_id=school_id, role__in=HEALTH_SECRECY_ROLES
    ).exists()


@transaction.atomic
def record_minutes(
    case: Case,
    *,
    day: dt.date,
    text: str,
    decision: str,
    agreed: Sequence[Agreed],
    done: Sequence[AgreedAction] = (),
    by: Staff,
) -> CaseEntry:
    """Keep the meeting's minutes on the case: one timeline entry, its agreed actions, and the
    earlier actions reported done at the meeting. Entries by counsellor, psychologist, nurse or
    doctor are restricted to the team and the principal (OSL 25 kap.)."""
    if not text.strip():
        raise ValidationError({"text": _("Write what the meeting said about the pupil.")})
    for item in agreed:
        if item.due < day:
            raise ValidationError(
                {"actions": _("An agreed action cannot be due before the meeting.")}
            )
    entry = CaseEntry.objects.create(
        case=case,
        kind=CaseEntry.Kind.EHT_MINUTES,
        written_by=by,
        occurred_on=day,
        text=text.strip(),
        decision=decision.strip(),
        health_restricted=writes_under_secrecy(by, case.school_id),
    )
    AgreedAction.objects.bulk_create(
        [AgreedAction(entry=entry, who=a.who, what=a.what, due=a.due) for a in agreed]
    )
    if done:
        AgreedAction.objects.filter(
            pk__in=[a.pk for a in done], entry__case=case, done_on__isnull=True
        ).update(done_on=day)
    if case.status == Case.Status.NEW:
        Case.objects.filter(pk=case.pk).update(status=Case.Status.ACTIVE, version=F("version") + 1)
    return entry


def cases_due_by_school(viewer: Viewer, school_ids: list[int], day: dt.date) -> dict[int, int]:
    """Per school, the cases with a follow-up due by `day`: the home card's figure (one query)."""
    rows = (
        followups.due_by(day)
        .filter(
            case__school_id__in=school_ids,
            case__pupil__in=pupils_visible_to(viewer, roles=AGENDA_ROLES),
        )
        .order_by()
        .values("case__school_id")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("case__school_id", "n")
    )
    return dict(rows)
