"""Importing the population-register extract and other organisers' placement lists, all or
nothing, with the exchange app's reader and its report of bad rows (docs/compulsory.md).

Each file is the whole list as of its day: a register extract replaces the municipality's
register, a placement list replaces what the organisers it names reported before. Importing
the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fullfolj.exchange.tabular import reader as r
from fullfolj.exchange.tabular.common import (
    Cells,
    Column,
    Problem,
    Rejected,
    Result,
    find_columns,
)
from fullfolj.lib import clock, personnummer
from fullfolj.schools.models import Organiser, Pupil, School

from .models import ReportedPlacement, Resident

_TEN_DIGITS = re.compile(r"^(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})$")


def read_personnummer(value: Any) -> str:
    """A personnummer or samordningsnummer, twelve digits or ten (the register service's
    short form: the century is the latest that puts the birth in the past, a '+' adds one
    hundred years), with its check digit checked; normalised to ÅÅÅÅMMDD-NNNN."""
    raw = r.text(value).replace(" ", "")
    short = _TEN_DIGITS.match(raw)
    if short:
        yy, mm, dd, sign, rest = short.groups()
        today = clock.today()
        year = today.year // 100 * 100 + int(yy)
        if year > today.year:
            year -= 100
        if sign == "+":
            year -= 100
        raw = f"{year}{mm}{dd}-{rest}"
    try:
        return personnummer.parse(raw).normalized
    except personnummer.InvalidPersonnummer as error:
        raise r.BadValue(str(error)) from None


def _municipality(organiser: Organiser | None) -> Organiser:
    """The importing municipality: the one given, or the only one in the database."""
    if organiser is not None:
        found = organiser
    else:
        candidates = list(Organiser.objects.filter(kind=Organiser.Kind.MUNICIPALITY)[:2])
        if len(candidates) != 1:
            raise r.FileRejected(_("Name the municipality that imports the file (--organiser)."))
        found = candidates[0]
    if not re.fullmatch(r"\d{4}", found.municipality_code or ""):
        raise r.FileRejected(
            _("%(organiser)s has no municipality code; set it in the admin first.")
            % {"organiser": found.name}
        )
    return found


def _code(value: Any) -> str:
    raw = r.text(value)
    if not re.fullmatch(r"\d{1,4}", raw):
        raise r.BadValue(_("“%(value)s” is not a municipality code such as 1486.") % {"value": raw})
    return raw.zfill(4)  # a workbook keeps 0180 as the number 180


class _DryRun(Exception):
    pass


def _run(write: Callable[[Result], None], dry_run: bool) -> Result:
    result = Result()
    try:
        with transaction.atomic():
            write(result)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _rows(
    raw: bytes, name: str, columns: tuple[Column, ...]
) -> tuple[dict[str, Column], Iterable[r.Row]]:
    headers, rows = r.read(raw, name)
    return find_columns(headers, columns), rows


# --- the register -------------------------------------------------------------------------

REGISTER_COLUMNS = (
    Column("pnr", ("personnummer", "personal identity number", "pnr")),
    Column("first", ("förnamn", "tilltalsnamn", "first name")),
    Column("last", ("efternamn", "last name")),
    Column(
        "code",
        ("folkbokföringskommun", "kommunkod", "kommun", "registered municipality"),
    ),
    Column("moved_in", ("inflyttningsdatum", "inflyttad", "moved in"), required=False),
    Column("moved_out", ("utflyttningsdatum", "utflyttad", "moved out"), required=False),
    Column(
        "protected",
        ("skyddad folkbokföring", "sekretessmarkering", "skyddad identitet", "protected identity"),
        required=False,
    ),
    Column("address", ("adress", "folkbokföringsadress", "address"), required=False),
)

_RESIDENT_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "municipality_code",
    "moved_in",
    "moved_out",
    "protected_identity",
    "address",
)


def import_register(
    raw: bytes, *, name: str = "", dry_run: bool = False, organiser: Organiser | None = None
) -> Result:
    """Import a population-register extract: every row checked first, then the municipality's
    register replaced in one transaction. Raises FileRejected or Rejected; nothing written."""
    municipality = _municipality(organiser)
    columns, rows = _rows(raw, name, REGISTER_COLUMNS)
    problems: list[Problem] = []
    plans: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    for raw_row in rows:
        row = Cells(raw_row, columns, problems)
        pnr = row.get("pnr", read_personnummer)
        first, last = row.get("first"), row.get("last")
        code = row.get("code", _code)
        moved_in = row.get("moved_in", r.date)
        moved_out = row.get("moved_out", r.date)
        protected = bool(row.get("protected", r.yes_no))
        address = row.get("address") or ""
        if moved_in and moved_out and moved_out < moved_in:
            row.fail("moved_out", _("The move out is before the move in."))
        for key, value, limit in (
            ("first", first, 100),
            ("last", last, 100),
            ("address", address, 200),
        ):
            if value and len(value) > limit:
                row.fail(key, _("is longer than %(limit)s characters.") % {"limit": limit})
        if pnr and pnr in lines:
            row.fail("pnr", _("The child is also on line %(line)s.") % {"line": lines[pnr]})
        if pnr:
            lines.setdefault(pnr, row.line)
        if row.ok:
            plans[pnr] = {
                "first_name": first,
                "last_name": last,
                "birth_date": personnummer.parse(pnr).birth_date,
                "municipality_code": code,
                "moved_in": moved_in,
                "moved_out": moved_out,
                "protected_identity": protected,
                "address": "" if protected else address,
            }
    if problems:
        raise Rejected(problems)

    def write(result: Result) -> None:
        result.rows = len(plans)
        held = {row.personnummer: row for row in Resident.objects.filter(organiser=municipality)}
        created, changed = [], []
        for pnr, values in plans.items():
            found = held.pop(pnr, None)
            if found is None:
                created.append(Resident(organiser=municipality, personnummer=pnr, **values))
                continue
            if all(getattr(found, key) == values[key] for key in _RESIDENT_FIELDS):
                result.unchanged += 1
                continue
            for key in _RESIDENT_FIELDS:
                setattr(found, key, values[key])
            changed.append(found)
        Resident.objects.bulk_create(created, batch_size=2000)
        Resident.objects.bulk_update(changed, list(_RESIDENT_FIELDS), batch_size=2000)
        Resident.objects.filter(pk__in=[row.pk for row in held.values()]).delete()
        result.created, result.changed = len(created), len(changed)
        result.lines.append(_("%(count)s no longer in the extract removed.") % {"count": len(held)})
        moved = _update_residence(
            municipality, {pnr: v["municipality_code"] for pnr, v in plans.items()}
        )
        if moved:
            result.lines.append(
                ngettext(
                    "%(count)s pupil in our records given their registered municipality.",
                    "%(count)s pupils in our records given their registered municipality.",
                    moved,
                )
                % {"count": moved}
            )

    return _run(write, dry_run)


def _update_residence(municipality: Organiser, codes: dict[str, str]) -> int:
    """Our pupil records' municipality of residence as the extract has it, in the import's
    transaction: a child registered here lives here; a child registered elsewhere whom our
    records put here lives in the municipality with that code when we hold it, else in none
    we hold (empty). The extract says nothing of children it does not list, so they are left
    as they are. Returns how many records changed."""
    by_code = dict(
        Organiser.objects.filter(kind=Organiser.Kind.MUNICIPALITY)
        .exclude(municipality_code="")
        .values_list("municipality_code", "pk")
    )
    home = municipality.pk
    changed = []
    numbers = list(codes)
    pupils = (
        pupil
        for i in range(0, len(numbers), 5000)  # within SQLite's limit of parameters
        for pupil in Pupil.objects.filter(personnummer__in=numbers[i : i + 5000]).only(
            "pk", "personnummer", "municipality_of_residence"
        )
    )
    for pupil in pupils:
        code = codes[pupil.personnummer]
        if code == municipality.municipality_code:
            target: int | None = home
        elif pupil.municipality_of_residence_id == home:
            target = by_code.get(code)
        else:
            continue  # registered elsewhere and not ours in our records: nothing to say
        if pupil.municipality_of_residence_id != target:
            pupil.municipality_of_residence_id = target
            changed.append(pupil)
    Pupil.objects.bulk_update(changed, ["municipality_of_residence"], batch_size=2000)
    return len(changed)


# --- placements reported by other organisers ------------------------------------------------

PLACEMENT_COLUMNS = (
    Column("pnr", ("personnummer", "personal identity number", "pnr")),
    Column("first", ("förnamn", "first name"), required=False),
    Column("last", ("efternamn", "last name"), required=False),
    Column("organiser", ("huvudman", "organiser")),
    Column("school", ("skolenhetskod", "school-unit code")),
    Column("school_name", ("skola", "skolenhet", "school"), required=False),
    Column("start", ("startdatum", "placerad från", "start")),
    Column("end", ("slutdatum", "placerad till", "end"), required=False),
)


@dataclass
class _PlacementPlan:
    reporter: Organiser
    values: dict[str, Any]


def import_placements(
    raw: bytes, *, name: str = "", dry_run: bool = False, organiser: Organiser | None = None
) -> Result:
    """Import a placement list from independent schools or other municipalities: every row
    checked first, then what each named organiser reported before replaced by this list."""
    municipality = _municipality(organiser)
    columns, rows = _rows(raw, name, PLACEMENT_COLUMNS)
    known = {o.name.casefold(): o for o in Organiser.objects.exclude(pk=municipality.pk)}
    schools = {s.unit_code: s for s in School.objects.select_related("organiser")}
    problems: list[Problem] = []
    plans: list[_PlacementPlan] = []
    lines: dict[tuple[str, str, dt.date], int] = {}
    for raw_row in rows:
        row = Cells(raw_row, columns, problems)
        pnr = row.get("pnr", read_personnummer)
        written = row.get("organiser")
        reporter = known.get((written or "").casefold())
        if written and reporter is None:
            row.fail(
                "organiser",
                _("The municipality does not know the organiser “%(name)s”; add it in the admin.")
                % {"name": written},
            )
        code = row.get("school")
        if code and not re.fullmatch(r"\d{8}", code):
            row.fail(
                "school", _("School-unit code “%(value)s” must be 8 digits.") % {"value": code}
            )
        school = schools.get(code or "")
        if school is not None and reporter is not None and school.organiser_id != reporter.pk:
            row.fail(
                "school",
                _("School unit %(code)s belongs to %(organiser)s.")
                % {"code": code, "organiser": school.organiser.name},
            )
        start, end = row.get("start", r.date), row.get("end", r.date)
        if start and end and end < start:
            row.fail("end", _("The end is before the start."))
        key = (pnr or "", code or "", start)
        if pnr and code and start and key in lines:
            row.fail(
                "pnr", _("The same placement is also on line %(line)s.") % {"line": lines[key]}
            )
        elif pnr and code and start:
            lines[key] = row.line
        if row.ok and reporter is not None:
            plans.append(
                _PlacementPlan(
                    reporter,
                    {
                        "personnummer": pnr,
                        "first_name": (row.get("first") or "")[:100],
                        "last_name": (row.get("last") or "")[:100],
                        "school_unit_code": code,
                        "school_name": (row.get("school_name") or (school.name if school else ""))[
                            :200
                        ],
                        "start": start,
                        "end": end,
                    },
                )
            )
    if problems:
        raise Rejected(problems)

    def write(result: Result) -> None:
        result.rows = len(plans)
        reporters = {plan.reporter.pk for plan in plans}
        held = {
            (p.reporter_id, p.personnummer, p.school_unit_code, p.start): p
            for p in ReportedPlacement.objects.filter(
                municipality=municipality, reporter_id__in=reporters
            )
        }
        created, changed = [], []
        fields = ("first_name", "last_name", "school_name", "end")
        for plan in plans:
            v = plan.values
            found = held.pop(
                (plan.reporter.pk, v["personnummer"], v["school_unit_code"], v["start"]), None
            )
            if found is None:
                created.append(
                    ReportedPlacement(municipality=municipality, reporter=plan.reporter, **v)
                )
            elif all(getattr(found, key) == v[key] for key in fields):
                result.unchanged += 1
            else:
                for key in fields:
                    setattr(found, key, v[key])
                changed.append(found)
        ReportedPlacement.objects.bulk_create(created, batch_size=2000)
        ReportedPlacement.objects.bulk_update(changed, list(fields), batch_size=2000)
        ReportedPlacement.objects.filter(pk__in=[p.pk for p in held.values()]).delete()
        result.created, result.changed = len(created), len(changed)
        result.lines.append(_("%(count)s no longer reported removed.") % {"count": len(held)})

    return _run(write, dry_run)
