"""A falling KASAM dimension as a screening indicator: computed by the engine from the answers
the KASAM app provides through the screening's hook, used by no rule until one is written."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from fullfolj.kasam import actions, queries
from fullfolj.screening import hooks
from fullfolj.screening.engine import compute_indicators, explain, rule, screen
from fullfolj.screening.evaluation import History, screen_history
from fullfolj.screening.models import ScreeningRule
from fullfolj.screening.nightly import NightlyIndicators
from fullfolj.screening.queries import organiser_history
from fullfolj.screening.tests.test_engine import AS_OF, TERM_START, frame, present


def _dialogue(rows: list[tuple[int, dt.date, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"pupil_id": pl.Int64, "date": pl.Date, "dimension": pl.Utf8, "mean_x100": pl.Int64},
        orient="row",
    )


def test_the_engine_takes_the_largest_fall_between_the_last_two_answers():
    autumn, winter, spring, later = (dt.date(2024, 10, 1), dt.date(2025, 1, 20),
                                     dt.date(2025, 2, 24), dt.date(2025, 4, 1))  # fmt: skip
    dialogue = _dialogue(
        [
            # pupil 1: meaningfulness 4.00 -> 3.50 -> 2.33 (falls 1.17), comprehension steady
            (1, autumn, "meaningfulness", 400),
            (1, winter, "meaningfulness", 350),
            (1, spring, "meaningfulness", 233),
            (1, autumn, "comprehensibility", 300),
            (1, spring, "comprehensibility", 300),
            (1, later, "meaningfulness", 100),  # after the screening date: not read
            # pupil 2: rising
            (2, winter, "manageability", 200),
            (2, spring, "manageability", 300),
            # pupil 3: one answer only: no value
            (3, spring, "manageability", 100),
        ]
    )
    result = compute_indicators(
        frame(present(1) + present(2) + present(3)),
        as_of=AS_OF,
        term_start=TERM_START,
        dialogue=dialogue,
    )
    assert result.select("pupil_id", "kasam_fall").rows() == [(1, 117), (2, 0), (3, None)]
    flagged = screen(result, [rule("kf", "kasam_fall", ">=", 1)])
    assert flagged["pupil_id"].to_list() == [1]
    with translation.override("sv"):  # whatever language an earlier test's request left active
        assert explain(flagged.row(0, named=True)).startswith("En KASAM-dimension sjönk med 1,2")
    assert screen(result, [rule("kf", "kasam_fall", ">=", 0)])["pupil_id"].to_list() == [1, 2]


def test_without_the_dialogue_no_rule_on_it_flags():
    result = compute_indicators(frame(present(1)), as_of=AS_OF, term_start=TERM_START)
    assert screen(result, [rule("kf", "kasam_fall", ">=", 0)]).height == 0


def test_the_kasam_app_provides_the_answers_to_the_screening(cast):
    questionnaire = queries.questionnaire_for(cast.pupil)
    for day, value in ((dt.date(2025, 10, 1), 4), (dt.date(2026, 3, 2), 2)):
        actions.record_answers(
            cast.pupil,
            questionnaire=questionnaire,
            values={q.pk: value for q in questionnaire.questions.all()},
            setting="talk",
            by=cast.mentor,
            answered_on=day,
        )
    provided = hooks.dialogue(cast.org.pk, dt.date(2026, 3, 18))
    assert provided is not None and provided.height == 6  # two answers, three dimensions
    assert set(provided["mean_x100"].to_list()) == {400, 200}
    assert hooks.dialogue(cast.org.pk, dt.date(2026, 1, 1)).height == 3
    history = organiser_history(cast.org, start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 18))
    fell = compute_indicators(
        history.days,
        as_of=dt.date(2026, 3, 18),
        term_start=dt.date(2026, 1, 8),
        dialogue=history.dialogue,
    )
    assert fell.filter(pl.col("pupil_id") == cast.pupil.pk)["kasam_fall"].to_list() == [200]


def test_off_by_default_and_checked_like_any_indicator(db):
    assert not ScreeningRule.objects.filter(indicator="kasam_fall").exists()
    with pytest.raises(ValidationError) as refused:
        ScreeningRule(code="kf", name="KASAM", indicator="kasam_fall", comparison=">=",
                      threshold=9).full_clean()  # fmt: skip
    assert "threshold" in refused.value.message_dict


def test_the_nightly_screen_reads_the_answers_through_the_hook_too(cast):
    questionnaire = queries.questionnaire_for(cast.pupil)
    for day, value in (
        (dt.date(2024, 10, 1), 4),
        (dt.date(2025, 2, 24), 2),
        (AS_OF + dt.timedelta(7), 1),
    ):
        actions.record_answers(
            cast.pupil,
            questionnaire=questionnaire,
            values={q.pk: value for q in questionnaire.questions.all()},
            setting="talk",
            by=cast.mentor,
            answered_on=day,
        )
    days = frame(present(cast.pupil.pk) + present(cast.other_pupil.pk))
    friday = AS_OF - dt.timedelta(3)
    yesterday = NightlyIndicators.start(
        days.filter(pl.col("date") <= friday), as_of=friday, term_start=TERM_START
    )
    today = yesterday.add_day(days.filter(pl.col("date") == AS_OF))
    nightly = today.indicators(organiser_id=cast.org.pk)
    fall = dict(nightly.select("pupil_id", "kasam_fall").rows())
    assert fall == {cast.pupil.pk: 200, cast.other_pupil.pk: None}  # the answer after: not read
    full = compute_indicators(
        days, as_of=AS_OF, term_start=TERM_START, dialogue=hooks.dialogue(cast.org.pk, AS_OF)
    )
    assert dict(full.select("pupil_id", "kasam_fall").rows()) == fall
    flagged = screen(nightly, [rule("kf", "kasam_fall", ">=", 1)])
    assert flagged["pupil_id"].to_list() == [cast.pupil.pk]
    # without its organiser the nightly state knows no answers, and no rule on them flags
    assert "kasam_fall" not in today.indicators().columns
    assert screen(today.indicators(), [rule("kf", "kasam_fall", ">=", 0)]).height == 0


def test_a_rule_on_the_fall_is_evaluated_like_any_rule():
    # The rule evaluation screens a history day by day: a pupil whose meaningfulness fell from
    # 4 to 2 in the dialogue is flagged from the day of the second answer, the steady one never.
    end = AS_OF
    history = History(
        days=frame(present(1, TERM_START, end) + present(2, TERM_START, end)),
        terms=pl.DataFrame({"start": [TERM_START], "end": [end]}),
        dialogue=_dialogue(
            [
                (1, dt.date(2024, 10, 1), "meaningfulness", 400),
                (1, dt.date(2025, 2, 17), "meaningfulness", 200),
                (2, dt.date(2024, 10, 1), "meaningfulness", 300),
                (2, dt.date(2025, 2, 17), "meaningfulness", 300),
            ]
        ),
    )
    days = [dt.date(2025, 2, 14), dt.date(2025, 2, 17), dt.date(2025, 2, 24)]
    flags, _roster = screen_history(history, [rule("kf", "kasam_fall", ">=", 1)], days)
    assert sorted(zip(flags["date"].to_list(), flags["pupil_id"].to_list(), strict=True)) == [
        (dt.date(2025, 2, 17), 1),
        (dt.date(2025, 2, 24), 1),
    ]
