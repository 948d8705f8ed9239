"""The demo's file imports: the administration brought in its school system's guardian list
(a few new phone numbers) and tried a grades file that was refused for one row, so the upload
page shows both outcomes and a saved column map (docs/exchange.md)."""

from __future__ import annotations

import datetime as dt

from fullfolj.exchange import actions
from fullfolj.exchange.models import ImportPreset
from fullfolj.schools.models import (
    Guardianship,
    Placement,
    Role,
    Staff,
    StaffRole,
    Subject,
    Term,
)


def simulate_file_imports(admin: Staff, school_name: str, today: dt.date) -> str:
    """Two files through the real upload path (preview, worker, outcome) and one saved map."""
    role = StaffRole.objects.filter(staff=admin, role=Role.ADMINISTRATION).first()
    if role is None:
        return "no administration"
    organiser = role.organiser
    placed = Placement.objects.filter(
        school__name=school_name, end__isnull=True, pupil__protected_identity=False
    ).values("pupil_id")
    ties: dict[int, Guardianship] = {}  # one guardian per pupil
    for tie in (
        Guardianship.objects.filter(pupil_id__in=placed)
        .select_related("pupil", "guardian")
        .order_by("pk")[:120]
    ):
        ties.setdefault(tie.pupil_id, tie)
    chosen = list(ties.values())[:40]
    lines = ["Personnummer;Förnamn;Efternamn;E-post;Telefon"]
    for number, tie in enumerate(chosen):
        guardian = tie.guardian
        phone = f"070-{555_0000 + number}" if number % 12 == 0 else guardian.phone
        lines.append(
            f"{tie.pupil.personnummer};{guardian.first_name};{guardian.last_name};"
            f"{guardian.email};{phone}"
        )
    guardians = actions.upload_file(
        organiser,
        kind="guardians",
        name="vardnadshavare.csv",
        data="\r\n".join(lines).encode("utf-8-sig"),
        by=admin,
    )
    actions.run_file_import(guardians)  # as the worker would, at once

    subject = Subject.objects.filter(code="MA").first()
    found = Term.at(today)
    term = f"{found.kind}{found.start.year % 100:02d}" if found else "HT25"
    rows = ["Personnummer;Skolenhetskod;Ämne;Betyg;Termin"]
    for number, tie in enumerate(chosen[:6]):
        grade = "G" if number == 3 else "CDECBA"[number]  # G: the old scale, refused
        school = tie.pupil.placements.filter(end__isnull=True).first()
        code = school.school.unit_code if school else ""
        rows.append(
            f"{tie.pupil.personnummer};{code};{subject.code if subject else 'MA'};{grade};{term}"
        )
    grades = actions.upload_file(
        organiser,
        kind="grades",
        name="betyg-ma.csv",
        data="\r\n".join(rows).encode("cp1252"),
        by=admin,
    )
    actions.run_file_import(grades)

    ImportPreset.objects.update_or_create(
        organiser=organiser,
        kind="timetable",
        name="Vårt schemaprogram",
        defaults={
            "columns": {
                "school": "Enhetskod",
                "group": "Klass/grupp",
                "subject": "Ämne",
                "date": "Dag",
                "time": "Från",
                "until": "Till",
                "teacher": "Signatur",
            }
        },
    )
    guardians.refresh_from_db()
    grades.refresh_from_db()
    return f"guardians {guardians.status}, grades {grades.status}, 1 saved column map"
