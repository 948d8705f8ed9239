"""The attendance benchmark's baseline does the same work as the product's register."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from fullfolj.attendance.actions import register_lesson
from fullfolj.attendance.columnar import DAY_COLUMNS
from fullfolj.attendance.models import (
    AbsenceReason,
    AttendanceChange,
    PupilDay,
    PupilMonth,
    PupilSubjectWeek,
    PupilWeek,
)
from fullfolj.attendance.store import PERIODS
from fullfolj.benchmarks import attendance as bench
from fullfolj.schools import models as s
from tests import factories as f


def _state(lesson):  # type: ignore[no-untyped-def]
    marks = sorted(
        lesson.attendance.values_list(
            "pupil_id", "absent_minutes", "late_minutes", "is_valid", "reason__code"
        )
    )
    days = sorted(
        PupilDay.objects.filter(date=lesson.date).values_list(
            "pupil_id",
            "scheduled_minutes",
            "absent_minutes",
            "valid_minutes",
            "invalid_minutes",
            "unknown_minutes",
            "late_minutes",
        )
    )
    weeks = sorted(
        PupilSubjectWeek.objects.values_list(
            "pupil_id",
            "subject_id",
            "week",
            "scheduled_minutes",
            "absent_minutes",
            "invalid_minutes",
        )
    )
    history = sorted(
        (c.attendance.pupil_id, repr(c.old), repr(c.new))
        for c in AttendanceChange.objects.filter(lesson=lesson).select_related("attendance")
    )
    periods = [
        sorted(p.model.objects.values_list("pupil_id", p.key, "days", *DAY_COLUMNS))
        for p in PERIODS
    ]
    return marks, days, weeks, history, periods


def test_the_naive_baseline_writes_what_register_lesson_writes(cast):
    AbsenceReason.objects.create(code="TANDL", name="Tandläkare", is_valid=True)
    reasons = {r.code: r for r in AbsenceReason.objects.all()}
    pupils = [f.pupil(cast.org, f"Elev{n}", "Bänk") for n in range(8)]
    s.GroupMembership.objects.bulk_create(
        s.GroupMembership(group=cast.group, pupil=p, start=cast.year.start) for p in pupils
    )
    when = timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0))
    item = bench.Registered(
        0, cast.teacher.user_id, cast.teacher.pk, tuple(sorted(p.pk for p in [cast.pupil, *pupils]))
    )
    plan = bench.entries(item, random.Random(3))  # noqa: S311
    results = []
    for write in (register_lesson, bench.naive_register):
        lesson = f.lesson(cast.group, cast.maths, cast.teacher, cast.spring, when)
        write(lesson, bench.as_marks(item, plan, lesson.minutes, reasons), by=cast.teacher)
        results.append(_state(lesson))
        lesson.delete()
        PupilDay.objects.filter(date=when.date()).delete()
        PupilSubjectWeek.objects.all().delete()
        PupilMonth.objects.all().delete()
        PupilWeek.objects.all().delete()
    product, naive = results
    assert product == naive
    marks = product[0]
    assert len(marks) == 9 and sum(1 for m in marks if m[1]) == 4  # four absent
    assert len(product[1]) == 9 and len(product[3]) == 6  # a day per pupil; six changes
    data = bench.form_data(item, plan, "state")
    assert data["pupil"] == [str(p) for p in item.pupils]
