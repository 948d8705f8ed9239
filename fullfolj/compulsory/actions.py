"""Writes of the oversight: a check that opens a case per finding, and the steps of a case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Pupil, School, Staff

from . import queries
from .models import Check, OversightCase, OversightRules, ReportedPlacement, Resident, Step

# The first step of a new case, by finding.
FIRST_STEP = {
    OversightCase.Kind.NO_SCHOOL: Step.Kind.CONTACT_GUARDIANS,
    OversightCase.Kind.ENDED: Step.Kind.CONTACT_GUARDIANS,
    OversightCase.Kind.MOVED_IN: Step.Kind.CONTACT_GUARDIANS,
    OversightCase.Kind.TWO_PLACEMENTS: Step.Kind.CONTACT_SCHOOL,
    OversightCase.Kind.ELSEWHERE: Step.Kind.CONTACT_SCHOOL,
    OversightCase.Kind.MOVED_OUT: Step.Kind.CONTACT_SCHOOL,
    OversightCase.Kind.LONG_ABSENCE: Step.Kind.REPORT_PRINCIPAL,
}


def _facts(row: dict[str, Any], schools: dict[str, str]) -> dict[str, str]:
    """A finding's details as the match gave them, dates as ISO text and schools by name and
    unit code (OversightCase.detail)."""
    facts = {
        key: value.isoformat() if isinstance(value, dt.date) else str(value)
        for key, value in row.items()
        if key != "pnr" and value is not None
    }
    if "school" in facts:
        facts["school"] = ", ".join(
            f"{schools[code]} ({code})" if schools.get(code) else code
            for code in facts["school"].split(", ")
        )
    return facts


@transaction.atomic
def run_check(organiser: Organiser, *, day: dt.date, by: Staff | None) -> Check:
    """Match the register against every placement for `day` and open a case for each finding
    that has none: a child's case of the same kind open, or closed since the rules' window for
    moves began, is not opened again (7 kap. 21-22 §§; docs/compulsory.md)."""
    rules = OversightRules.of(organiser)
    found = queries.match(organiser, day)
    check = Check.objects.create(
        organiser=organiser,
        day=day,
        by=by,
        checked=found.checked,
        counts={kind: frame.height for kind, frame in found.lists.items()},
    )
    wanted = {pnr for frame in found.lists.values() for pnr in frame["pnr"].to_list()}
    since = day - dt.timedelta(days=rules.moved_days)
    held = set(
        OversightCase.objects.filter(organiser=organiser, personnummer__in=wanted)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=since))
        .values_list("kind", "personnummer")
    )
    names: dict[str, tuple[str, str, bool]] = {
        r.personnummer: (r.first_name, r.last_name, r.protected_identity)
        for r in Resident.objects.filter(organiser=organiser, personnummer__in=wanted)
    }
    pupils = {p.personnummer: p for p in Pupil.objects.filter(personnummer__in=wanted)}
    for p in pupils.values():
        names.setdefault(p.personnummer, (p.first_name, p.last_name, p.protected_identity))
    for r in ReportedPlacement.objects.filter(municipality=organiser, personnummer__in=wanted):
        names.setdefault(r.personnummer, (r.first_name, r.last_name, False))
    schools = dict(
        ReportedPlacement.objects.filter(municipality=organiser)
        .exclude(school_name="")
        .values_list("school_unit_code", "school_name")
    )
    schools.update(School.objects.values_list("unit_code", "name"))
    today = clock.today()
    for kind, frame in found.lists.items():
        for row in frame.iter_rows(named=True):
            pnr = row["pnr"]
            if (kind, pnr) in held:
                continue
            first, last, protected = names.get(pnr, ("", "", False))
            pupil = pupils.get(pnr)
            case = OversightCase.objects.create(
                organiser=organiser,
                kind=kind,
                personnummer=pnr,
                first_name=first,
                last_name=last,
                protected_identity=protected or bool(pupil and pupil.protected_identity),
                pupil=pupil,
                facts=_facts(row, schools),
                check_run=check,
                opened_on=today,
            )
            Step.objects.create(
                case=case,
                kind=FIRST_STEP[OversightCase.Kind(kind)],
                due=today + dt.timedelta(days=rules.step_days),
            )
    return check


@transaction.atomic
def open_long_absence_case(
    organiser: Organiser, pupil: Pupil, *, by: Staff | None
) -> OversightCase:
    """The officer takes up a pupil whose absence stayed long above the level (7 kap. 22 §)."""
    existing = (
        OversightCase.objects.open()
        .filter(
            organiser=organiser,
            kind=OversightCase.Kind.LONG_ABSENCE,
            personnummer=pupil.personnummer,
        )
        .first()
    )
    if existing:
        return existing
    today = clock.today()
    rules = OversightRules.of(organiser)
    case = OversightCase.objects.create(
        organiser=organiser,
        kind=OversightCase.Kind.LONG_ABSENCE,
        personnummer=pupil.personnummer,
        first_name=pupil.first_name,
        last_name=pupil.last_name,
        protected_identity=pupil.protected_identity,
        pupil=pupil,
        opened_on=today,
    )
    Step.objects.create(
        case=case,
        kind=FIRST_STEP[OversightCase.Kind.LONG_ABSENCE],
        due=today + dt.timedelta(days=rules.step_days),
        added_by=by,
    )
    return case


def add_step(
    case: OversightCase, *, kind: str, due: dt.date, note: str = "", by: Staff | None
) -> Step:
    """A new step with its deadline; a closed case takes no more steps."""
    if not case.is_open:
        raise ValidationError(_("The case is closed."))
    return Step.objects.create(case=case, kind=kind, due=due, note=note, added_by=by)


def complete_step(step: Step, *, on: dt.date, note: str = "", by: Staff | None) -> Step:
    """Mark a step done on a day, with what was done."""
    if step.done_on is not None:
        raise ValidationError(_("The step is already done."))
    if on < step.case.opened_on:
        raise ValidationError({"on": _("The day is before the case was opened.")})
    step.done_on, step.done_by = on, by
    if note:
        step.note = f"{step.note}\n{note}".strip()
    step.save(update_fields=["done_on", "done_by", "note"])
    return step


@transaction.atomic
def close_case(
    case: OversightCase, *, reason: str, on: dt.date, note: str = "", by: Staff | None
) -> OversightCase:
    """Close a case with its reason; steps not done are left as they were, unfinished."""
    if not case.is_open:
        raise ValidationError(_("The case is already closed."))
    if on < case.opened_on:
        raise ValidationError({"on": _("The day is before the case was opened.")})
    case.closed_on, case.reason, case.closing_note = on, reason, note
    case.save(update_fields=["closed_on", "reason", "closing_note"])
    return case
