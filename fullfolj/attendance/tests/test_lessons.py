"""A teacher's lessons: which are left to register, each one's state, and the school days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from fullfolj.attendance import lessons
from fullfolj.attendance.actions import Mark, register_lesson
from fullfolj.attendance.lessons import LessonState
from fullfolj.attendance.models import Lesson
from fullfolj.schools import models as s
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 3, 18)  # a Wednesday


@pytest.fixture(autouse=True)
def _noon() -> object:
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM), tick=False):
        yield


def at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def lesson_at(cast, day: dt.date, hour: int, teacher=None) -> Lesson:  # type: ignore[no-untyped-def]
    term = cast.spring if day >= cast.spring.start else cast.autumn
    return f.lesson(cast.group, cast.maths, teacher or cast.teacher, term, at(day, hour))


def test_unregistered_lessons_are_the_teachers_started_ones_of_this_term_oldest_first(cast):
    monday = cast.lesson  # 16 March 09:00, marks imported but never registered
    this_morning = lesson_at(cast, TODAY, 9)
    lesson_at(cast, TODAY, 14)  # not started yet
    lesson_at(cast, dt.date(2026, 3, 19), 9)  # tomorrow
    lesson_at(cast, dt.date(2025, 12, 1), 9)  # last term
    lesson_at(cast, dt.date(2026, 3, 17), 9, teacher=cast.teacher_elsewhere)  # someone else's
    done = lesson_at(cast, dt.date(2026, 3, 17), 10)
    register_lesson(done, [Mark(pupil_id=cast.pupil.pk)], by=cast.teacher)
    found = list(lessons.unregistered_lessons(cast.teacher, TODAY))
    assert found == [monday, this_morning]
    assert list(lessons.unregistered_lessons(cast.teacher_elsewhere, TODAY)) != found


def test_before_any_term_there_is_nothing_to_register(cast):
    assert list(lessons.unregistered_lessons(cast.teacher, dt.date(2025, 6, 1))) == []


def test_lesson_states(cast):
    upcoming = lesson_at(cast, TODAY, 14)
    assert lessons.lesson_state(upcoming) == LessonState.NOT_STARTED
    assert lessons.lesson_state(cast.lesson) == LessonState.NOT_REGISTERED
    register_lesson(cast.lesson, [Mark(pupil_id=cast.pupil.pk)], by=cast.teacher)
    cast.lesson.refresh_from_db()
    assert lessons.lesson_state(cast.lesson) == LessonState.REGISTERED
    # Saving the same marks again changes nothing.
    register_lesson(cast.lesson, [Mark(pupil_id=cast.pupil.pk)], by=cast.teacher)
    cast.lesson.refresh_from_db()
    assert lessons.lesson_state(cast.lesson) == LessonState.REGISTERED
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 30, tzinfo=STOCKHOLM), tick=False):
        register_lesson(cast.lesson, [Mark(pupil_id=cast.pupil.pk, late_minutes=5)], by=cast.mentor)
    cast.lesson.refresh_from_db()
    assert lessons.lesson_state(cast.lesson) == LessonState.CHANGED
    annotated = lessons.with_states(Lesson.objects.filter(pk__in=[cast.lesson.pk, upcoming.pk]))
    states = {lesson.pk: lessons.lesson_state(lesson) for lesson in annotated}
    assert states == {cast.lesson.pk: LessonState.CHANGED, upcoming.pk: LessonState.NOT_STARTED}


def test_first_registration_keeps_its_time_and_says_whether_it_was_late(cast):
    register_lesson(cast.lesson, [Mark(pupil_id=cast.pupil.pk)], by=cast.teacher)
    cast.lesson.refresh_from_db()
    first = cast.lesson.first_registered_at
    assert first is not None
    assert lessons.registered_late(cast.lesson)  # a Monday lesson first saved on Wednesday
    with time_machine.travel(dt.datetime(2026, 3, 18, 13, 0, tzinfo=STOCKHOLM), tick=False):
        register_lesson(
            cast.lesson, [Mark(pupil_id=cast.pupil.pk, late_minutes=3)], by=cast.teacher
        )
    cast.lesson.refresh_from_db()
    assert cast.lesson.first_registered_at == first
    assert cast.lesson.registered_at > first
    today = lesson_at(cast, TODAY, 9)
    register_lesson(today, [Mark(pupil_id=cast.pupil.pk)], by=cast.teacher)
    today.refresh_from_db()
    assert not lessons.registered_late(today)


def test_an_imported_registration_is_the_first_one(cast):
    """A lesson saved elsewhere (an import) keeps that time as its first registration."""
    imported = at(dt.date(2026, 3, 16), 10)
    Lesson.objects.filter(pk=cast.lesson.pk).update(registered_at=imported)
    cast.lesson.refresh_from_db()
    assert lessons.lesson_state(cast.lesson) == LessonState.REGISTERED
    register_lesson(cast.lesson, [Mark(pupil_id=cast.pupil.pk)], by=cast.teacher)
    cast.lesson.refresh_from_db()
    assert cast.lesson.first_registered_at == imported
    assert lessons.lesson_state(cast.lesson) == LessonState.CHANGED  # 60 absent -> present


def test_school_days_skip_weekends_holidays_and_time_between_terms(cast):
    s.DayOff.objects.create(organiser=cast.org, date=dt.date(2026, 3, 13), name="Studiedag")
    days = lessons.teaching_days(cast.teacher, dt.date(2026, 3, 12), dt.date(2026, 3, 17))
    assert days == [dt.date(2026, 3, 12), dt.date(2026, 3, 16), dt.date(2026, 3, 17)]
    assert lessons.last_school_day(cast.teacher, dt.date(2026, 3, 15)) == dt.date(2026, 3, 12)
    assert lessons.last_school_day(cast.teacher, dt.date(2026, 1, 5)) == dt.date(2025, 12, 19)


def test_a_day_off_for_one_organiser_is_a_school_day_for_staff_of_two(cast):
    other = f.organiser("Grannkommun")
    s.StaffRole.objects.create(
        staff=cast.teacher,
        organiser=other,
        school=f.school(other, "Grannskolan", (7, 9)),
        role=s.Role.TEACHER,
    )
    s.DayOff.objects.create(organiser=cast.org, date=dt.date(2026, 3, 13), name="Studiedag")
    assert dt.date(2026, 3, 13) in lessons.teaching_days(
        cast.teacher, dt.date(2026, 3, 13), dt.date(2026, 3, 13)
    )
