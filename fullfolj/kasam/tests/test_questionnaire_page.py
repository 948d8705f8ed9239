"""The organiser's administration edits its KASAM questionnaires: an answered version is kept
and the edit becomes a new one; the shipped default stays every other organiser's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.kasam import actions, queries
from fullfolj.kasam.models import Dimension, Question, Questionnaire
from fullfolj.schools import models as s
from tests import factories as f

EDITORS = {"admin", "teacher_admin"}  # the organiser's administration, alone or with a role


def _post(client, stage: str, rows: list[tuple[str, str]]):
    data = {
        "q-TOTAL_FORMS": str(len(rows)),
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "40",
    }
    for i, (dimension, text) in enumerate(rows):
        data[f"q-{i}-dimension"] = dimension
        data[f"q-{i}-text"] = text
    return client.post(reverse("kasam:edit-questionnaire", args=[stage]), data)


def _rows(questionnaire: Questionnaire) -> list[tuple[str, str]]:
    return [(q.dimension, q.text) for q in questionnaire.questions.all()]


def _answer(cast, questionnaire: Questionnaire, value: int, day: dt.date) -> None:
    actions.record_answers(
        cast.pupil,
        questionnaire=questionnaire,
        values={q.pk: value for q in questionnaire.questions.all()},
        setting="talk",
        by=cast.mentor,
        answered_on=day,
    )


@pytest.mark.parametrize("who", ROLES)
def test_only_the_administration_reaches_the_questionnaires(client, cast, who):
    client.force_login(getattr(cast, who).user)
    before = list(Question.objects.order_by("pk").values_list("pk", "text"))
    pages = [reverse("kasam:questionnaires"), reverse("kasam:edit-questionnaire", args=["7-9"])]
    for page in pages:
        assert client.get(page).status_code == (200 if who in EDITORS else 404)
    shipped = Questionnaire.objects.get(stage="7-9", organiser=None)
    rows = [(d, t + " (ändrad)") for d, t in _rows(shipped)]
    response = _post(client, "7-9", rows)
    if who in EDITORS:
        assert response.status_code == 302
        assert Questionnaire.objects.filter(organiser=cast.org, stage="7-9").count() == 1
    else:
        assert response.status_code == 404
        assert not Questionnaire.objects.filter(organiser__isnull=False).exists()
    # the shipped default is never changed from the page, by anyone
    assert list(
        Question.objects.filter(questionnaire__organiser=None)
        .order_by("pk")
        .values_list("pk", "text")
    ) == [row for row in before if row[0] in {q.pk for q in Question.objects.all()}]


def test_the_page_shows_no_pupil_and_logs_no_read(client, cast):
    _answer(cast, queries.questionnaire_for(cast.pupil), 4, dt.date(2025, 10, 1))
    client.force_login(cast.admin.user)
    body = client.get(reverse("kasam:questionnaires")).content.decode()
    assert cast.pupil.last_name not in body
    assert "Jag förstår hur mina betyg sätts." in body


def test_editing_after_answers_makes_a_new_version_and_old_answers_keep_their_questions(
    client, cast
):
    shipped = queries.questionnaire_for(cast.pupil)
    _answer(cast, shipped, 4, dt.date(2025, 10, 1))
    client.force_login(cast.admin.user)
    rows = _rows(shipped)
    rows[0] = (Dimension.COMPREHENSIBILITY, "Jag vet vad som ska hända i skolan i dag.")
    response = _post(client, "7-9", rows)
    assert response.status_code == 302, response.content.decode()
    own = queries.questionnaire_for(cast.pupil)
    assert own.organiser == cast.org and own.version == 2 and own.pk != shipped.pk
    assert _rows(own) == rows

    # the organiser's version is answered too; editing it again makes version 3
    _answer(cast, own, 2, dt.date(2026, 3, 2))
    rows[1] = (Dimension.MEANINGFULNESS, "Skolan hjälper mig nå det jag vill.")
    assert _post(client, "7-9", rows).status_code == 302
    third = queries.questionnaire_for(cast.pupil)
    assert third.version == 3 and _rows(third) == rows
    own.refresh_from_db()
    assert not own.is_current
    assert _rows(own)[1] != rows[1]  # version 2 keeps its questions

    # old answers read with their own questions and versions
    history = queries.scores([cast.pupil.pk])[cast.pupil.pk]
    assert [s.version for s in history] == ["7-9 v1", "7-9 v2"]
    assert history[0].means == dict.fromkeys(Dimension.values, 4.0)
    assert history[1].means == dict.fromkeys(Dimension.values, 2.0)
    first_answer = shipped.responses.get().answers.select_related("question").first()
    assert first_answer.question.text == "Jag vet vad som förväntas av mig på lektionerna."

    # the page lists every version with its answers
    body = client.get(reverse("kasam:questionnaires")).content.decode()
    assert "Jag vet vad som ska hända i skolan i dag." in body


def test_an_unanswered_own_version_changes_in_place(client, cast):
    client.force_login(cast.admin.user)
    shipped = Questionnaire.objects.get(stage="4-6", organiser=None)
    rows = _rows(shipped)[:3] + _rows(shipped)[3:4] + _rows(shipped)[6:7]
    assert _post(client, "4-6", rows).status_code == 302
    own = Questionnaire.objects.get(stage="4-6", organiser=cast.org)
    rows.append((Dimension.MANAGEABILITY, "Jag orkar hela skoldagen."))
    assert _post(client, "4-6", rows).status_code == 302
    assert Questionnaire.objects.filter(stage="4-6", organiser=cast.org).get() == own
    assert _rows(own) == rows
    assert len(_rows(shipped)) == 9  # the default is untouched


def test_another_organiser_keeps_the_shipped_questions(client, cast):
    other = f.organiser("Grannkommun")
    school = f.school(other, "Grannskolan", (7, 9))
    neighbour = f.pupil(other, "Gus", "Granne")
    klass = s.SchoolClass.objects.create(school=school, school_year=cast.year, name="8A", grade=8)
    f.place(neighbour, school, klass, cast.year.start)
    client.force_login(cast.admin.user)
    shipped = Questionnaire.objects.get(stage="7-9", organiser=None)
    rows = [(d, "Ny: " + t) for d, t in _rows(shipped)]
    assert _post(client, "7-9", rows).status_code == 302
    assert queries.questionnaire_for(neighbour) == shipped
    assert queries.questionnaire_for(cast.pupil).organiser == cast.org


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([(Dimension.COMPREHENSIBILITY, "Bara en fråga")], "Every dimension"),
        (
            [
                ("", "Utan dimension"),
                (Dimension.MANAGEABILITY, "B"),
                (Dimension.MEANINGFULNESS, "C"),
                (Dimension.COMPREHENSIBILITY, "D"),
            ],
            "Question 1: choose a dimension",
        ),
    ],
)
def test_bad_questions_are_named_and_nothing_is_saved(client, cast, rows, problem):
    client.force_login(cast.admin.user)
    client.cookies["django_language"] = "en"
    before = Question.objects.count()
    response = _post(client, "7-9", rows)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert Question.objects.count() == before
    assert not Questionnaire.objects.filter(organiser__isnull=False).exists()


def test_an_unknown_stage_is_not_found(client, cast):
    client.force_login(cast.admin.user)
    assert client.get(reverse("kasam:edit-questionnaire", args=["1-3"])).status_code == 404
