"""The simulated municipality loads into the product's tables, cut at 'today'."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Sum

from fullfolj.attendance.models import LessonAttendance, PupilDay
from fullfolj.grades.models import Grade
from fullfolj.schools.models import Placement, Pupil, Staff
from fullfolj.simulation.models import SimulatedTruth

UNTIL = dt.date(2026, 3, 18)


@pytest.fixture(scope="module")
def municipality(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("simulate", pupils=150, years=2, seed=3, until=UNTIL)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)  # re-creates permissions


@pytest.mark.django_db
def test_nothing_after_today_is_loaded(municipality):
    assert LessonAttendance.objects.filter(date__gt=UNTIL).count() == 0
    assert Placement.objects.filter(start__gt=UNTIL).count() == 0
    assert Grade.objects.filter(term__end__gt=UNTIL).count() == 0
    assert not SimulatedTruth.objects.filter(escalation_crossing__gt=UNTIL).exists()


@pytest.mark.django_db
def test_day_aggregates_equal_the_lesson_rows(municipality):
    lessons = LessonAttendance.objects.aggregate(a=Sum("absent_minutes"), s=Sum("scheduled_minutes"))
    days = PupilDay.objects.aggregate(a=Sum("absent_minutes"), s=Sum("scheduled_minutes"))
    assert lessons == days
    assert lessons["s"] > 0


@pytest.mark.django_db
def test_every_pupil_and_staff_member_is_valid(municipality):
    for pupil in Pupil.objects.all()[:200]:
        pupil.full_clean()  # personnummer, dates
    assert Pupil.objects.filter(protected_identity=True).exists()
    assert not Staff.objects.filter(user__isnull=True).exists()


@pytest.mark.django_db
def test_a_second_load_into_the_same_database_is_refused(municipality):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already holds pupils"):
        call_command("simulate", pupils=150, years=2, seed=3, until=UNTIL)
    call_command("simulate", pupils=150, years=2, seed=3, until=UNTIL, if_empty=True)
