"""The questionnaire: the scale, versions that keep old answers readable, the two stages, the
scores per dimension and the falling dimension."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fullfolj.kasam import actions, queries
from fullfolj.kasam.models import Answer, Dimension, Questionnaire, Response, Stage


def _all(questionnaire: Questionnaire, value: int) -> dict[int, int]:
    return {q.pk: value for q in questionnaire.questions.all()}


def test_each_stage_has_our_questions_on_every_dimension(db):
    for stage in Stage.values:
        questionnaire = Questionnaire.objects.get(stage=stage, is_current=True)
        dimensions = {q.dimension for q in questionnaire.questions.all()}
        assert dimensions == set(Dimension.values)
    middle = Questionnaire.objects.get(stage="4-6").questions.first()
    upper = Questionnaire.objects.get(stage="7-9").questions.first()
    assert middle.text != upper.text


def test_the_stage_follows_the_pupils_year(cast):
    assert queries.questionnaire_for(cast.pupil).stage == "7-9"  # year 7
    assert queries.questionnaire_for(cast.pupil_elsewhere) is None  # year 3: no questionnaire
    assert Stage.for_grade(4) == "4-6" and Stage.for_grade(6) == "4-6"
    assert Stage.for_grade(10) is None


@pytest.mark.parametrize("bad", [0, 6, -1, 99])
def test_an_answer_outside_the_scale_is_refused_and_nothing_is_saved(cast, bad):
    questionnaire = queries.questionnaire_for(cast.pupil)
    values = _all(questionnaire, 3)
    first = questionnaire.questions.first()
    values[first.pk] = bad
    with pytest.raises(ValidationError) as refused:
        actions.record_answers(
            cast.pupil, questionnaire=questionnaire, values=values, setting="talk", by=cast.mentor
        )
    assert f"q{first.pk}" in refused.value.message_dict
    assert first.text in refused.value.message_dict[f"q{first.pk}"][0]
    assert not Response.objects.exists()


def test_a_missing_answer_is_named(cast):
    questionnaire = queries.questionnaire_for(cast.pupil)
    values = _all(questionnaire, 3)
    last = questionnaire.questions.last()
    del values[last.pk]
    with pytest.raises(ValidationError) as refused:
        actions.record_answers(
            cast.pupil, questionnaire=questionnaire, values=values, setting="pupil", by=None
        )
    assert list(refused.value.message_dict) == [f"q{last.pk}"]


def test_the_database_refuses_a_value_off_the_scale(cast):
    questionnaire = queries.questionnaire_for(cast.pupil)
    response = actions.record_answers(
        cast.pupil, questionnaire=questionnaire, values=_all(questionnaire, 2), setting="talk",
        by=cast.mentor,
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.filter(response=response).update(value=7)


def test_editing_after_answers_makes_a_new_version_and_old_answers_stay_readable(cast):
    old = queries.questionnaire_for(cast.pupil)
    old_texts = [q.text for q in old.questions.all()]
    actions.record_answers(
        cast.pupil, questionnaire=old, values=_all(old, 4), setting="talk", by=cast.mentor,
        answered_on=dt.date(2025, 10, 1),
    )  # fmt: skip
    questions = [(q.dimension, q.text) for q in old.questions.all()]
    questions[0] = (questions[0][0], "Jag förstår vad läraren menar.")
    new = actions.revise_questionnaire(old, questions=questions, by=cast.principal)
    assert new.pk != old.pk and new.version == old.version + 1 and new.is_current
    old.refresh_from_db()
    assert not old.is_current
    assert [q.text for q in old.questions.all()] == old_texts  # untouched
    assert queries.questionnaire_for(cast.pupil) == new
    actions.record_answers(
        cast.pupil, questionnaire=new, values=_all(new, 2), setting="pupil", by=None
    )
    history = queries.scores([cast.pupil.pk])[cast.pupil.pk]
    assert [s.version for s in history] == ["7-9 v1", "7-9 v2"]
    assert history[0].means == dict.fromkeys(Dimension.values, 4.0)


def test_editing_before_any_answer_changes_the_version_in_place(cast):
    questionnaire = Questionnaire.objects.get(stage="4-6", is_current=True)
    questions = [(Dimension.COMPREHENSIBILITY, "A"), (Dimension.MANAGEABILITY, "B"),
                 (Dimension.MEANINGFULNESS, "C")]  # fmt: skip
    same = actions.revise_questionnaire(questionnaire, questions=questions, by=None)
    assert same.pk == questionnaire.pk and same.version == 1
    assert [q.text for q in same.questions.all()] == ["A", "B", "C"]


def test_a_questionnaire_without_a_dimension_is_refused(cast):
    questionnaire = Questionnaire.objects.get(stage="4-6", is_current=True)
    with pytest.raises(ValidationError):
        actions.revise_questionnaire(
            questionnaire, questions=[(Dimension.COMPREHENSIBILITY, "A")], by=None
        )
    assert questionnaire.questions.count() == 9


def test_scores_and_the_falling_dimension(cast):
    questionnaire = queries.questionnaire_for(cast.pupil)
    first = {
        q.pk: {"comprehensibility": 4, "manageability": 4, "meaningfulness": 5}[q.dimension]
        for q in questionnaire.questions.all()
    }
    actions.record_answers(
        cast.pupil, questionnaire=questionnaire, values=first, setting="talk", by=cast.mentor,
        answered_on=dt.date(2025, 10, 1),
    )  # fmt: skip
    assert queries.falling([cast.pupil.pk]) == {}  # one response: nothing to compare
    second = dict(first)
    meaningful = [q for q in questionnaire.questions.all() if q.dimension == "meaningfulness"]
    second[meaningful[0].pk] = 2  # 2, 5, 5: mean 4.0, a fall of 1.0
    actions.record_answers(
        cast.pupil, questionnaire=questionnaire, values=second, setting="pupil", by=None,
        answered_on=dt.date(2026, 3, 1),
    )  # fmt: skip
    history = queries.scores([cast.pupil.pk])[cast.pupil.pk]
    assert history[-1].means["meaningfulness"] == pytest.approx(4.0)
    assert queries.falling([cast.pupil.pk]) == {cast.pupil.pk: pytest.approx(1.0)}
