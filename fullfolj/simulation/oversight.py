"""The demo's compulsory-school oversight (docs/compulsory.md): the municipality's register
extract and an independent organiser's placement list, written as the files the officer would
import, with each kind of mismatch; one match a month ago and one today; cases at every stage.

The files go through the same import as an upload, so the demo shows the real path. Children
who are in no school's records are made up here, with valid personnummer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Q

from fullfolj.compulsory import actions
from fullfolj.compulsory.importing import import_placements, import_register
from fullfolj.compulsory.models import OversightCase, OversightRules, Step
from fullfolj.lib import personnummer
from fullfolj.schools.models import Organiser, Placement, Pupil, Role, StaffRole

HEADER_REGISTER = (
    "Personnummer;Förnamn;Efternamn;Folkbokföringskommun;Inflyttningsdatum;"
    "Utflyttningsdatum;Skyddad folkbokföring;Adress"
)
HEADER_PLACEMENTS = (
    "Personnummer;Förnamn;Efternamn;Huvudman;Skolenhetskod;Skola;Startdatum;Slutdatum"
)
FIRST = ["Alice", "Melvin", "Nora", "Theo", "Ebba", "Vincent", "Ines", "Hugo", "Signe", "Ludvig"]
LAST = ["Berg", "Lund", "Sjöberg", "Holmgren", "Ek", "Falk", "Nyberg", "Strand", "Wiklund", "Dahl"]
OTHER_CODE = "1499"  # a municipality outside the demo


def _row(*cells: object) -> str:
    return ";".join("" if c is None else str(c) for c in cells)


def _made_up(index: int, born: dt.date, *, coordination: bool = False) -> tuple[str, str, str]:
    pnr = personnummer.make(born, 800 + index, coordination=coordination)
    return pnr, FIRST[index % len(FIRST)], LAST[(index * 3) % len(LAST)]


def simulate_oversight(today: dt.date) -> Counter[str]:
    """Write, import and match the demo municipality's lists; returns what was made."""
    made: Counter[str] = Counter()
    officer_role = (
        StaffRole.objects.filter(role=Role.ATTENDANCE_OFFICER)
        .select_related("organiser", "staff")
        .first()
    )
    if officer_role is None:
        return made
    home = officer_role.organiser
    officer = officer_role.staff
    if not home.municipality_code:
        home.municipality_code = "1490"
        home.save(update_fields=["municipality_code"])
    independent = Organiser.objects.filter(kind=Organiser.Kind.INDEPENDENT).first()
    OversightRules.objects.update_or_create(
        organiser=home, defaults={"absence_percent": 40, "absence_weeks": 3}
    )
    residents = list(
        Pupil.objects.filter(municipality_of_residence=home)
        .filter(pk__in=Placement.objects.active_on(today).values("pupil_id"))
        .order_by("pk")
    )
    code = home.municipality_code
    register = [HEADER_REGISTER]
    # Pupils placed at our schools but registered elsewhere (billing): every 97th resident.
    elsewhere = {p.pk for p in residents[5::97][:6]}
    for pupil in residents:
        register.append(
            _row(
                pupil.personnummer,
                pupil.first_name,
                pupil.last_name,
                OTHER_CODE if pupil.pk in elsewhere else code,
                None,
                None,
                "ja" if pupil.protected_identity else "nej",
                "" if pupil.protected_identity else pupil.address,
            )
        )
    placements = [HEADER_PLACEMENTS]
    month_ago = today - dt.timedelta(days=30)
    year_start = dt.date(today.year if today.month >= 8 else today.year - 1, 8, 18)
    index = 0

    def child(age: int, **cells: object) -> tuple[str, str, str]:
        nonlocal index
        index += 1
        born = dt.date(today.year - age, 1 + index % 12, 1 + index % 27)
        person = _made_up(index, born, coordination=bool(cells.get("coordination")))
        register.append(
            _row(
                person[0][2:] if cells.get("short") else person[0],
                person[1],
                person[2],
                cells.get("code", code),
                cells.get("moved_in"),
                cells.get("moved_out"),
                "ja" if cells.get("protected") else "nej",
                "" if cells.get("protected") else f"{person[2]}gatan {index}",
            )
        )
        return person

    def placed(
        person: tuple[str, str, str],
        unit: str,
        school: str,
        start: dt.date,
        end: dt.date | None = None,
    ) -> None:
        if independent is not None:
            placements.append(
                _row(person[0], person[1], person[2], independent.name, unit, school, start, end)
            )

    # Attending no school: registered here, no placement anywhere (one protected, one with a
    # samordningsnummer, one given in the register service's ten-digit form).
    for n in range(8):
        child(7 + n, protected=n == 0, coordination=n == 1, short=n == 2)
    # Placements that ended without a new one.
    for n in range(6):
        placed(
            child(8 + n),
            "90000001",
            "Friskolan Västra",
            year_start,
            month_ago - dt.timedelta(days=n * 9),
        )
    # Placed at two schools: our own placement and an independent school's.
    for pupil in residents[11::151][:4]:
        placements.append(
            _row(
                pupil.personnummer,
                pupil.first_name,
                pupil.last_name,
                independent.name if independent else "",
                "90000002",
                "Friskolan Östra",
                month_ago,
                None,
            )
        )
    # Moved in (with a placement) and moved out.
    for n in range(5):
        placed(
            child(9 + n, moved_in=today - dt.timedelta(days=10 + 7 * n)),
            "90000002",
            "Friskolan Östra",
            today - dt.timedelta(days=5),
            None,
        )
    for n in range(3):
        child(10 + n, code=OTHER_CODE, moved_out=today - dt.timedelta(days=12 + 9 * n))
    # Too young and too old: checked, never found.
    child(4)
    child(17)
    result = import_register(
        ("\n".join(register) + "\n").encode("utf-8"), name="folkbokforing.csv", organiser=home
    )
    made["register rows"] = result.rows
    if independent is not None:
        placed_rows = import_placements(
            ("\n".join(placements) + "\n").encode("utf-8"), name="placeringar.csv", organiser=home
        )
        made["placement rows"] = placed_rows.rows
    # A match a month ago; the officer has worked its cases since.
    earlier = actions.run_check(home, day=month_ago, by=officer)
    cases = list(OversightCase.objects.filter(check_run=earlier).order_by("pk"))
    OversightCase.objects.filter(check_run=earlier).update(opened_on=month_ago)
    Step.objects.filter(case__check_run=earlier).update(due=month_ago + dt.timedelta(days=14))
    for n, case in enumerate(cases):
        case.refresh_from_db()
        step = case.steps.get()
        if n % 3 == 0:
            continue  # its first step stays overdue
        actions.complete_step(
            step,
            on=month_ago + dt.timedelta(days=3 + n % 5),
            note="Ringt och skickat brev.",
            by=officer,
        )
        if n % 3 == 1 and case.kind != OversightCase.Kind.MOVED_IN:
            actions.close_case(
                case,
                reason=OversightCase.Reason.PLACED
                if case.kind != "moved_out"
                else OversightCase.Reason.MOVED,
                on=month_ago + dt.timedelta(days=5 + n % 20),
                note="Placering bekräftad.",
                by=officer,
            )
            made["closed"] += 1
        else:
            actions.add_step(
                case,
                kind=Step.Kind.REPORT_PRINCIPAL,
                due=today + dt.timedelta(days=n % 10),
                by=officer,
            )
    current = actions.run_check(home, day=today, by=officer)
    made["cases"] = OversightCase.objects.filter(
        Q(check_run=earlier) | Q(check_run=current)
    ).count()
    made["children checked"] = current.checked
    return made
