"""Reads of a pupil's support shaped for pages: the case timeline, what a mapping is prefilled
with, the figures an evaluation starts from, the pupil record's section."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Subquery

from fullfolj.access import gate
from fullfolj.access.gate import Viewer
from fullfolj.attendance.queries import absence_by_pupil
from fullfolj.grades.models import PASSING_GRADES, Grade, GradeWarning
from fullfolj.ladder.models import LadderTask
from fullfolj.lib import clock
from fullfolj.schools.models import Pupil, SchoolYear
from fullfolj.screening.models import Flag, ScreeningRun

from .models import Case, CaseEntry, Measure, MeasureQuerySet

WEEKS_AROUND_START = 4  # the evaluation compares this many weeks before and after the start


def active_adaptations(pupil_ids: list[int], day: dt.date) -> dict[int, list[str]]:
    """Each pupil's extra adaptations active on `day`, for the register and the group page."""
    rows = (
        Measure.objects.active()
        .filter(kind=Measure.Kind.EXTRA_ADAPTATION, case__pupil_id__in=pupil_ids, start__lte=day)
        .filter(Q(period_end__isnull=True) | Q(period_end__gte=day))
        .order_by("start", "pk")
        .values_list("case__pupil_id", "title")
    )
    result: dict[int, list[str]] = {}
    for pupil_id, title in rows:
        result.setdefault(pupil_id, []).append(title)
    return result


def clean_slate_start(today: dt.date) -> dt.date:
    """The first day a case shows by default: the start of last school year ("clean slate":
    this year and last; older entries are one click away)."""
    years = list(SchoolYear.objects.filter(start__lte=today).order_by("-start")[:2])
    if len(years) == 2:
        return years[1].start
    if years:  # last year not on record: the same day a year earlier
        return years[0].start.replace(year=years[0].start.year - 1)
    return dt.date(today.year - (2 if today.month < 8 else 1), 8, 1)


@dataclass
class TimelineItem:
    """One line of the case's timeline: a case entry, or a ladder step and how it was closed."""

    on: dt.date
    kind: str
    text: str
    by: str
    restricted: bool = False
    # Guarded by a second factor this login has not given: the item shows, its content not.
    locked: bool = False
    entry: CaseEntry | None = None
    task: LadderTask | None = None
    records: list[str] = field(default_factory=list)


@dataclass
class Timeline:
    items: list[TimelineItem]
    since: dt.date | None  # None: everything is shown
    older: int  # items before `since`, one click away


def timeline(case: Case, viewer: Viewer, *, everything: bool = False) -> Timeline:
    """The case's one timeline, newest first: its entries and the pupil's ladder steps.

    Entries under health secrecy are left out for those who may not read them, and shown
    without their content to those who may once they give a second factor; the ladder's
    student-health documentation likewise shows only that it was done.
    """
    since = None if everything else clean_slate_start(clock.today())
    entries: QuerySet[CaseEntry] = case.entries.select_related(
        "written_by", "measure"
    ).prefetch_related("actions__who")
    health = gate.health_entries_access(viewer, case)
    if health is gate.HealthAccess.NONE:
        entries = entries.filter(health_restricted=False)
    locked = health is gate.HealthAccess.VERIFY
    tasks = LadderTask.objects.filter(pupil_id=case.pupil_id, opened_on__gte=case.opened_at.date())
    tasks = tasks.select_related("step", "assignee").prefetch_related("records")
    items = [
        TimelineItem(
            on=e.occurred_on,
            kind=e.get_kind_display(),
            text="" if locked and e.health_restricted else e.text,
            by=e.written_by.full_name if e.written_by else "",
            restricted=e.health_restricted,
            locked=locked and e.health_restricted,
            entry=e,
        )
        for e in entries
    ]
    for task in tasks:
        access = gate.task_records_access(viewer, task)
        readable = access is gate.HealthAccess.READ
        records = [
            f"{r.date.isoformat()} {r.get_kind_display()}" + (f": {r.text}" if readable else "")
            for r in task.records.all()
        ]
        items.append(
            TimelineItem(
                on=task.opened_on,
                kind=str(CaseEntry.Kind.LADDER_STEP.label),
                text=f"{task.step.order}. {task.step.name}: {task.reason}",
                by=task.assignee.full_name if task.assignee else task.get_actor_display(),
                task=task,
                records=records,
                locked=access is gate.HealthAccess.VERIFY and bool(records),
            )
        )
    items.sort(key=lambda item: (item.on, item.entry.pk if item.entry else 0), reverse=True)
    if since is None:
        return Timeline(items, None, 0)
    shown = [item for item in items if item.on >= since]
    return Timeline(shown, since, len(items) - len(shown))


def cases_of(pupil: Pupil, viewer: Viewer) -> list[Case]:
    """The pupil's cases this viewer may read, the open one first."""
    cases = gate.cases_visible_to(viewer, Case.objects.filter(pupil=pupil))
    return sorted(
        cases.select_related("responsible", "school").prefetch_related(
            Prefetch("measures", queryset=Measure.objects.order_by("-start", "-pk"))
        ),
        key=lambda c: (not c.is_open, -c.opened_at.timestamp()),
    )


def for_pupil(pupil: Pupil, viewer: Viewer) -> dict[str, object] | None:
    """The pupil record's support section: cases and their measures, and the way to open one
    (from the latest screening flag, where there is one)."""
    may_open = gate.may_open_case(viewer, pupil)
    cases = cases_of(pupil, viewer)
    if not may_open and not cases:
        return None
    may_open = may_open and not any(c.is_open for c in cases)
    return {
        "pupil": pupil,
        "cases": cases,
        "may_open": may_open,
        "flags": latest_flags(pupil) if may_open else [],
        "today": clock.today(),
    }


def latest_flags(pupil: Pupil) -> list[Flag]:
    """The pupil's flags in their organiser's latest finished screening, in one read."""
    latest = (
        ScreeningRun.objects.filter(organiser_id=pupil.organiser_id, finished_at__isnull=False)
        .order_by("-as_of", "-started_at", "-pk")
        .values("pk")[:1]
    )
    flags = list(
        Flag.objects.filter(pupil=pupil, run_id=Subquery(latest))
        .select_related("rule")
        .order_by("rule_code")
    )
    for flag in flags:
        flag.rule_name = flag.rule.name if flag.rule else flag.rule_code  # type: ignore[attr-defined]
    return flags


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def attendance_pattern(pupil: Pupil, today: dt.date) -> dict[str, Any]:
    """Absence this term and the last four weeks, as the mapping keeps it."""
    from fullfolj.schools.calendar import term_and_recent_windows

    windows = term_and_recent_windows(today)
    absence = absence_by_pupil([pupil.pk], windows)[pupil.pk]
    return {
        name: {
            "from": windows[name][0].isoformat(),
            "to": windows[name][1].isoformat(),
            "total": _percent(absence[name].total_rate),
            "invalid": _percent(absence[name].invalid_rate),
        }
        for name in windows
    }


def mapping_prefill(case: Case) -> dict[str, Any]:
    """What the system knows, for the mapping: attendance pattern, grades of the latest term,
    warnings of F, and earlier measures with how they went."""
    today = clock.today()
    pupil = case.pupil
    grades = list(
        Grade.objects.filter(pupil=pupil).select_related("subject", "term").order_by("-term__start")
    )
    latest = grades[0].term_id if grades else None
    warnings = GradeWarning.objects.filter(pupil=pupil).select_related("subject").order_by("-date")
    measures = (
        Measure.objects.filter(case__pupil=pupil)
        .prefetch_related("evaluations")
        .order_by("-start", "-pk")
    )
    return {
        "as_of": today.isoformat(),
        "attendance": attendance_pattern(pupil, today),
        "grades": [
            {"subject": g.subject.name, "grade": g.grade} for g in grades if g.term_id == latest
        ],
        "warnings": [
            {"subject": w.subject.name, "date": w.date.isoformat()} for w in warnings[:20]
        ],
        "measures": [
            {
                "kind": m.get_kind_display(),
                "title": m.title,
                "start": m.start.isoformat(),
                "status": m.get_status_display(),
                "judgement": (
                    m.evaluations.all()[0].get_judgement_display() if m.evaluations.all() else ""
                ),
            }
            for m in measures[:20]
        ],
    }


def _passed(
    pupil_id: int, before: dt.date | None = None, after: dt.date | None = None
) -> dict[str, Any] | None:
    """Passed subjects in the latest term with grades that ended before `before`, or the latest
    term ending after `after`."""
    grades = Grade.objects.filter(pupil_id=pupil_id).select_related("term")
    if before is not None:
        grades = grades.filter(term__end__lt=before)
    if after is not None:
        grades = grades.filter(term__end__gte=after)
    rows = list(grades.order_by("-term__end"))
    if not rows:
        return None
    term = rows[0].term
    of_term = [g for g in rows if g.term_id == term.pk]
    return {
        "term": str(term),
        "passed": sum(1 for g in of_term if g.grade in PASSING_GRADES),
        "subjects": len(of_term),
    }


def figures_around(measure: Measure, today: dt.date | None = None) -> dict[str, Any]:
    """Attendance and passed subjects in the weeks before and after the measure started, so an
    evaluation starts from figures (docs/support.md)."""
    today = today or clock.today()
    span = dt.timedelta(weeks=WEEKS_AROUND_START)
    start = measure.start
    before = (start - span, start - dt.timedelta(days=1))
    after_end = min(start + span - dt.timedelta(days=1), today)
    windows = {"before": before}
    if after_end >= start:
        windows["after"] = (start, after_end)
    pupil_id = measure.case.pupil_id
    absence = absence_by_pupil([pupil_id], windows)[pupil_id]
    warnings = GradeWarning.objects.filter(pupil_id=pupil_id)
    result: dict[str, Any] = {"weeks": WEEKS_AROUND_START}
    for name, (first, last) in windows.items():
        result[name] = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "total": _percent(absence[name].total_rate),
            "invalid": _percent(absence[name].invalid_rate),
            "warnings": warnings.filter(date__gte=first, date__lte=last).count(),
        }
    if "after" not in result:
        result["after"] = None
    result["passed_before"] = _passed(pupil_id, before=start)
    result["passed_after"] = _passed(pupil_id, after=start)
    return result


def overdue_measures(measures: MeasureQuerySet, today: dt.date) -> MeasureQuerySet:
    """Active measures past their follow-up date, the oldest first."""
    return (
        measures.overdue(today)
        .select_related("case__pupil", "responsible")
        .order_by("follow_up_on", "pk")
    )
