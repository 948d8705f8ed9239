"""A task is closed only by documenting what was done, with a date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from fullfolj.ladder import actions
from fullfolj.ladder.forms import CloseTaskForm
from fullfolj.ladder.models import LadderRecord, LadderStep, LadderTask
from fullfolj.ladder.tests.conftest import TODAY
from tests.factories import login_with_second_factor


@pytest.fixture
def task(cast) -> LadderTask:
    step = LadderStep.objects.filter(organiser=None, actor="mentor").order_by("order").first()
    return LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor="mentor",
        assignee=cast.mentor,
        opened_on=TODAY,
        due=TODAY + dt.timedelta(days=3),
        reason="frånvaro 12,0 %",
    )


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"date": None}, "date"),
        ({"date": TODAY + dt.timedelta(days=1)}, "date"),
        ({"date": dt.date(1, 1, 1)}, "date"),
        ({"date": dt.date(2025, 8, 17)}, "date"),  # the day before the school year began
        ({"kind": "phoned"}, "kind"),
    ],
)
def test_a_task_is_not_closed_without_documentation(cast, task, fields, field):
    given = {"kind": "contact", "date": TODAY, "text": "Ringde pappa."} | fields
    with pytest.raises(ValidationError) as refused:
        actions.close_task(task, by=cast.mentor, **given)
    assert field in refused.value.message_dict
    task.refresh_from_db()
    assert task.is_open
    assert not LadderRecord.objects.exists()


def test_closing_keeps_what_was_done_who_and_when(cast, task):
    record = actions.close_task(
        task,
        kind="meeting",
        date=dt.date(2026, 3, 17),
        text="  Möte med Alva och mamma.  ",
        by=cast.mentor,
    )
    task.refresh_from_db()
    assert not task.is_open
    assert task.closed_by == cast.mentor
    assert (record.kind, record.date, record.text, record.by) == (
        "meeting",
        dt.date(2026, 3, 17),
        "Möte med Alva och mamma.",
        cast.mentor,
    )


def test_a_closed_task_cannot_be_closed_again(cast, task):
    actions.close_task(task, kind="contact", date=TODAY, text="Ringt.", by=cast.mentor)
    with pytest.raises(ValidationError, match="already closed"):
        actions.close_task(task, kind="contact", date=TODAY, text="Igen.", by=cast.principal)
    assert LadderRecord.objects.count() == 1


def test_the_page_refuses_an_empty_documentation_and_keeps_the_form(client, cast, task):
    client.force_login(cast.mentor.user)
    client.cookies["django_language"] = "en"  # assert on the msgids
    url = reverse("ladder:task", args=[task.pk])
    response = client.post(url, {"kind": "contact", "date": "2026-03-18", "text": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in body
    assert "a task is closed only with documentation" in body
    assert 'value="contact" id="id_kind_0" required checked' in body  # kept, not re-asked
    task.refresh_from_db()
    assert task.is_open


def test_the_page_refuses_a_malformed_date(client, cast, task):
    client.force_login(cast.mentor.user)
    client.cookies["django_language"] = "en"  # assert on the msgids
    response = client.post(
        reverse("ladder:task", args=[task.pk]),
        {"kind": "contact", "date": "18/3", "text": "Ringt."},
    )
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()
    task.refresh_from_db()
    assert task.is_open


def test_closing_from_the_page(client, cast, task):
    client.force_login(cast.mentor.user)
    client.cookies["django_language"] = "en"  # assert on the msgids
    url = reverse("ladder:task", args=[task.pk])
    response = client.post(
        url,
        {"kind": "decision", "date": "2026-03-18", "text": "Beslut: anpassat schema."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url
    body = response.content.decode()
    assert "Beslut: anpassat schema." in body
    assert 'name="text"' not in body  # no form on a closed task
    assert (
        client.post(url, {"kind": "contact", "date": "2026-03-18", "text": "Igen."}).status_code
        == 409
    )
    assert LadderRecord.objects.count() == 1


def test_after_a_change_of_mentor_the_new_mentor_takes_the_task_over(client, cast, task):
    from fullfolj.access.gate import Viewer
    from fullfolj.ladder import queries

    task.assignee = cast.other_mentor  # the mentor when the step opened; Alva has moved on
    task.save()
    assert list(queries.tasks_for(Viewer(cast.mentor))) == [task]
    assert list(queries.tasks_for(Viewer(cast.other_mentor))) == []
    client.force_login(cast.mentor.user)
    client.cookies["django_language"] = "en"  # assert on the msgids
    response = client.post(
        reverse("ladder:task", args=[task.pk]),
        {"kind": "contact", "date": "2026-03-18", "text": "Tog över."},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.closed_by == cast.mentor


@pytest.fixture
def health_task(cast) -> LadderTask:
    step = (
        LadderStep.objects.filter(organiser=None, actor="student_health").order_by("order").first()
    )
    task = LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor="student_health",
        opened_on=TODAY,
        due=TODAY + dt.timedelta(days=14),
        reason="frånvaro 22,0 %",
    )
    actions.close_task(
        task, kind="meeting", date=TODAY, text="Kurator: oro för hemsituationen.", by=cast.nurse
    )
    return task


@pytest.mark.parametrize(
    ("who", "reads"),
    [
        ("nurse", True),
        ("principal", True),
        ("mentor", False),
    ],
)
def test_student_health_documentation_is_read_only_by_the_team_and_principal(
    client, cast, health_task, who, reads
):
    login_with_second_factor(client, getattr(cast, who).user)
    for url in (
        reverse("elevakt:pupil", args=[cast.pupil.pk]),
        reverse("ladder:task", args=[health_task.pk]),
    ):
        body = client.get(url).content.decode()
        assert health_task.step.name in body
        assert ("oro för hemsituationen" in body) is reads, url
        assert ("dokumenterat av elevhälsan" in body) is not reads, url


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("0001-01-01", "The date cannot be before 2025-08-18, when the school year began."),
        ("2025-08-17", "The date cannot be before 2025-08-18, when the school year began."),
        ("2026-03-19", "The date cannot be in the future."),
        ("9999-12-31", "The date cannot be in the future."),
    ],
)
def test_the_page_refuses_a_date_outside_the_school_year_or_in_the_future(
    client, cast, task, date, message
):
    client.force_login(cast.mentor.user)
    client.cookies["django_language"] = "en"  # assert on the msgids
    response = client.post(
        reverse("ladder:task", args=[task.pk]),
        {"kind": "contact", "date": date, "text": "Ringt."},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["date"] == [message]
    assert f'<a href="#id_date">Date: {message}</a>' in response.content.decode()
    task.refresh_from_db()
    assert task.is_open
    assert not LadderRecord.objects.exists()


def test_the_first_day_of_the_school_year_and_today_may_date_the_documentation(cast, task):
    page = CloseTaskForm(first=actions.documentable_from(task))
    assert 'min="2025-08-18" max="2026-03-18"' in str(page["date"])
    record = actions.close_task(
        task, kind="contact", date=dt.date(2025, 8, 18), text="Ringt.", by=cast.mentor
    )
    assert record.date == dt.date(2025, 8, 18)
