"""The kept per-pupil, per-month and per-week aggregates equal the per-day one summed by month
and by week, after any sequence of the ways PupilDay is written: a teacher's register, a correction that removes
marks, an attendance file's import (the fast path on PostgreSQL), a rebuild and retention."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fullfolj.attendance.actions import Mark, rebuild_pupil_days, refresh_pupil_days
from fullfolj.attendance.actions import register_lesson as register
from fullfolj.attendance.columnar import DAY_COLUMNS
from fullfolj.attendance.models import Lesson, LessonAttendance, PupilDay
from fullfolj.attendance.store import MONTHS, PERIODS, WEEKS, Period
from fullfolj.exchange.tabular import load
from fullfolj.records import retention
from fullfolj.records.models import Kind
from fullfolj.schools import models as s
from tests import factories as f

HEAD = "Personnummer;Skolenhetskod;Grupp;Ämne;Datum;Starttid;Minuter;Frånvaro (min);Sen ankomst (min);Giltig"
# School days either side of two month ends.
DAYS = [dt.date(2026, 2, 26), dt.date(2026, 2, 27), dt.date(2026, 3, 2), dt.date(2026, 3, 31)]
DAYS.append(dt.date(2026, 4, 1))
TIMES = [("08:00", "MA", 60), ("10:30", "SV", 45)]
PUPILS = 3

# Each operation: ("import", day indexes, absence per pupil), ("register", lesson index,
# absence per pupil), ("remove", day index), ("rebuild", day index or None), ("retain", day).
absences = st.lists(st.sampled_from([0, 0, 10, 45]), min_size=PUPILS, max_size=PUPILS)
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("import"),
            st.lists(st.integers(0, len(DAYS) - 1), min_size=1, max_size=3, unique=True),
            absences,
        ),
        st.tuples(st.just("register"), st.integers(0, 20), absences),
        st.tuples(st.just("remove"), st.integers(0, len(DAYS) - 1), st.just(None)),
        st.tuples(st.just("rebuild"), st.sampled_from([None, 1, 3]), st.just(None)),
        st.tuples(st.just("retain"), st.integers(0, len(DAYS) - 1), st.just(None)),
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture
def town(db: object, settings: Any) -> dict[str, Any]:
    settings.FULLFOLJ_TODAY = "2026-04-02"  # after every lesson
    org = f.organiser("Ekby kommun")
    school = s.School.objects.create(organiser=org, name="Ekbyskolan", unit_code="12345678")
    year, _autumn, _spring = f.school_year()
    group = s.TeachingGroup.objects.create(school=school, school_year=year, name="7A")
    f.subject("MA", "Matematik")
    f.subject("SV", "Svenska")
    f.reasons()
    pupils = [f.pupil(org, f"Elev{n}", "Månad") for n in range(PUPILS)]
    for pupil in pupils:
        s.GroupMembership.objects.create(group=group, pupil=pupil, start=year.start)
    teacher = f.staff("larare", (s.Role.TEACHER, school), org=org)
    return {"org": org, "pupils": pupils, "teacher": teacher}


def from_days(period: Period = MONTHS) -> list[tuple[Any, ...]]:
    """PupilDay grouped by pupil and period, in the period's columns."""
    sums: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0] * 10)
    for pupil, organiser, day, *figures in PupilDay.objects.values_list(
        "pupil_id", "organiser_id", "date", *DAY_COLUMNS
    ):
        row = sums[pupil, period.start(day)]
        row[0] = organiser  # one organiser in this town
        row[1] += 1
        for k, value in enumerate(figures):
            row[2 + k] += value
    return sorted((pupil, row[0], month, *row[1:]) for (pupil, month), row in sums.items())


def kept(period: Period = MONTHS) -> list[tuple[Any, ...]]:
    return sorted(period.model.objects.values_list(*period.columns))


def run(town: dict[str, Any], operation: tuple[str, Any, Any]) -> None:
    kind, what, absent = operation
    pupils = town["pupils"]
    if kind == "import":
        lines = [
            f"{pupil.personnummer};12345678;7A;{subject};{DAYS[d]:%Y-%m-%d};{at};{minutes};"
            f"{min(absent[n], minutes)};0;{'nej' if absent[n] else ''}"
            for d in what
            for n, pupil in enumerate(pupils)
            for at, subject, minutes in TIMES
        ]
        with translation.override("en"):
            load.import_file("attendance", "\n".join([HEAD, *lines]).encode("utf-8-sig"))
    elif kind == "register":
        lessons = list(Lesson.objects.order_by("start", "pk"))
        if lessons:
            lesson = lessons[what % len(lessons)]
            marks = [
                Mark(p.pk, absent_minutes=min(a, lesson.minutes), is_valid=True if a else None)
                for p, a in zip(pupils, absent, strict=True)
            ]
            register(lesson, marks, by=town["teacher"])
    elif kind == "remove":
        gone = LessonAttendance.objects.filter(date=DAYS[what], pupil=pupils[0])
        pairs = {(pupils[0].pk, DAYS[what])}
        gone.delete()
        refresh_pupil_days(pairs)
    elif kind == "rebuild":
        rebuild_pupil_days(None if what is None else DAYS[what])
    else:
        before = DAYS[what]
        org = town["org"].pk
        rows = LessonAttendance.objects.filter(organiser_id=org, date__lt=before)
        retention._delete(Kind.LESSON_ATTENDANCE.value, rows, org, before)


@pytest.mark.django_db(transaction=False)
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=operations)
def test_the_periods_equal_the_days_summed_by_period(town, plan):
    saved = transaction.savepoint()  # each example starts from the same town
    try:
        for operation in plan:
            run(town, operation)
            for period in PERIODS:
                assert kept(period) == from_days(period), (period.key, operation)
    finally:
        transaction.savepoint_rollback(saved)


def test_the_comparison_sees_months_across_a_month_end(town):
    run(town, ("import", [0, 1, 2, 3, 4], [0, 10, 45]))
    months = kept()
    assert months == from_days()
    assert {row[2] for row in months} == {
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
    }
    # February holds two days of two lessons for each pupil.
    assert [row[3:5] for row in months if row[2].month == 2] == [(2, 4)] * PUPILS
    run(town, ("retain", 3, None))  # before 31 March: February and 2 March go
    assert {row[2] for row in kept()} == {dt.date(2026, 3, 1), dt.date(2026, 4, 1)}
    assert kept() == from_days()


def test_the_comparison_sees_weeks_across_a_month_end(town):
    run(town, ("import", [0, 1, 2, 3, 4], [0, 10, 45]))
    weeks = kept(WEEKS)
    assert weeks == from_days(WEEKS)
    assert {row[2] for row in weeks} == {
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 30),  # 31 March and 1 April: one week of two months
    }
    assert [row[3:5] for row in weeks if row[2] == dt.date(2026, 3, 30)] == [(2, 4)] * PUPILS
    run(town, ("retain", 4, None))  # before 1 April: the week of 30 March keeps one day
    assert [row[3:5] for row in kept(WEEKS) if row[2] == dt.date(2026, 3, 30)] == [(1, 2)] * PUPILS
    assert kept(WEEKS) == from_days(WEEKS)
