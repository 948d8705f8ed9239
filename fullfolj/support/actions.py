"""Writes to a pupil's support: opening a case, its entries, mappings, measures, decisions and
evaluations. Each action runs in one transaction and writes the timeline entry with the row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fullfolj.ladder.models import LadderTask
from fullfolj.lib import clock
from fullfolj.schools.models import Mentorship, Pupil, Role, School, Staff, StaffRole, Subject
from fullfolj.screening.models import Flag

from .models import Case, CaseEntry, Evaluation, Mapping, Measure


@dataclass(frozen=True)
class Change:
    """One field someone else changed after this person opened the form."""

    label: str
    was: str
    now: str


class EditConflict(Exception):
    """A save on top of someone else's: refused, with what they changed (never overwritten)."""

    def __init__(self, changes: list[Change], version: int, seen: dict[str, str]) -> None:
        super().__init__("edited by someone else")
        self.changes = changes
        self.version = version
        self.seen = seen  # the row as it is now, for the form to carry on the next try


def shown(row: models.Model, names: Iterable[str]) -> dict[str, str]:
    """The fields as a person sees them, to tell later what someone else changed."""
    result: dict[str, str] = {}
    for name in names:
        field = row._meta.get_field(name)
        if field.many_to_many:
            value = ", ".join(sorted(str(o) for o in getattr(row, name).all())) if row.pk else ""
        elif getattr(field, "choices", None):
            value = str(getattr(row, f"get_{name}_display")())
        else:
            raw = getattr(row, name)
            value = "" if raw is None else str(raw)
        result[name] = value
    return result


def _check_version(
    row: Case | Measure, locked: Case | Measure, version: int, seen: MappingType[str, str]
) -> None:
    """Refuse a save made on an older version, naming what changed since `seen`."""
    if locked.version == version:
        return
    now = shown(locked, seen)
    changes = [
        Change(
            str(getattr(locked._meta.get_field(name), "verbose_name", name)), seen[name], now[name]
        )
        for name in seen
        if seen[name] != now[name]
    ]
    raise EditConflict(changes, locked.version, now)


def _opening_text(source: str, reason: str) -> str:
    labels = {
        Case.Source.FLAG: _("Case opened from a screening flag."),
        Case.Source.LADDER: _("Case opened from a step of the absence ladder."),
        Case.Source.HAND: _("Case opened."),
    }
    text = labels[Case.Source(source)]
    return f"{text} {reason}".strip()


@transaction.atomic
def open_case(
    pupil: Pupil,
    *,
    school: School,
    responsible: Staff,
    by: Staff | None,
    flag: Flag | None = None,
    ladder_task: LadderTask | None = None,
    reason: str = "",
    participants: Iterable[Staff] = (),
) -> tuple[Case, bool]:
    """Open a case for the pupil, or join the one already open (a pupil has one open case).

    Returns the case and whether it was opened now. Joining adds an entry saying why.
    """
    source = Case.Source.FLAG if flag else Case.Source.LADDER if ladder_task else Case.Source.HAND
    if not reason and flag is not None:
        reason = flag.explanation
    if not reason and ladder_task is not None:
        reason = f"{ladder_task.step.name}: {ladder_task.reason}"
    today = clock.today()
    existing = Case.objects.select_for_update().filter(pupil=pupil).open().first()
    if existing is not None:
        joined = _("Joined the case: %(reason)s") % {"reason": reason or _("by hand")}
        CaseEntry.objects.create(
            case=existing,
            kind=CaseEntry.Kind.LADDER_STEP if ladder_task else CaseEntry.Kind.NOTE,
            written_by=by,
            occurred_on=today,
            text=joined,
            ladder_task=ladder_task,
        )
        if by is not None and by.pk != existing.responsible_id:
            existing.participants.add(by)
        return existing, False
    case = Case.objects.create(
        pupil=pupil,
        school=school,
        opened_from=source,
        flag=flag,
        ladder_task=ladder_task,
        reason=reason,
        responsible=responsible,
        opened_by=by,
        status=Case.Status.NEW,
    )
    members = {s.pk for s in participants} | ({by.pk} if by is not None else set())
    members.discard(responsible.pk)
    if members:
        case.participants.add(*members)
    CaseEntry.objects.create(
        case=case,
        kind=CaseEntry.Kind.LADDER_STEP if ladder_task else CaseEntry.Kind.STATUS,
        written_by=by,
        occurred_on=today,
        text=_opening_text(source, reason),
        ladder_task=ladder_task,
    )
    return case, True


@transaction.atomic
def open_case_with_adaptation(
    pupil: Pupil,
    *,
    school: School,
    responsible: Staff,
    by: Staff,
    title: str,
    description: str,
    start: dt.date,
    follow_up_on: dt.date,
    flag: Flag | None = None,
    ladder_task: LadderTask | None = None,
    restricted: bool = False,
) -> tuple[Case, Measure | None]:
    """The quick path from a flag: open (or join) the case and, if a title is given, write its
    first extra adaptation with a follow-up date, all or nothing."""
    case, _opened = open_case(
        pupil, school=school, responsible=responsible, by=by, flag=flag, ladder_task=ladder_task
    )
    if not title.strip():
        return case, None
    measure = add_measure(
        case,
        fields={
            "kind": Measure.Kind.EXTRA_ADAPTATION,
            "title": title,
            "description": description,
            "start": start,
            "follow_up_on": follow_up_on,
            "responsible": responsible,
        },
        by=by,
        restricted=restricted,
    )
    return case, measure


CASE_FIELDS = ("status", "responsible", "participants", "closed_reason")


@transaction.atomic
def update_case(
    case: Case,
    *,
    version: int,
    seen: MappingType[str, str],
    status: str,
    responsible: Staff,
    participants: Iterable[Staff],
    closed_reason: str,
    by: Staff,
) -> Case:
    """Change a case's status, responsible person or members; a save on top of someone else's
    is refused with what they changed. A case closes only when no measure is still active."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _check_version(case, locked, version, seen)
    if status == Case.Status.CLOSED and locked.measures.active().exists():
        raise ValidationError(
            {"status": _("Follow up and close the active measures before closing the case.")}
        )
    before = locked.get_status_display()
    was_closed = locked.status == Case.Status.CLOSED
    locked.status = status
    locked.responsible = responsible
    locked.closed_reason = closed_reason.strip() if status == Case.Status.CLOSED else ""
    if status == Case.Status.CLOSED and not was_closed:
        locked.closed_at = clock.now()
    elif status != Case.Status.CLOSED:
        locked.closed_at = None
    locked.version += 1
    locked.save()
    locked.participants.set([s for s in participants if s.pk != responsible.pk])
    if locked.get_status_display() != before:
        text = _("Status: %(before)s → %(after)s.") % {
            "before": before,
            "after": locked.get_status_display(),
        }
        if locked.closed_reason:
            text = f"{text} {locked.closed_reason}"
        CaseEntry.objects.create(
            case=locked,
            kind=CaseEntry.Kind.STATUS,
            written_by=by,
            occurred_on=clock.today(),
            text=text,
        )
    return locked


ENTRY_KINDS = (
    CaseEntry.Kind.NOTE,
    CaseEntry.Kind.GUARDIAN_CONTACT,
    CaseEntry.Kind.MEETING,
    CaseEntry.Kind.DECISION,
)


@transaction.atomic
def add_entry(
    case: Case,
    *,
    kind: str,
    occurred_on: dt.date | None,
    text: str,
    by: Staff,
    restricted: bool,
    decision: str = "",
) -> CaseEntry:
    """Write a note, a contact with the guardians, a meeting or a decision on the timeline."""
    errors: dict[str, str] = {}
    if kind not in CaseEntry.Kind.values:
        errors["kind"] = _("Choose what kind of entry this is.")
    if occurred_on is None:
        errors["occurred_on"] = _("Give the date.")
    elif occurred_on > clock.today():
        errors["occurred_on"] = _("The date cannot be in the future.")
    if not text.strip():
        errors["text"] = _("Write what happened.")
    if errors or occurred_on is None:
        raise ValidationError(errors)
    entry = CaseEntry.objects.create(
        case=case,
        kind=kind,
        written_by=by,
        occurred_on=occurred_on,
        text=text.strip(),
        decision=decision.strip(),
        health_restricted=restricted,
    )
    _activate(case)
    return entry


def _activate(case: Case) -> None:
    """Work on a new case makes it active."""
    if case.status == Case.Status.NEW:
        Case.objects.filter(pk=case.pk, status=Case.Status.NEW).update(
            status=Case.Status.ACTIVE, version=models.F("version") + 1
        )
        case.refresh_from_db(fields=["status", "version"])


@transaction.atomic
def write_mapping(
    case: Case,
    *,
    sections: MappingType[str, str],
    prefill: dict[str, Any],
    written_on: dt.date,
    by: Staff,
    restricted: bool,
) -> Mapping:
    """Save a mapping with what the system knew when it was written."""
    mapping = Mapping(case=case, written_by=by, written_on=written_on, prefill=prefill)
    for name in Mapping.SECTIONS:
        setattr(mapping, name, (sections.get(name) or "").strip())
    mapping.save()
    CaseEntry.objects.create(
        case=case,
        kind=CaseEntry.Kind.MAPPING,
        written_by=by,
        occurred_on=written_on,
        text=_("Mapping written."),
        mapping=mapping,
        health_restricted=restricted,
    )
    _activate(case)
    return mapping


MEASURE_FIELDS = (
    "title",
    "description",
    "start",
    "responsible",
    "follow_up_on",
    "needs",
    "planned_measures",
    "evaluation_on",
    "period_end",
    "subjects",
)


def _join(case: Case, staff_id: int | None) -> None:
    """The person responsible for a measure works on the case, so they read it (the gate)."""
    if staff_id is not None and staff_id != case.responsible_id:
        case.participants.add(staff_id)


def _describe(measure: Measure) -> str:
    parts = [f"{str(measure.get_kind_display()).capitalize()}: {measure.title}"]
    if measure.follow_up_on:
        parts.append(_("follow-up %(date)s") % {"date": measure.follow_up_on.isoformat()})
    return ", ".join(parts)


@transaction.atomic
def add_measure(
    case: Case,
    *,
    fields: MappingType[str, Any],
    by: Staff,
    restricted: bool = False,
    subjects: Iterable[Subject] = (),
) -> Measure:
    """Start a measure on the case; the timeline says what, who and when it is followed up."""
    measure = Measure(case=case, created_by=by, **fields)
    measure.save()
    if subjects:
        measure.subjects.set(subjects)
    _join(case, measure.responsible_id)
    CaseEntry.objects.create(
        case=case,
        kind=CaseEntry.Kind.MEASURE,
        written_by=by,
        occurred_on=min(measure.start, clock.today()),
        text=_describe(measure),
        measure=measure,
        health_restricted=restricted,
    )
    _activate(case)
    return measure


@transaction.atomic
def update_measure(
    measure: Measure,
    *,
    version: int,
    seen: MappingType[str, str],
    fields: MappingType[str, Any],
    by: Staff,
    subjects: Iterable[Subject] | None = None,
) -> Measure:
    """Change a measure; a save on top of someone else's is refused with what they changed."""
    locked = Measure.objects.select_for_update().get(pk=measure.pk)
    _check_version(measure, locked, version, seen)
    if not locked.is_active:
        raise ValidationError(_("This measure is closed; start a new one instead."))
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.version += 1
    locked.save()
    if subjects is not None:
        locked.subjects.set(subjects)
    _join(locked.case, locked.responsible_id)
    return locked


@transaction.atomic
def decide(
    measure: Measure,
    *,
    version: int,
    seen: MappingType[str, str],
    decision: str,
    decided_on: dt.date | None,
    appeal_text: str,
    by: Staff,
) -> Measure:
    """The principal's decision on a measure, dated, with how to appeal; on the timeline."""
    locked = Measure.objects.select_for_update().get(pk=measure.pk)
    _check_version(measure, locked, version, seen)
    if not decision:
        raise ValidationError({"decision": _("Choose the decision.")})
    locked.decision = decision
    locked.decided_on = decided_on
    locked.decided_by = by
    locked.appeal_text = appeal_text.strip()
    locked.version += 1
    locked.save()
    CaseEntry.objects.create(
        case=locked.case,
        kind=CaseEntry.Kind.DECISION,
        written_by=by,
        occurred_on=decided_on or clock.today(),
        text=f"{locked.get_kind_display()}: {locked.get_decision_display()}",
        measure=locked,
    )
    return locked


@transaction.atomic
def evaluate(
    measure: Measure,
    *,
    judgement: str,
    text: str,
    evaluated_on: dt.date | None,
    figures: dict[str, Any],
    by: Staff,
    close: bool,
    next_follow_up: dt.date | None = None,
    restricted: bool = False,
) -> Evaluation:
    """Evaluate a measure at its follow-up: close it, or carry on to the next follow-up date.

    A measure is never closed without an evaluation: closing is part of this action.
    """
    locked = Measure.objects.select_for_update().get(pk=measure.pk)
    if not locked.is_active:
        raise ValidationError(_("This measure is already closed."))
    errors: dict[str, str] = {}
    if evaluated_on is None:
        errors["evaluated_on"] = _("Give the date of the evaluation.")
        evaluated_on = clock.today()  # checked with the rest, never saved
    elif evaluated_on > clock.today():
        errors["evaluated_on"] = _("The date cannot be in the future.")
    if not close and next_follow_up is None:
        errors["next_follow_up"] = _(
            "Give the next follow-up date, or close the measure with this evaluation."
        )
    elif (
        not close and next_follow_up is not None and evaluated_on and next_follow_up <= evaluated_on
    ):
        errors["next_follow_up"] = _("The next follow-up must come after this evaluation.")
    evaluation = Evaluation(
        measure=locked,
        judgement=judgement,
        text=(text or "").strip(),
        evaluated_on=evaluated_on,
        by=by,
        figures=figures,
    )
    try:
        evaluation.full_clean()
    except ValidationError as error:
        errors = {**{k: " ".join(v) for k, v in error.message_dict.items()}, **errors}
    if errors:
        raise ValidationError(errors)
    evaluation.save()
    if close:
        locked.status = Measure.Status.CLOSED
        locked.closed_at, locked.closed_by = clock.now(), by
    else:
        locked.follow_up_on = next_follow_up
    locked.version += 1
    locked.save()
    words = _("Evaluated: %(judgement)s.") % {"judgement": evaluation.get_judgement_display()}
    if close:
        words = f"{words} {_('The measure is closed.')}"
    CaseEntry.objects.create(
        case=locked.case,
        kind=CaseEntry.Kind.EVALUATION,
        written_by=by,
        occurred_on=evaluation.evaluated_on,
        text=f"{locked.title}. {words}",
        measure=locked,
        evaluation=evaluation,
        health_restricted=restricted,
    )
    return evaluation


def investigation_tasks_opened(day: dt.date, tasks: list[LadderTask]) -> list[Case]:
    """A ladder step for the student-health team (the investigation, utredning) opens or joins
    the pupil's case, once per task (docs/support.md).

    Set-based, as the ladder's evaluation is: a handful of statements whatever the number of
    tasks, inside the evaluation's transaction.
    """
    wanted = {(t.pupil_id, t.step_id) for t in tasks if t.actor == "student_health"}
    if not wanted:
        return []
    saved = [
        task
        for task in LadderTask.objects.filter(
            opened_on=day,
            actor="student_health",
            school__isnull=False,
            pupil_id__in={pupil for pupil, _step in wanted},
        )
        .exclude(pk__in=CaseEntry.objects.filter(ladder_task__opened_on=day).values("ladder_task"))
        .select_related("step")
        .order_by("pk")
        if (task.pupil_id, task.step_id) in wanted
    ]
    if not saved:
        return []
    pupils = {task.pupil_id for task in saved}
    open_cases = {c.pupil_id: c for c in Case.objects.open().filter(pupil_id__in=pupils)}
    mentors: dict[int, int] = {}
    for pupil, mentor in (
        Mentorship.objects.active_on(day)
        .filter(pupil_id__in=pupils)
        .order_by("pupil_id", "-start", "pk")
        .values_list("pupil_id", "mentor_id")
    ):
        mentors.setdefault(pupil, mentor)
    principals: dict[int, int] = {}
    for school, staff in (
        StaffRole.objects.filter(role=Role.PRINCIPAL, school_id__in={t.school_id for t in saved})
        .order_by("school_id", "pk")
        .values_list("school_id", "staff_id")
    ):
        principals.setdefault(school, staff)
    now = clock.now()
    with translation.override(settings.LANGUAGE_CODE):  # the timeline keeps it as written
        new_cases: dict[int, Case] = {}
        joining: list[LadderTask] = []
        for task in saved:
            school_id = task.school_id
            if school_id is None:  # not asked for; the type checker cannot know
                continue
            reason = f"{task.step.name}: {task.reason}"
            responsible = mentors.get(task.pupil_id) or principals.get(school_id)
            if task.pupil_id in open_cases or task.pupil_id in new_cases:
                joining.append(task)
            elif responsible is not None:
                new_cases[task.pupil_id] = Case(
                    pupil_id=task.pupil_id,
                    school_id=school_id,
                    opened_from=Case.Source.LADDER,
                    ladder_task=task,
                    reason=reason,
                    responsible_id=responsible,
                    status=Case.Status.NEW,
                    opened_at=now,
                )
        Case.objects.bulk_create(new_cases.values())
        entries = [
            CaseEntry(
                case=case,
                kind=CaseEntry.Kind.LADDER_STEP,
                occurred_on=day,
                written_at=now,
                text=_opening_text(Case.Source.LADDER, case.reason),
                ladder_task=case.ladder_task,
            )
            for case in new_cases.values()
        ]
        cases = {**open_cases, **new_cases}
        entries += [
            CaseEntry(
                case=cases[task.pupil_id],
                kind=CaseEntry.Kind.LADDER_STEP,
                occurred_on=day,
                written_at=now,
                text=_("Joined the case: %(reason)s")
                % {"reason": f"{task.step.name}: {task.reason}"},
                ladder_task=task,
            )
            for task in joining
        ]
        CaseEntry.objects.bulk_create(entries)
    return list(new_cases.values())


class InvestigationListener:
    """Hears of the ladder's new tasks (fullfolj.ladder.hooks)."""

    def opened(self, day: dt.date, tasks: list[LadderTask]) -> None:
        investigation_tasks_opened(day, tasks)
