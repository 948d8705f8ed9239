"""A pupil's login reaches the questionnaire of their years and nothing else; staff never reach
the pupil's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.elevakt.tests.test_every_route import _walk
from fullfolj.kasam import actions, queries
from fullfolj.kasam.models import Response
from fullfolj.support.models import Case, Measure


@pytest.fixture
def login(cast):
    return actions.give_login(cast.pupil, username="alva.elev", password="pw-alva")


def _every_route(cast, ids):
    from django.urls import get_resolver

    for route, name, _entry in _walk(get_resolver().url_patterns):
        path = "/" + route.replace("^", "").replace("$", "")
        for key, value in ids.items():
            path = path.replace(f"<int:{key}>", str(value))
        path = path.replace("<slug:slug>", "dagsschema")
        if "<" in path or "(?P" in path:
            continue  # the admin's own patterns: refused below as a whole
        yield name, path


def test_every_other_route_refuses_the_pupil(client, cast, login):
    case = Case.objects.create(pupil=cast.pupil, school=cast.north, responsible=cast.mentor)
    measure = Measure.objects.create(
        case=case, kind="extra_adaptation", title="x", start="2026-03-02", follow_up_on="2026-04-01"
    )
    ids = {
        "case_id": case.pk,
        "measure_id": measure.pk,
        "pupil_id": cast.pupil.pk,
        "school_id": cast.north.pk,
        "group_id": cast.group.pk,
        "lesson_id": cast.lesson.pk,
        "task_id": 1,
        "organiser_id": cast.org.pk,
    }
    client.force_login(login.user)
    allowed = {"kasam:answer", "logout", "set_language", "elevakt:home"}
    checked = 0
    for name, path in _every_route(cast, ids):
        if name in allowed:
            continue
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 404, (name, path, response.status_code)
            assert "Åkesson" not in response.content.decode()
        checked += 1
    assert checked > 50
    for path in ("/admin/", "/admin/schools/pupil/", "/api/v1/pupils/"):
        assert client.get(path).status_code == 404
    home = client.get(reverse("elevakt:home"))
    assert home.status_code == 302 and home.url == reverse("kasam:answer")


def test_the_pupil_answers_the_questionnaire_of_their_years(client, cast, login):
    client.force_login(login.user)
    page = client.get(reverse("kasam:answer"))
    assert page.status_code == 200
    questionnaire = queries.questionnaire_for(cast.pupil)
    body = page.content.decode()
    assert all(q.text in body for q in questionnaire.questions.all())
    assert "Åkesson" not in body and "Hemliga" not in body
    data = {f"q{q.pk}": "4" for q in questionnaire.questions.all()}
    assert client.post(reverse("kasam:answer"), data).status_code == 200
    response = Response.objects.get()
    assert (response.pupil, response.setting, response.recorded_by) == (cast.pupil, "pupil", None)


def test_an_answer_off_the_scale_is_refused_with_its_question(client, cast, login):
    client.force_login(login.user)
    questionnaire = queries.questionnaire_for(cast.pupil)
    data = {f"q{q.pk}": "4" for q in questionnaire.questions.all()}
    first = questionnaire.questions.first()
    data[f"q{first.pk}"] = "9"
    page = client.post(reverse("kasam:answer"), data)
    assert page.status_code == 400
    assert "Svara på skalan 1 till 5." in page.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("who", ROLES)
def test_staff_do_not_reach_the_pupils_page(client, cast, who):
    client.force_login(getattr(cast, who).user)
    assert client.get(reverse("kasam:answer")).status_code == 404


# who holds a development talk with Alva (year 7): her mentor, principal and student health
TALK = {"mentor", "principal", "nurse", "health_two", "doctor"}


@pytest.mark.parametrize("who", ROLES)
def test_the_talk_follows_role_and_relation(client, cast, who):
    client.force_login(getattr(cast, who).user)
    url = reverse("kasam:talk", args=[cast.pupil.pk])
    page = client.get(url)
    questionnaire = queries.questionnaire_for(cast.pupil)
    data = {f"q{q.pk}": "3" for q in questionnaire.questions.all()}
    posted = client.post(url, data)
    if who in TALK:
        assert page.status_code == 200
        assert posted.status_code == 302
        assert Response.objects.filter(pupil=cast.pupil, recorded_by=getattr(cast, who)).exists()
    else:
        assert page.status_code == 404 and posted.status_code == 404
        assert not Response.objects.exists()


def test_no_talk_for_a_pupil_outside_years_4_to_9(client, cast):
    client.force_login(cast.principal_elsewhere.user)
    assert client.get(reverse("kasam:talk", args=[cast.pupil_elsewhere.pk])).status_code == 404


# the KASAM section on the pupil page: the same people as the talk
@pytest.mark.parametrize("who", ["mentor", "principal", "nurse", "teacher", "doctor"])
def test_the_pupil_page_shows_the_dimensions_to_those_who_hold_talks(client, cast, who):
    questionnaire = queries.questionnaire_for(cast.pupil)
    actions.record_answers(
        cast.pupil,
        questionnaire=questionnaire,
        values={q.pk: 4 for q in questionnaire.questions.all()},
        setting="talk",
        by=cast.mentor,
    )
    client.force_login(getattr(cast, who).user)
    body = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    assert ('id="kasam-table"' in body) == (who in TALK)
    if who in TALK:
        assert "Meningsfullhet" in body and "4,0" in body
        assert ">5</text>" in body and ">30</text>" not in body  # the axis ends at the scale's 5
