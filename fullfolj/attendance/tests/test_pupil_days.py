"""The per-day aggregates always equal the sums of their lesson rows."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from fullfolj.attendance import queries
from fullfolj.attendance.actions import (
    Mark,
    rebuild_pupil_days,
    refresh_pupil_days,
    register_lesson,
)
from fullfolj.attendance.models import LessonAttendance, PupilDay, PupilSubjectWeek
from fullfolj.schools import models as s
from tests import factories as f


def test_rebuild_sums_the_lessons_of_a_day(cast):
    second = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 16, 13, 0)),
        minutes=40,
    )
    f.mark(second, cast.pupil, absent=10, late=5, valid=True, reason=cast.reasons["SJUK"])
    rebuild_pupil_days()
    day = PupilDay.objects.get(pupil=cast.pupil, date=dt.date(2026, 3, 16))
    assert (day.lessons, day.scheduled_minutes, day.absent_minutes) == (2, 100, 70)
    assert (day.valid_minutes, day.invalid_minutes, day.unknown_minutes) == (10, 60, 0)
    assert (day.late_minutes, day.late_count) == (5, 1)
    assert not day.is_whole_day_absent


def test_refresh_touches_only_the_changed_pairs(cast):
    row = LessonAttendance.objects.get(pupil=cast.pupil)
    row.absent_minutes, row.is_valid, row.reason = 0, None, None
    row.save()
    refresh_pupil_days({(cast.pupil.pk, row.date)})
    day = PupilDay.objects.get(pupil=cast.pupil, date=row.date)
    assert day.absent_minutes == 0
    assert day.invalid_minutes == 0


def _aggregates() -> tuple[list[tuple], list[tuple]]:
    days = PupilDay.objects.values_list(
        "pupil_id",
        "organiser_id",
        "date",
        "lessons",
        "scheduled_minutes",
        "absent_minutes",
        "valid_minutes",
        "invalid_minutes",
        "unknown_minutes",
        "late_minutes",
        "late_count",
    )
    weeks = PupilSubjectWeek.objects.values_list(
        "pupil_id",
        "organiser_id",
        "subject_id",
        "week",
        "scheduled_minutes",
        "absent_minutes",
        "invalid_minutes",
    )
    return sorted(days), sorted(weeks)


def test_registers_keep_both_aggregates_equal_to_a_rebuild(cast):
    """Registers, corrections and deleted lesson rows leave PupilDay and PupilSubjectWeek
    exactly as a rebuild from the lesson rows makes them (screening reads both)."""
    english = f.subject("EN", "Engelska")
    alva, bilal = cast.pupil.pk, cast.other_pupil.pk
    s.GroupMembership.objects.create(
        group=cast.group, pupil=cast.other_pupil, start=cast.year.start
    )

    def at(day: int, hour: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime(2026, 3, day, hour, 0))

    maths = f.lesson(cast.group, cast.maths, cast.teacher, cast.spring, at(17, 9))
    eng = f.lesson(cast.group, english, cast.teacher, cast.spring, at(17, 11), minutes=40)
    earlier = f.lesson(cast.group, english, cast.teacher, cast.spring, at(10, 9))
    register_lesson(
        maths,
        [Mark(alva, absent_minutes=60, is_valid=False), Mark(bilal, late_minutes=5)],
        by=cast.teacher,
    )
    register_lesson(
        eng,
        [
            Mark(alva, absent_minutes=20, is_valid=True, reason=cast.reasons["SJUK"]),
            Mark(bilal, absent_minutes=40),
        ],
        by=cast.teacher,
    )
    register_lesson(
        earlier, [Mark(alva, absent_minutes=15, is_valid=False), Mark(bilal)], by=cast.teacher
    )
    register_lesson(maths, [Mark(alva, absent_minutes=30), Mark(bilal)], by=cast.teacher)
    register_lesson(cast.lesson, [Mark(alva)], by=cast.teacher)  # Monday's absence corrected
    kept = _aggregates()
    rebuild_pupil_days()
    assert _aggregates() == kept
    assert (bilal, english.pk) in {(w[0], w[2]) for w in kept[1]}

    # Bilal's rows of the 17th removed (an import undoing a day): his day and his English
    # week go, having no rows left; Alva's stay as their rows say.
    removed = LessonAttendance.objects.filter(pupil_id=bilal, date=dt.date(2026, 3, 17))
    removed.delete()
    refresh_pupil_days({(bilal, dt.date(2026, 3, 17))})
    kept = _aggregates()
    rebuild_pupil_days()
    assert _aggregates() == kept
    assert not PupilDay.objects.filter(pupil_id=bilal, date=dt.date(2026, 3, 17)).exists()
    assert not PupilSubjectWeek.objects.filter(pupil_id=bilal, week=dt.date(2026, 3, 16)).exists()
    assert PupilSubjectWeek.objects.filter(pupil_id=bilal, week=dt.date(2026, 3, 9)).exists()


def test_absence_windows_and_rates(cast):
    windows = {
        "day": (dt.date(2026, 3, 16), dt.date(2026, 3, 16)),
        "before": (dt.date(2026, 3, 1), dt.date(2026, 3, 15)),
    }
    result = queries.absence_by_pupil([cast.pupil.pk, cast.other_pupil.pk], windows)
    assert result[cast.pupil.pk]["day"].invalid_rate == 100.0
    assert result[cast.pupil.pk]["before"].total_rate is None
    assert result[cast.other_pupil.pk]["day"].scheduled == 0


class AggregateProperty(TestCase):
    """For any marks on a day, the aggregate equals the hand-summed lesson rows."""

    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.integers(20, 80),
                st.integers(0, 80),
                st.integers(0, 30),
                st.sampled_from([True, False, None]),
            ),
            min_size=1,
            max_size=6,
        )
    )
    def test_aggregate_matches_lessons(self, marks):
        org = f.organiser()
        school = f.school(org)
        year, autumn, _spring = f.school_year()
        group = s.TeachingGroup.objects.create(school=school, school_year=year, name="G")
        teacher = f.staff(f"t{s.Staff.objects.count()}", org=org)
        pupil = f.pupil(org, "Prop", "Pröv")
        subject = f.subject()
        expected = {"scheduled": 0, "absent": 0, "valid": 0, "invalid": 0, "unknown": 0, "late": 0}
        for index, (minutes, absent, late, valid) in enumerate(marks):
            absent = min(absent, minutes)
            late = min(late, minutes - absent)
            when = timezone.make_aware(dt.datetime(2025, 9, 1, 8 + index, 0))
            lesson = f.lesson(group, subject, teacher, autumn, when, minutes=minutes)
            f.mark(lesson, pupil, absent=absent, late=late, valid=valid if absent else None)
            expected["scheduled"] += minutes
            expected["absent"] += absent
            expected["late"] += late
            key = {True: "valid", False: "invalid", None: "unknown"}[valid if absent else None]
            expected[key] += absent
        refresh_pupil_days({(pupil.pk, dt.date(2025, 9, 1))})
        day = PupilDay.objects.get(pupil=pupil)
        assert day.scheduled_minutes == expected["scheduled"]
        assert day.absent_minutes == expected["absent"]
        assert day.valid_minutes == expected["valid"]
        assert day.invalid_minutes == expected["invalid"]
        assert day.unknown_minutes == expected["unknown"]
        assert day.late_minutes == expected["late"]
