"""A case is opened where the need is seen: from a row of the risk list (prefilled from the
flag) and from an absence-ladder task's page (prefilled from the step), by whoever may open
cases for the pupil; within the six interactions issue 17 aims at."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from conftest import TODAY
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.ladder.models import Actor, LadderStep, LadderTask
from fullfolj.support.models import Case

from .conftest import make_flag

# Who reaches Alva (Norrskolan 7A) through a support role: may open her case.
MAY_OPEN = {"mentor", "principal", "nurse", "health_two", "doctor"}


def _risk_list(client, cast) -> str:
    return client.get(reverse("elevakt:school-riskzon", args=[cast.north.pk])).content.decode()


def test_from_the_risk_list_to_an_open_case_with_an_adaptation_in_three_steps(client, cast):
    flag = make_flag(cast)
    client.force_login(cast.principal.user)
    page = _risk_list(client, cast)  # 1: the risk list
    link = reverse("support:open-case", args=[cast.pupil.pk]) + f"?flag={flag.pk}"
    assert f'href="{link}"' in page
    form = client.get(link).content.decode()  # 2: the row's link, the form prefilled
    assert flag.explanation in form and f'name="flag" value="{flag.pk}"' in form
    response = client.post(  # 3: an adaptation and its follow-up date, sent
        reverse("support:open-case", args=[cast.pupil.pk]),
        {
            "flag": flag.pk,
            "responsible": cast.mentor.pk,
            "title": "Lugn plats vid prov",
            "start": TODAY.isoformat(),
            "follow_up_on": (TODAY + dt.timedelta(weeks=4)).isoformat(),
        },
    )
    case = Case.objects.get(pupil=cast.pupil)
    assert response.status_code == 302 and case.flag == flag
    assert case.measures.get().follow_up_on == TODAY + dt.timedelta(weeks=4)
    # Acted on: the row leaves "flagged but no action", and its link with it.
    assert f'href="{link}"' not in _risk_list(client, cast)


@pytest.mark.parametrize("who", ["principal", "nurse", "health_two", "doctor"])
def test_the_risk_list_offers_the_link_to_whoever_may_open_the_case(client, cast, who):
    flag = make_flag(cast)
    client.force_login(getattr(cast, who).user)
    page = _risk_list(client, cast)
    assert cast.pupil.last_name in page
    assert f"?flag={flag.pk}" in page


@pytest.fixture
def task(cast) -> LadderTask:
    step = LadderStep.objects.filter(organiser=None, actor=Actor.MENTOR).order_by("order").first()
    return LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor=Actor.MENTOR,
        assignee=cast.mentor,
        opened_on=TODAY - dt.timedelta(days=2),
        due=TODAY + dt.timedelta(days=5),
        reason="Ogiltig frånvaro 3 tillfällen",
    )


@pytest.mark.parametrize("who", ROLES)
def test_the_task_page_links_to_a_case_for_whoever_may_open_one(client, cast, task, who):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("ladder:task", args=[task.pk]))
    if response.status_code == 404:
        assert who not in MAY_OPEN  # the task is not theirs to see
        return
    body = response.content.decode()
    link = reverse("support:open-case", args=[cast.pupil.pk]) + f"?task={task.pk}"
    assert (link in body) == (who in MAY_OPEN), who


def test_the_task_opens_the_case_prefilled_and_then_leads_to_it(client, cast, task):
    client.force_login(cast.mentor.user)
    link = reverse("support:open-case", args=[cast.pupil.pk]) + f"?task={task.pk}"
    form = client.get(link).content.decode()
    assert task.reason in form and f'name="task" value="{task.pk}"' in form
    client.post(
        reverse("support:open-case", args=[cast.pupil.pk]),
        {
            "task": task.pk,
            "responsible": cast.mentor.pk,
            "title": "",
            "start": TODAY.isoformat(),
            "follow_up_on": "",
        },
    )
    case = Case.objects.get(pupil=cast.pupil)
    assert case.ladder_task == task
    body = client.get(reverse("ladder:task", args=[task.pk])).content.decode()
    assert reverse("support:case", args=[case.pk]) in body and link not in body
