"""Every ladder route, every role of the cast: who gets the page, who gets 403 or 404."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse

from fullfolj.access import gate
from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.ladder.models import Actor, LadderRecord, LadderStep, LadderTask
from fullfolj.ladder.tests.conftest import TODAY


@pytest.fixture
def tasks(cast) -> SimpleNamespace:
    """One open task per actor: the mentor's for Alva, the EHT's for Cora (protected identity),
    the principal's for Bilal; each overdue or not."""
    steps = {s.actor: s for s in LadderStep.objects.filter(organiser=None).order_by("-order")}

    def task(pupil, actor, assignee, due):
        return LadderTask.objects.create(
            pupil=pupil,
            step=steps[actor],
            school=cast.north,
            actor=actor,
            assignee=assignee,
            opened_on=TODAY - dt.timedelta(days=5),
            due=due,
            reason="frånvaro 12,0 %",
        )

    return SimpleNamespace(
        mentor=task(cast.pupil, Actor.MENTOR, cast.mentor, TODAY - dt.timedelta(days=1)),
        health=task(cast.protected, Actor.STUDENT_HEALTH, None, TODAY + dt.timedelta(days=2)),
        principal=task(cast.other_pupil, Actor.PRINCIPAL, cast.principal, TODAY),
    )


WHOSE = {"mentor": "pupil", "health": "protected", "principal": "other_pupil"}
MY_TASKS = {
    "mentor": {"mentor"},
    "principal": {"principal"},
    "nurse": {"health"},
    "health_two": {"health"},
    "doctor": {"health"},
}


@pytest.mark.parametrize("who", ROLES)
def test_my_tasks_lists_exactly_the_tasks_for_this_person(client, cast, tasks, who):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("ladder:my-tasks"))
    body = response.content.decode()
    assert response.status_code == 200
    for name, pupil in WHOSE.items():
        person = getattr(cast, pupil)
        assert (person.last_name in body) == (name in MY_TASKS.get(who, set())), (name, who)


# task -> the roles that may open it (ladder roles with a relation to the pupil)
NORTH_HEALTH = {"nurse", "health_two", "doctor"}
MAY_SEE = {
    "mentor": {"mentor", "principal"} | NORTH_HEALTH,
    "health": {"mentor", "principal"} | NORTH_HEALTH,
    "principal": {"other_mentor", "principal", "mentor_principal"} | NORTH_HEALTH,
}
# task -> the roles that may close it
MAY_CLOSE = {
    "mentor": {"mentor", "principal"},
    "health": {"principal"} | NORTH_HEALTH,
    "principal": {"principal"},
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("which", list(WHOSE))
def test_a_task_page_follows_role_and_relation(client, cast, tasks, who, which):
    task, pupil = getattr(tasks, which), getattr(cast, WHOSE[which])
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("ladder:task", args=[task.pk]))
    body = response.content.decode()
    if who in MAY_SEE[which]:
        assert response.status_code == 200
        assert pupil.full_name in body
        assert AccessLog.objects.filter(staff=getattr(cast, who), pupil=pupil).exists()
        assert ('name="text"' in body) == (who in MAY_CLOSE[which])
    else:
        assert response.status_code == 404
        assert pupil.last_name not in body
        assert not AccessLog.objects.filter(pupil=pupil).exists()


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("which", list(WHOSE))
def test_closing_a_task_follows_who_acts(client, cast, tasks, who, which):
    task, pupil = getattr(tasks, which), getattr(cast, WHOSE[which])
    client.force_login(getattr(cast, who).user)
    response = client.post(
        reverse("ladder:task", args=[task.pk]),
        {"kind": "contact", "date": "2026-03-17", "text": "Ringde vårdnadshavare."},
    )
    task.refresh_from_db()
    if who in MAY_CLOSE[which]:
        assert response.status_code == 302
        assert task.closed_by == getattr(cast, who)
    else:
        assert response.status_code == (403 if who in MAY_SEE[which] else 404)
        assert task.is_open
        assert not LadderRecord.objects.exists()
        assert pupil.last_name not in response.content.decode()


@pytest.mark.parametrize("who", ROLES)
def test_the_pupil_page_shows_the_ladder_to_ladder_roles_only(client, cast, tasks, who):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk]))
    body = response.content.decode()
    shown = 'id="ladder-heading"' in body
    assert shown == (who in {"mentor", "principal"} | NORTH_HEALTH)
    if shown:
        assert tasks.mentor.step.name in body
        assert reverse("ladder:task", args=[tasks.mentor.pk]) in body
    elif response.status_code == 200:  # a teacher or the officer: the page, not the ladder
        assert reverse("ladder:task", args=[tasks.mentor.pk]) not in body


def test_mina_elever_shows_each_mentees_step_and_overdue_tasks(client, cast, tasks):
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:my-pupils")).content.decode()
    rows = {line for line in body.split("<tr>") if "Åkesson" in line or "Cöster" in line}
    alva = next(r for r in rows if "Åkesson" in r)
    cora = next(r for r in rows if "Cöster" in r)
    assert tasks.mentor.step.label in alva
    assert 'class="badge"' in alva  # due yesterday: overdue
    assert tasks.health.step.label in cora
    assert 'class="badge"' not in cora  # due in two days


def test_anonymous_visitors_are_sent_to_login(client, cast, tasks):
    for url in (reverse("ladder:my-tasks"), reverse("ladder:task", args=[tasks.mentor.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_the_gate_knows_every_actor_by_its_stored_value():
    # The gate decides on `task.actor`; a renamed or new actor must not fall through its rules.
    assert {actor.value for actor in Actor} == {
        gate.ACTOR_MENTOR,
        gate.ACTOR_PRINCIPAL,
        gate.ACTOR_STUDENT_HEALTH,
    }
