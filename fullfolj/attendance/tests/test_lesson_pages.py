"""A teacher's lesson pages: a day, a week, the lessons left to register, and registering a
past lesson like today's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from fullfolj.attendance.forms import RegisterForm
from fullfolj.attendance.lessons import LessonState
from fullfolj.attendance.models import Lesson, LessonAttendance
from fullfolj.schools import models as s
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 3, 18)  # a Wednesday


@pytest.fixture(autouse=True)
def _noon() -> object:
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM), tick=False):
        yield


@pytest.fixture
def client(client):  # type: ignore[no-untyped-def]
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assert on the msgids
    return client


def lesson_at(cast, day: dt.date, hour: int, teacher=None) -> Lesson:  # type: ignore[no-untyped-def]
    when = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    return f.lesson(cast.group, cast.maths, teacher or cast.teacher, cast.spring, when)


def register_url(lesson: Lesson) -> str:
    return reverse("attendance:lesson-register", args=[lesson.pk])


def states(response) -> dict[int, LessonState]:  # type: ignore[no-untyped-def]
    return {lesson.pk: state for day in response.context["days"] for lesson, state in day["rows"]}


def test_week_shows_each_lesson_of_the_teacher_with_its_state(client, cast):
    later = lesson_at(cast, TODAY, 14)
    theirs = lesson_at(cast, TODAY, 9, teacher=cast.teacher_elsewhere)
    client.force_login(cast.teacher.user)
    response = client.get(reverse("attendance:week"))
    page = response.content.decode()
    assert response.status_code == 200
    assert states(response) == {
        cast.lesson.pk: LessonState.NOT_REGISTERED,
        later.pk: LessonState.NOT_STARTED,
    }
    assert register_url(theirs) not in page
    assert 'aria-current="date"' in page and "?dag=2026-03-18" in page
    assert "Week 12" in page
    assert "?dag=2026-03-09" in page and "?dag=2026-03-23" in page  # previous and next week


def test_week_navigation_stops_at_the_terms_ends(client, cast):
    client.force_login(cast.teacher.user)
    first = client.get(reverse("attendance:week"), {"dag": "2026-01-08"})  # Thursday, week 2
    assert first.status_code == 200
    assert first.context["previous_week"] is None
    assert first.context["next_week"] == dt.date(2026, 1, 12)
    last = client.get(reverse("attendance:week"), {"dag": "2026-06-12"})
    assert last.context["next_week"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("18 mars", "Enter the day as YYYY-MM-DD, not “18 mars”."),
        ("2026-02-30", "Enter the day as YYYY-MM-DD, not “2026-02-30”."),
        ("2025-10-01", "Choose a day in the term, 8 January 2026 – 12 June 2026."),
    ],
)
@pytest.mark.parametrize("route", ["attendance:week", "attendance:today"])
def test_a_bad_day_is_named_and_this_week_shown(client, cast, route, value, message):
    client.force_login(cast.teacher.user)
    response = client.get(reverse(route), {"dag": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert register_url(cast.lesson) in response.content.decode() or route == "attendance:today"


def test_day_view_reaches_a_past_school_day_and_its_neighbours(client, cast):
    s.DayOff.objects.create(organiser=cast.org, date=dt.date(2026, 3, 13), name="Studiedag")
    client.force_login(cast.teacher.user)
    response = client.get(reverse("attendance:today"), {"dag": "2026-03-16"})
    page = response.content.decode()
    assert response.status_code == 200
    assert register_url(cast.lesson) in page
    assert "Not registered" in page
    assert response.context["previous_day"] == dt.date(2026, 3, 12)  # past weekend, study day
    assert response.context["next_day"] == dt.date(2026, 3, 17)
    study_day = client.get(reverse("attendance:today"), {"dag": "2026-03-13"})
    assert "No teaching: Studiedag." in study_day.content.decode()


def test_on_a_weekend_today_lands_on_the_last_school_day_saying_so(client, cast, settings):
    settings.FULLFOLJ_TODAY = "2026-03-22"  # a Sunday
    friday = lesson_at(cast, dt.date(2026, 3, 20), 9)
    with time_machine.travel(dt.datetime(2026, 3, 22, 12, 0, tzinfo=STOCKHOLM), tick=False):
        client.force_login(cast.teacher.user)
        response = client.get(reverse("attendance:today"))
        week = client.get(reverse("attendance:week"))
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["day"] == dt.date(2026, 3, 20)
    assert "is not a school day. Showing the last school day, Friday 20 March." in page
    assert register_url(friday) in page
    assert week.context["monday"] == dt.date(2026, 3, 16)  # the week just ending


def test_on_a_holiday_today_lands_before_it(client, cast, settings):
    settings.FULLFOLJ_TODAY = "2026-03-18"
    s.DayOff.objects.create(organiser=cast.org, date=TODAY, name="Påsklov")
    s.DayOff.objects.create(organiser=cast.org, date=dt.date(2026, 3, 17), name="Påsklov")
    client.force_login(cast.teacher.user)
    response = client.get(reverse("attendance:today"))
    assert response.context["day"] == dt.date(2026, 3, 16)
    assert register_url(cast.lesson) in response.content.decode()


def test_lessons_to_register_oldest_first_with_count(client, cast):
    earlier = lesson_at(cast, dt.date(2026, 3, 10), 9)
    this_morning = lesson_at(cast, TODAY, 9)
    lesson_at(cast, TODAY, 14)  # not started
    client.force_login(cast.teacher.user)
    response = client.get(reverse("attendance:to-register"))
    page = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["page"]) == [earlier, cast.lesson, this_morning]
    assert "3 lessons this term have started and are not registered yet." in page
    assert page.index(register_url(earlier)) < page.index(register_url(this_morning))
    week = client.get(reverse("attendance:week")).content.decode()
    assert '<span class="count">3<' in week


def test_lessons_to_register_are_paged(client, cast, django_assert_max_num_queries):
    for day in range(1, 28):  # 2 Feb - 12 Mar, weekdays: 27 lessons x 2
        for hour in (9, 10):
            lesson_at(cast, dt.date(2026, 2, 1) + dt.timedelta(days=day), hour)
    client.force_login(cast.teacher.user)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("attendance:to-register"))
    assert len(first.context["page"]) == 50
    second = client.get(reverse("attendance:to-register"), {"sida": "2"})
    assert len(second.context["page"]) == 55 - 50
    assert client.get(reverse("attendance:to-register"), {"sida": "x"}).status_code == 200


def test_week_view_queries_do_not_grow_with_lessons(client, cast, django_assert_max_num_queries):
    for day in (16, 17, 18, 19, 20):
        for hour in (8, 9, 10, 13, 14, 15):
            lesson_at(cast, dt.date(2026, 3, day), hour)
    client.force_login(cast.teacher.user)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("attendance:week"))
    assert sum(len(day["rows"]) for day in response.context["days"]) == 31


def test_a_person_with_several_roles_sees_only_the_lessons_they_teach(client, cast):
    south = f.lesson(
        cast.group_south,
        cast.maths,
        cast.teacher_admin,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
    )
    client.force_login(cast.teacher_admin.user)
    response = client.get(reverse("attendance:week"))
    assert states(response) == {south.pk: LessonState.NOT_REGISTERED}
    listed = client.get(reverse("attendance:to-register"))
    assert list(listed.context["page"]) == [south]
    client.force_login(cast.mentor_principal.user)  # principal elsewhere, teaches nothing
    assert states(client.get(reverse("attendance:week"))) == {}
    assert not client.get(reverse("attendance:to-register")).context["page"].object_list


def test_another_teachers_past_lesson_is_not_found(client, cast):
    client.force_login(cast.teacher_elsewhere.user)
    assert client.get(register_url(cast.lesson)).status_code == 404
    response = client.post(register_url(cast.lesson), {"pupil": [str(cast.pupil.pk)]})
    assert response.status_code == 404
    assert not Lesson.objects.get(pk=cast.lesson.pk).registered_at


def test_registering_a_past_lesson_works_like_today_and_is_marked_late(client, cast):
    past = lesson_at(cast, dt.date(2026, 3, 11), 10)
    nxt = lesson_at(cast, dt.date(2026, 3, 12), 10)
    client.force_login(cast.teacher.user)
    form = client.get(register_url(past))
    assert "was never registered" in form.content.decode()
    data = {
        "state": RegisterForm(past).state,
        "pupil": [str(cast.pupil.pk)],
        f"p{cast.pupil.pk}-absent_whole": "on",
        f"p{cast.pupil.pk}-status": "OGIL",
    }
    response = client.post(register_url(past), data)
    assert response.status_code == 302
    mark = LessonAttendance.objects.get(lesson=past, pupil=cast.pupil)
    assert (mark.absent_minutes, mark.is_valid) == (60, False)
    page = client.get(register_url(past)).content.decode()
    assert "Registered afterwards: first saved 18 March." in page
    assert "Next lesson to register" in page
    assert register_url(nxt) in page  # the oldest left: 12 March, before 16 March
    week = client.get(reverse("attendance:week"), {"dag": "2026-03-11"})
    assert states(week)[past.pk] == LessonState.REGISTERED


def test_the_register_on_a_phone_opens_details_only_where_needed(client, cast):
    s.GroupMembership.objects.create(
        group=cast.group, pupil=cast.other_pupil, start=cast.year.start
    )
    client.force_login(cast.teacher.user)
    page = client.get(register_url(cast.lesson)).content.decode()
    # Alva was absent, invalid: her reason shows under her line; Bilal's line stays one line.
    assert f'id="pupil-{cast.pupil.pk}" class="has-details"' in page
    assert f'id="pupil-{cast.other_pupil.pk}" class=""' in page
    assert "Show absent minutes and reason for everyone" in page
