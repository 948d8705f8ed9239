"""Model rows from a history, the held-out comparison with the rule screen, the reason texts."""

import datetime as dt
import math

import numpy as np
import pytest

from fullfolj.riskmodel import dataset, engine, holdout, reasons
from fullfolj.riskmodel.tests.synthetic import history
from fullfolj.screening.engine import default_rules

PUPILS = list(range(1, 61))


@pytest.fixture(scope="module")
def rows() -> dataset.Dataset:
    h = history(PUPILS, seed=1)
    return dataset.build(h, dataset.model_dates(h, every_weeks=3), rules=default_rules())


def test_no_protected_attribute_or_school_is_an_input(rows):
    assert list(rows.X.columns) == list(dataset.FEATURES)
    assert not {"gender", "legal_gender", "school", "school_id", "pupil_id"} & set(rows.X.columns)
    assert set(rows.audit.columns) == {"gender", "school"}
    assert set(rows.audit["gender"]) == {"F", "M"}


def test_outcome_is_the_crossing_within_the_horizon_after_the_date(rows):
    h = history(PUPILS, seed=1)
    crossings = {
        (pupil, day)
        for pupil, day in zip(
            *[c.to_list() for c in dataset.absence_crossings(h.days)], strict=True
        )
    }
    horizon = dt.timedelta(weeks=rows.horizon_weeks)
    for i in range(0, len(rows), 7):
        pupil, day = int(rows.pupil_id[i]), rows.date[i]
        expected = any(p == pupil and day < d <= day + horizon for p, d in crossings)
        assert rows.y[i] == int(expected)
    assert 0 < rows.y.mean() < 0.6


def test_dates_without_a_whole_outcome_window_are_left_out(rows):
    last = max(history(PUPILS, seed=1).days["date"].to_list())
    assert max(rows.date) + dt.timedelta(weeks=rows.horizon_weeks) <= last


def test_absence_rate_is_computed_from_the_minutes():
    h = history([1], seed=2, escalating=0.0)
    day = dataset.model_dates(h)[2]
    indicators = dataset.indicators_at(h, day)
    features = dataset.features(indicators)
    expected = 100 * indicators["28d_absent"][0] / indicators["28d_scheduled"][0]
    assert features["absence_4w"][0] == pytest.approx(expected)
    assert math.isnan(features["f_grades"][0])  # no grades given: unknown, not zero
    assert features["has_grades"][0] == 0


def test_held_out_split_keeps_pupils_and_periods_apart(rows):
    parts = holdout.split(rows, seed=0)
    train_pupils = set(rows.pupil_id[parts.train])
    test_pupils = set(rows.pupil_id[parts.test])
    assert not train_pupils & test_pupils
    first_test = min(rows.date[parts.test])
    horizon = dt.timedelta(weeks=rows.horizon_weeks)
    assert all(day + horizon <= first_test for day in rows.date[parts.train])


def test_model_flags_as_many_pupils_as_the_rule_screen_at_each_date():
    dates = np.array(["a", "a", "a", "b", "b"])
    flags = holdout.flags_like_rules(
        np.array([0.1, 0.9, 0.5, 0.2, 0.3]), np.array([1, 0, 1, 0, 0]), dates
    )
    assert flags.tolist() == [False, True, True, False, False]


def test_held_out_evaluation_compares_the_model_with_the_rules(rows):
    result = holdout.evaluate(rows, seed=0, learners=["logistic_regression"])
    assert result.model["flagged"] == result.rules["flagged"]
    assert result.model["roc_auc"] > 0.7  # absence before the crossing predicts it
    assert {"brier", "precision_at_k", "recall_at_k"} <= set(result.model)
    for column in ("gender", "school"):
        groups = {row["group"] for row in result.fairness[column]["model"]}
        assert len(groups) == 2
        assert {gap["metric"] for gap in result.disparities[column]["rules"]} <= {
            "flag_rate",
            "recall",
            "precision",
        }
    stored = result.as_dict()
    assert stored["test_rows"] == result.test_rows
    text = "\n".join(holdout.lines(result))
    assert "per kön" in text and "per skola" in text
    tail = text.rstrip().split("\n\n")[-1].splitlines()
    assert all(": " in line for line in tail)
    assert any(line.startswith("rules_roc_auc: ") for line in tail)


def test_too_short_a_history_is_refused():
    h = history(PUPILS[:10], seed=0, until=dt.date(2025, 10, 20))
    with pytest.raises(ValueError, match="Historiken räcker inte"):
        dataset.build(h, dataset.model_dates(h), rules=default_rules())


def test_grouped_inner_folds_keep_each_pupil_on_one_side():
    y = np.array([0, 1] * 30)
    groups = np.repeat(np.arange(20), 3)
    for train, test in engine.inner_splits(y, folds=4, seed=0, groups=groups):
        assert not set(groups[train]) & set(groups[test])


# --- Reasons in Swedish words ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "value", "typical", "text"),
    [
        ("invalid_4w", 18.4, 0.0, "Ogiltig frånvaro 18 % de senaste fyra veckorna (vanligt: 0 %)"),
        (
            "absence_trend",
            7.5,
            -0.1,
            "Frånvaron de senaste fyra veckorna har ökat med 7,5 procentenheter jämfört med de "
            "tolv veckorna innan (vanligt: −0,1 procentenheter)",
        ),
        ("f_grades", 3, 0, "3 betyg F eller – i senaste betygen (vanligt: 0)"),
        ("vocational_eligible", 0, 1, "Inte behörig till yrkesprogram enligt senaste betygen"),
        ("merit_value", 142.5, 250, "Meritvärde 142,5 (vanligt: 250)"),
        ("grade", 9, 5, "Årskurs 9"),
        ("f_grades", float("nan"), 0, "Inga betyg ännu"),
    ],
)
def test_reason_texts(feature, value, typical, text):
    assert reasons.reason_text(feature, value, typical) == text


def test_every_input_has_a_reason_text():
    for feature in dataset.FEATURES:
        text = reasons.reason_text(feature, 1.0, 0.0)
        assert "{" not in text
        assert text[0] == text[0].upper()
        assert "1" in text or feature in {"vocational_eligible", "has_grades"}


def test_explanations_name_the_rising_absence_in_words(rows):
    model = engine.fit_model(
        rows.X, rows.y, seed=0, learners=["logistic_regression"], groups=rows.pupil_id
    )
    # A pupil with a middling estimate: raised, but not already next to certain.
    risk = model.predict_proba(rows.X)
    pupil = rows.X.iloc[[int(np.argmin(np.abs(risk - 0.6)))]]
    rises = engine.explain(model, pupil)
    assert rises and rises == engine.explain_many(model, pupil)[0]
    texts = reasons.reasons(rises, pupil.iloc[0].to_dict(), model.reference)
    assert any("frånvaro" in item["text"].lower() for item in texts)
    assert all(item["rise"] > 0 for item in texts)
