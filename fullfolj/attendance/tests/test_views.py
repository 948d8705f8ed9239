"""The attendance views: a group's absence for a period, sorted; a pupil's calendar and patterns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from fullfolj.access.models import AccessLog
from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.attendance.forms import RegisterForm
from fullfolj.schools import models as s
from tests import factories as f


@pytest.fixture
def client(client):  # type: ignore[no-untyped-def]
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assert on the msgids
    return client


@pytest.fixture
def bilal_in_group(cast):  # type: ignore[no-untyped-def]
    """Bilal joins 7A-MA and misses 15 of Tuesday's 60 minutes; Alva missed Monday's lesson."""
    s.GroupMembership.objects.create(
        group=cast.group, pupil=cast.other_pupil, start=cast.year.start
    )
    tuesday = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 13, 0)),
    )
    f.mark(tuesday, cast.other_pupil, absent=15, valid=True, reason=cast.reasons["SJUK"])
    f.mark(tuesday, cast.pupil)
    rebuild_pupil_days()
    return tuesday


def names_in_order(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.pupil.last_name for row in response.context["rows"]]


def test_group_absence_sorts_by_each_column_both_ways(client, cast, bilal_in_group):
    client.force_login(cast.teacher.user)
    url = reverse("attendance:group-absence", args=[cast.group.pk])
    by_name = client.get(url)
    assert names_in_order(by_name) == ["Bäckström", "Åkesson"]  # Å sorts last, as in Swedish
    most_absent = client.get(url, {"sort": "total", "dir": "desc"})
    assert names_in_order(most_absent) == ["Åkesson", "Bäckström"]  # 60/120 before 15/60
    valid_first = client.get(url, {"sort": "valid", "dir": "desc"})
    assert names_in_order(valid_first) == ["Bäckström", "Åkesson"]
    page = most_absent.content.decode()
    assert 'aria-sort="descending"' in page
    assert "50.0&nbsp;%" in page and "25.0&nbsp;%" in page  # Alva 60 of 120, Bilal 15 of 60


def test_group_absence_for_a_chosen_period(client, cast, bilal_in_group):
    client.force_login(cast.teacher.user)
    url = reverse("attendance:group-absence", args=[cast.group.pk])
    tuesday_only = client.get(url, {"start": "2026-03-17", "end": "2026-03-17"})
    rows = {row.pupil.last_name: row.absence for row in tuesday_only.context["rows"]}
    assert (rows["Åkesson"].scheduled, rows["Åkesson"].absent) == (60, 0)
    assert (rows["Bäckström"].scheduled, rows["Bäckström"].valid) == (60, 15)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-18", "2026-03-01", "The period ends before it starts."),
        ("2024-01-01", "2026-03-01", "Choose a period of at most one year."),
        ("18 mars", "2026-03-01", "Enter the date as YYYY-MM-DD."),
    ],
)
def test_a_bad_period_is_named_and_the_default_period_shown(client, cast, start, end, message):
    client.force_login(cast.mentor.user)
    response = client.get(reverse("attendance:mentees-absence"), {"start": start, "end": end})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Showing the default period instead." in page
    assert response.context["start"] == cast.spring.start  # the term so far


def test_the_calendar_has_a_cell_per_school_day_coloured_and_written_out(client, cast):
    s.DayOff.objects.create(organiser=cast.org, date=dt.date(2026, 3, 13), name="Studiedag")
    client.force_login(cast.mentor.user)
    response = client.get(
        reverse("attendance:pupil-calendar", args=[cast.pupil.pk]),
        {"start": "2026-03-09", "end": "2026-03-20"},
    )
    assert response.status_code == 200
    weeks = response.context["weeks"]
    assert [len(cells) for _monday, cells in weeks] == [5, 5]
    cells = {cell.date: cell for _monday, week in weeks for cell in week}
    assert cells[dt.date(2026, 3, 16)].level == "all"
    assert cells[dt.date(2026, 3, 13)].level == "off"
    assert cells[dt.date(2026, 3, 17)].level == "none"  # no lesson registered that day
    page = response.content.decode()
    assert 'data-date="2026-03-16"' in page and "Studiedag" in page
    assert '<abbr title="invalid">inv.</abbr>' in page  # the colour has a text alternative


def test_the_calendar_shows_absence_by_weekday_subject_and_time_of_day(client, cast):
    client.force_login(cast.mentor.user)
    response = client.get(reverse("attendance:pupil-calendar", args=[cast.pupil.pk]))
    weekdays = dict(response.context["weekdays"])
    assert [str(day) for day in weekdays] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
    ]
    assert weekdays[next(iter(weekdays))].invalid == 60  # Monday
    assert [(subject, a.absent) for subject, a in response.context["subjects"]] == [
        ("Matematik", 60)
    ]
    assert [(label, a.absent) for label, a in response.context["hours"]] == [("09:00–09:59", 60)]


def test_the_calendar_renders_in_swedish(client, cast):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "sv"
    client.force_login(cast.mentor.user)
    page = client.get(reverse("attendance:pupil-calendar", args=[cast.pupil.pk])).content.decode()
    assert "Närvarokalender" in page and "Frånvaromönster" in page and "Per veckodag" in page
    page = client.get(reverse("attendance:mentees-absence")).content.decode()
    assert "Mina elevers frånvaro" in page and "Frånvaro per elev" in page


def test_a_pupils_adaptations_are_shown_beside_the_name(cast, rf: RequestFactory):
    form = RegisterForm(cast.lesson)
    assert [row.adaptations for row in form.rows] == [[]]  # no support app: none, not made up
    form.rows[0].adaptations = ["Extra tid vid prov"]
    request = rf.get("/")
    request.user = cast.teacher.user
    page = render_to_string(
        "attendance/lesson_register.html",
        {
            "lesson": cast.lesson,
            "form": form,
            "has_started": True,
            "history": [],
        },
        request=request,
    )
    row = page[page.index(f'id="pupil-{cast.pupil.pk}"') :]
    row = row[: row.index("</th>")]
    assert 'class="adaptations"' in row and "Extra tid vid prov" in row


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("9999-01-01", "9999-12-31", "Choose a date from 2016-01-01 to 2027-12-31."),
        ("9999-12-27", "9999-12-31", "Choose a date from 2016-01-01 to 2027-12-31."),
        ("0001-01-01", "0001-01-31", "Choose a date from 2016-01-01 to 2027-12-31."),
        ("2026-03-18", "2026-03-01", "The period ends before it starts."),
        ("2024-01-01", "2026-03-01", "Choose a period of at most one year."),
    ],
)
def test_a_calendar_period_out_of_range_is_refused_before_the_read_is_logged(
    client, cast, start, end, message
):
    client.force_login(cast.mentor.user)
    url = reverse("attendance:pupil-calendar", args=[cast.pupil.pk])
    response = client.get(url, {"start": start, "end": end})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Nothing is shown for this period: choose another." in page
    assert cast.pupil.last_name not in page  # the record was not read
    assert not AccessLog.objects.exists()
    # Those who may not see the pupil get the same 404 as with a good period.
    client.force_login(cast.other_mentor.user)
    assert client.get(url, {"start": start, "end": end}).status_code == 404
    assert client.get(url).status_code == 404
    assert not AccessLog.objects.exists()


def test_a_group_period_out_of_range_shows_the_default_period(client, cast):
    client.force_login(cast.teacher.user)
    response = client.get(
        reverse("attendance:group-absence", args=[cast.group.pk]),
        {"start": "9999-01-01", "end": "9999-12-31"},
    )
    assert response.status_code == 400
    assert "Choose a date from 2016-01-01 to 2027-12-31." in response.content.decode()
    assert response.context["start"] == cast.spring.start
