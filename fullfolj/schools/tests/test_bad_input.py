"""Bad input is refused at the model level with the field and value named; nothing is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fullfolj.attendance.models import LessonAttendance
from fullfolj.grades.models import Grade
from fullfolj.schools.models import Placement, Pupil, School
from tests import factories as f


def test_wrong_check_digit_is_refused_and_nothing_saved(cast):
    before = Pupil.objects.count()
    with pytest.raises(ValidationError) as error:
        Pupil.objects.create(
            organiser=cast.org,
            personnummer="20120304-1238",
            first_name="X",
            last_name="Y",
            legal_gender="F",
            birth_date=dt.date(2012, 3, 4),
        )
    assert "personnummer" in error.value.message_dict
    assert "20120304-1238" in str(error.value)
    assert Pupil.objects.count() == before


def test_impossible_date_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        Pupil.objects.create(
            organiser=cast.org,
            personnummer="20120231-1234",
            first_name="X",
            last_name="Y",
            legal_gender="F",
            birth_date=dt.date(2012, 3, 1),
        )
    assert "datum" in str(error.value.message_dict["personnummer"])


def test_overlapping_placement_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        f.place(cast.pupil, cast.south, None, dt.date(2026, 2, 1))
    assert "start" in error.value.message_dict
    assert "Norrskolan" in str(error.value)
    assert Placement.objects.filter(pupil=cast.pupil).count() == 1


def test_placement_after_a_move_is_history_not_overwrite(cast):
    f.place(cast.moved_away, cast.south, None, dt.date(2026, 2, 1))
    assert Placement.objects.filter(pupil=cast.moved_away).count() == 2


def test_placement_ending_before_it_starts_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        f.place(cast.moved_away, cast.south, None, dt.date(2026, 5, 1), end=dt.date(2026, 4, 1))
    assert "end" in error.value.message_dict


@pytest.mark.parametrize("minutes", [0, -5, 400])
def test_lesson_minutes_out_of_range_are_refused(cast, minutes):
    with pytest.raises(ValidationError) as error:
        f.lesson(
            cast.group, cast.maths, cast.teacher, cast.spring, cast.lesson.start, minutes=minutes
        )
    assert "minutes" in error.value.message_dict
    assert str(minutes) in str(error.value)


def test_absence_longer_than_the_lesson_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        f.mark(cast.lesson, cast.other_pupil, absent=61)
    assert "absent_minutes" in error.value.message_dict
    assert "61" in str(error.value)
    assert not LessonAttendance.objects.filter(pupil=cast.other_pupil).exists()


def test_negative_absence_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        f.mark(cast.lesson, cast.other_pupil, absent=-1)
    assert "absent_minutes" in error.value.message_dict


def test_the_database_refuses_what_the_model_would(cast):
    """Bulk paths skip clean(); the check constraints still hold."""
    row = LessonAttendance(
        lesson=cast.lesson,
        pupil=cast.other_pupil,
        organiser=cast.org,
        date=cast.lesson.date,
        scheduled_minutes=60,
        absent_minutes=90,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LessonAttendance.objects.bulk_create([row])


@pytest.mark.parametrize("value", ["G", "a", "1", ""])
def test_grade_outside_the_scale_is_refused(cast, value):
    with pytest.raises(ValidationError) as error:
        Grade.objects.create(
            pupil=cast.pupil,
            organiser=cast.org,
            subject=cast.maths,
            term=cast.autumn,
            school=cast.north,
            grade=value,
        )
    assert "grade" in error.value.message_dict
    assert not Grade.objects.exists()


def test_school_unit_code_must_have_eight_digits(cast):
    with pytest.raises(ValidationError) as error:
        School.objects.create(organiser=cast.org, name="X", unit_code="1234")
    assert "1234" in str(error.value.message_dict["unit_code"])
