"""Småstad: a small fixed municipality whose report figures the tests work out by hand.

One school (Åsskolan, 7-9). Ten pupils in 9A this year (8A last year): girls G1-G5, boys B1-B5,
plus L1 and L2 who finished year 9 in June 2025 and M1 who moved away on 2025-10-01. Attendance
is kept as per-day aggregates (PupilDay) with 1,000 scheduled minutes per day; grades in eight
subjects are C (15 points) or F. Every number below is used by the tests' hand calculations.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from fullfolj.attendance import store
from fullfolj.attendance.models import Lesson, PupilDay
from fullfolj.grades.models import Grade
from fullfolj.ladder.models import LadderStep, LadderTask
from fullfolj.schools import models as s
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support.models import Case, Evaluation, Measure
from tests import factories as f

SUBJECTS = ["SV", "EN", "MA", "BI", "FY", "KE", "GE", "HI"]
# pupil -> (gender, absent minutes: VT 2025, HT 2025, Feb 2026, Mar 2026)
ABSENCE = {
    "G1": ("F", 0, 0, 0, 0),
    "G2": ("F", 200, 100, 20, 40),
    "G3": ("F", 100, 50, 60, 80),
    "G4": ("F", 100, 300, 120, 90),
    "G5": ("F", 300, 100, 200, 200),
    "B1": ("M", 0, 0, 0, 0),
    "B2": ("M", 100, 200, 10, 10),
    "B3": ("M", 90, 20, 30, 30),
    "B4": ("M", 40, 50, 160, 160),
    "B5": ("M", 250, 250, 250, 250),
}
DAYS = [dt.date(2025, 3, 10), dt.date(2025, 10, 15), dt.date(2026, 2, 10), dt.date(2026, 3, 10)]
# pupil -> failed subjects (F) per term; every other subject is a C
FAILED_VT25 = {
    "G2": {"BI", "FY"},
    "G5": {"BI", "FY", "KE", "GE"},
    "B3": {"HI"},
    "B4": {"BI", "FY"},
    "B5": {"GE", "HI"},
    "L2": {"EN", "BI", "FY"},
}
FAILED_HT25 = {"G4": {"MA"}, "G5": {"EN", "MA"}, "B4": {"EN", "MA"}, "B5": {"EN", "MA"}}


def _aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def town(db):
    org = f.organiser("Småstad")
    school = f.school(org, "Åsskolan", (7, 9))
    last_year, vt24_unused, vt25 = f.school_year(dt.date(2024, 8, 19))
    year, ht25, vt26 = f.school_year(dt.date(2025, 8, 18))
    ht24 = vt24_unused
    c8 = s.SchoolClass.objects.create(school=school, school_year=last_year, name="8A", grade=8)
    c9_old = s.SchoolClass.objects.create(school=school, school_year=last_year, name="9A", grade=9)
    c9 = s.SchoolClass.objects.create(school=school, school_year=year, name="9A", grade=9)
    pupils = {}
    for name, (gender, *_rest) in ABSENCE.items():
        p = f.pupil(org, name, "Småstadsson", born=dt.date(2010, 3, 1))
        p.legal_gender = gender
        p.save()
        f.place(p, school, c8, last_year.start, end=last_year.end)
        f.place(p, school, c9, year.start)
        pupils[name] = p
    for name, gender in (("L1", "M"), ("L2", "F")):
        p = f.pupil(org, name, "Småstadsson", born=dt.date(2009, 3, 1))
        p.legal_gender = gender
        p.save()
        f.place(p, school, c9_old, last_year.start, end=last_year.end)
        pupils[name] = p
    m1 = f.pupil(org, "M1", "Småstadsson", born=dt.date(2010, 3, 1))
    m1.legal_gender = "M"
    m1.save()
    f.place(m1, school, c8, last_year.start, end=last_year.end)
    f.place(m1, school, c9, year.start, end=dt.date(2025, 10, 1))
    pupils["M1"] = m1

    days = []
    for name, (gender, *absent) in ABSENCE.items():
        for day, minutes in zip(DAYS, absent, strict=True):
            days.append(
                PupilDay(
                    pupil=pupils[name],
                    organiser=org,
                    date=day,
                    lessons=5,
                    scheduled_minutes=1000,
                    absent_minutes=minutes,
                    valid_minutes=minutes if gender == "F" else 0,
                    invalid_minutes=0 if gender == "F" else minutes,
                )
            )
    for name in ("L1", "L2", "M1"):
        days.append(
            PupilDay(
                pupil=pupils[name], organiser=org, date=DAYS[0], lessons=5, scheduled_minutes=1000
            )
        )
    PupilDay.objects.bulk_create(days)
    store.refresh_pupil_periods()  # as every path writing the days does

    subjects = [f.subject(code, code) for code in SUBJECTS]
    grades = []
    for term, failed, names in (
        (vt25, FAILED_VT25, [*ABSENCE, "L1", "L2", "M1"]),
        (ht25, FAILED_HT25, list(ABSENCE)),
    ):
        for name in names:
            for subject in subjects:
                mark = "F" if subject.code in failed.get(name, set()) else "C"
                grades.append(
                    Grade(
                        pupil=pupils[name],
                        organiser=org,
                        subject=subject,
                        term=term,
                        school=school,
                        grade=mark,
                    )
                )
    Grade.objects.bulk_create(grades)

    R = s.Role
    principal = f.staff("asa_principal", (R.PRINCIPAL, school), org=org)
    admin = f.staff("asa_admin", (R.ADMINISTRATION, None), org=org)
    teacher = f.staff("asa_teacher", (R.TEACHER, school), org=org)

    step = LadderStep.objects.create(
        organiser=org, order=1, name="Kontakt med vårdnadshavare", actor="mentor"
    )
    for name in ("G4", "G5", "B4", "B5"):
        task = LadderTask.objects.create(
            pupil=pupils[name],
            step=step,
            school=school,
            actor="mentor",
            opened_on=dt.date(2026, 2, 12),
            due=dt.date(2026, 2, 19),
            reason="10 %",
        )
        if name == "G4":
            task.closed_at = _aware(dt.date(2026, 3, 1))
            task.save()

    def case(name: str, opened: dt.date) -> Case:
        return Case.objects.create(
            pupil=pupils[name],
            school=school,
            responsible=principal,
            opened_at=_aware(opened),
            status="active",
        )

    g5 = case("G5", dt.date(2025, 9, 1))
    Measure.objects.create(
        case=g5,
        kind=Measure.Kind.ADAPTED_STUDY_PATH,
        title="Anpassad studiegång",
        start=dt.date(2025, 9, 1),
    )
    for name, kind, start, evaluated in (
        ("G4", Measure.Kind.EXTRA_ADAPTATION, dt.date(2026, 2, 2), dt.date(2026, 3, 2)),
        ("B4", Measure.Kind.EXTRA_ADAPTATION, dt.date(2026, 2, 3), dt.date(2026, 3, 10)),
        ("B5", Measure.Kind.GUARDIAN_COOPERATION, dt.date(2026, 2, 4), None),
    ):
        measure = Measure.objects.create(
            case=case(name, dt.date(2026, 2, 1)),
            kind=kind,
            title="Insats",
            start=start,
            follow_up_on=start + dt.timedelta(days=28),
        )
        if evaluated:
            Evaluation.objects.create(
                measure=measure, judgement="better", text="Bättre", evaluated_on=evaluated
            )

    group = s.TeachingGroup.objects.create(
        school=school, school_year=year, name="9A-MA", school_class=c9
    )
    maths = subjects[2]
    for day, registered in (
        (dt.date(2026, 3, 2), dt.date(2026, 3, 2)),
        (dt.date(2026, 3, 3), dt.date(2026, 3, 3)),
        (dt.date(2026, 3, 4), dt.date(2026, 3, 5)),
        (dt.date(2026, 3, 5), dt.date(2026, 3, 5)),
        (dt.date(2026, 3, 30), None),  # after today: not counted
    ):
        Lesson.objects.create(
            group=group,
            subject=maths,
            teacher=teacher,
            term=vt26,
            date=day,
            start=_aware(day),
            minutes=60,
            first_registered_at=_aware(registered, 15) if registered else None,
        )

    run = ScreeningRun.objects.create(
        organiser=org,
        as_of=dt.date(2025, 3, 31),
        started_at=_aware(dt.date(2025, 3, 31)),
        flagged_pupils=12,
    )
    for name in ("G1", "G2", "G3", "G4", "G5", "B2", "B3", "B4", "B5", "L1", "L2", "M1"):
        Flag.objects.create(
            run=run,
            pupil=pupils[name],
            organiser=org,
            school=school,
            rule_code="R1",
            threshold=10,
            explanation="x",
        )
    return SimpleNamespace(
        org=org,
        school=school,
        pupils=pupils,
        ht24=ht24,
        vt25=vt25,
        ht25=ht25,
        vt26=vt26,
        principal=principal,
        admin=admin,
        teacher=teacher,
        run=run,
    )
