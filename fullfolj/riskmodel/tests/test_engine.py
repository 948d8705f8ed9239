"""The risk-model engine and `model evaluate`: small synthetic data, one light public-set run."""

import hashlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from fullfolj.riskmodel import engine, metrics
from fullfolj.riskmodel.cli import evaluate_csv_command
from fullfolj.riskmodel.history import (
    HistoryFileError,
    detect_separator,
    parse_positive,
    read_history_csv,
)

DATASETS = Path("/work/shared/datasets")
STUDENT_MAT = DATASETS / "student_performance" / "student-mat.csv"
STUDENT_MAT_SHA256 = "e47f9ee225e1ee6e69b7564e6dac7123e80b8486677fe111f351964cef5dec80"
REQUIRED_METRICS = (
    "roc_auc",
    "accuracy",
    "precision_at_k",
    "recall_at_k",
    "brier",
    "k",
    "learner",
    "positives",
    "rows",
)


def pupils(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Synthetic pupils whose risk is driven by absence only; returns X, y and the true risk."""
    rng = np.random.default_rng(seed)
    absence = rng.normal(0, 1, n)
    X = pd.DataFrame(
        {
            "absence": absence,
            "noise": rng.normal(0, 1, n),
            "club": pd.Series(rng.choice(["chess", "choir", "none"], n), dtype=str),
        }
    )
    risk = 1 / (1 + np.exp(-(2 * absence - 0.5)))
    return X, (rng.random(n) < risk).astype(int), risk


def write_csv(tmp_path: Path, text: str, name: str = "history.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        code = evaluate_csv_command(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def tail_metrics(output: str) -> dict[str, str]:
    """The `name: value` block after the last blank line; fails if any line is not of that form."""
    block = output.rstrip("\n").split("\n\n")[-1].splitlines()
    metrics = {}
    for line in block:
        name, separator, value = line.partition(": ")
        assert separator, f"not a 'name: value' line: {line!r}"
        metrics[name] = value
    return metrics


# ---------------------------------------------------------------------------------------------
# Reading and encoding


def test_text_columns_are_one_hot_encoded_and_yes_no_becomes_one_column() -> None:
    X = pd.DataFrame(
        {
            "age": [15.0, 16.0, 17.0, 15.0],
            "paid": pd.Series(["yes", "no", "yes", "no"], dtype=str),
            "Mjob": pd.Series(["teacher", "health", "other", "teacher"], dtype=str),
        }
    )
    assert engine.categorical_columns(X) == ["paid", "Mjob"]
    encoder = engine.make_preprocessor(X, scale=False).fit(X)
    encoded = pd.DataFrame(encoder.transform(X), columns=encoder.get_feature_names_out())
    assert list(encoded.columns) == ["age", "paid_yes", "Mjob_health", "Mjob_other", "Mjob_teacher"]
    assert encoded["paid_yes"].tolist() == [1, 0, 1, 0]
    assert encoded["Mjob_teacher"].tolist() == [1, 0, 0, 1]


def test_a_level_never_seen_in_training_is_encoded_as_zeros() -> None:
    X, y, _ = pupils(300)
    model = engine.fit_model(X, y, seed=0, learners=["logistic_regression"])
    new = X.head(1).assign(club="fencing")
    assert 0 < model.predict_proba(new)[0] < 1


def test_reads_the_dropout_quirks_bom_semicolons_and_a_tab_in_the_header(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        'Course;"Daytime/evening attendance\t";Grade;Target\r\n'
        "171;1;12,5;Dropout\r\n9254;0;13,0;Graduate\r\n",
        bom=True,
    )
    history = read_history_csv(path, target="Target", positive="Dropout")
    assert history.separator == ";"
    assert list(history.X.columns) == ["Course", "Daytime/evening attendance", "Grade"]
    assert history.X["Grade"].tolist() == [12.5, 13.0]  # decimal comma, as Swedish files have
    assert history.y.tolist() == [1, 0]


def test_detects_comma_and_tab_separators() -> None:
    assert detect_separator('a,b,c\n1,"2;3",4\n') == ","
    assert detect_separator("a\tb\n1\t2\n") == "\t"


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("<10", "9", True),
        ("<10", "10", False),
        (">=10", "10", True),
        ("Dropout", "Dropout", True),
        ("Dropout", "Graduate", False),
        ("1", "1.0", True),
        ("< 9,5", "9", True),
    ],
)
def test_positive_is_a_value_or_a_comparison(spec: str, value: str, expected: bool) -> None:
    assert parse_positive(spec)(value) is expected


def test_audit_columns_are_kept_out_of_the_inputs(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "sex,absence,G3\nF,1,12\nM,9,4\nF,2,15\n")
    history = read_history_csv(path, target="G3", positive="<10", audit=["sex"])
    assert list(history.X.columns) == ["absence"]
    assert history.audit["sex"].tolist() == ["F", "M", "F"]
    assert history.y.tolist() == [0, 1, 0]


# ---------------------------------------------------------------------------------------------
# Refusals: each names what is wrong and where


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("", {}, "is empty"),
        ("absence,G3\n", {}, "header but no rows"),
        (
            "absence,grade\n1,12\n2,4\n",
            {},
            "target column 'G3' not found; columns are: absence, grade",
        ),
        ("absence,G3\n1,12\n2,4\n", {"drop": ["G2"]}, "--drop column 'G2' not found"),
        ("absence,G3\n1,12\n2,4\n", {"audit": ["sex"]}, "--audit column 'sex' not found"),
        (
            "absence,G3\n1,12\n2,4\n3,8\nmany,3\n",
            {},
            "column 'absence', line 5: 'many' is not a number",
        ),
        ("absence,G3\n1,12\n2,12\n", {}, "single outcome"),
        ("absence,G3\n1,12\n2,14\n", {}, "--positive '<10' never occurs in column 'G3'"),
        (
            "absence,Target\n1,Graduate\n2,Enrolled\n",
            {"target": "Target", "positive": "Dropuot"},
            "never occurs in column 'Target'; its values are: Enrolled, Graduate",
        ),
        ("absence,G3\n1,12\n2\n", {}, "line 3: 1 fields, the header has 2"),
        ("absence,G3\n1,12\n2,\n", {}, "line 3: the target column 'G3' is empty"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(
    tmp_path: Path, text: str, options: dict, message: str
) -> None:
    path = write_csv(tmp_path, text)
    options = {"target": "G3", "positive": "<10"} | options
    with pytest.raises(HistoryFileError) as refusal:
        read_history_csv(path, **options)
    assert message in str(refusal.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryFileError, match="file not found"):
        read_history_csv(tmp_path / "nowhere.csv", target="G3", positive="<10")


def test_the_command_prints_refusals_to_stderr_and_exits_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "absence,grade\n1,12\n2,4\n")
    code, out, err = run_cli(["--csv", str(path), "--target", "G3", "--positive", "<10"])
    assert code == 2
    assert out == ""
    assert "target column 'G3' not found; columns are: absence, grade" in err


def test_the_command_refuses_more_folds_than_rows_of_an_outcome(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "absence,G3\n" + "".join(f"{i},{i}\n" for i in range(20)))
    code, _, err = run_cli(["--csv", str(path), "--target", "G3", "--positive", "<3"])
    assert code == 2
    assert "only 3 positive rows" in err


def test_the_command_refuses_bad_arguments() -> None:
    code, _, err = run_cli(["--csv", "x.csv", "--target", "G3"])
    assert code == 2
    assert "--positive" in err


# ---------------------------------------------------------------------------------------------
# Cross-validation, calibration, explanation


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(20, 120),
    folds=st.integers(2, 10),
    repeats=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_no_pupil_is_in_training_and_test_of_a_split(
    n: int, folds: int, repeats: int, seed: int
) -> None:
    y = np.array([i % 2 for i in range(n)])
    splits = engine.cv_splits(y, folds=folds, repeats=repeats, seed=seed)
    assert len(splits) == folds * repeats
    for train, test in splits:
        assert not set(train) & set(test)
        assert sorted([*train, *test]) == list(range(n))
    for r in range(repeats):
        tested = np.concatenate([test for _, test in splits[r * folds : (r + 1) * folds]])
        assert sorted(tested) == list(range(n))  # every pupil tested exactly once per repeat


def test_calibrated_risks_match_the_true_risks() -> None:
    X, y, risk = pupils(4000, seed=1)
    model = engine.fit_model(X.iloc[:3000], y[:3000], seed=0)
    predicted = model.predict_proba(X.iloc[3000:])
    truth, outcome = risk[3000:], y[3000:]
    assert np.mean(np.abs(predicted - truth)) < 0.04
    oracle_brier = np.mean((truth - outcome) ** 2)  # the best any model can do here
    assert np.mean((predicted - outcome) ** 2) < oracle_brier + 0.01
    assert set(model.candidate_brier) == {*engine.LEARNERS, engine.AVERAGE}
    assert set(model.candidate_accuracy) == set(model.candidate_brier)
    assert model.learner in model.candidate_brier
    assert len(model.pipelines) == len(model.members)
    assert set(model.members) <= set(engine.LEARNERS)


def test_calibration_table_bins_by_predicted_risk() -> None:
    table = metrics.calibration_table(
        np.array([0, 0, 1, 1, 1]), np.array([0.05, 0.15, 0.12, 0.95, 1.0]), bins=10
    )
    assert [(row.lower, row.n) for row in table] == [(0.0, 1), (0.1, 2), (0.9, 2)]
    assert table[1].mean_predicted == pytest.approx(0.135)
    assert table[1].observed_rate == pytest.approx(0.5)
    assert table[2].observed_rate == 1.0


@pytest.mark.parametrize("learner", ["logistic_regression", "gradient_boosting"])
def test_explanation_names_the_feature_that_drives_the_risk(learner: str) -> None:
    X, y, _ = pupils(1500, seed=2)
    model = engine.fit_model(X, y, seed=0, learners=[learner])
    pupil = pd.DataFrame({"absence": [2.5], "noise": [0.0], "club": ["none"]})
    reasons = engine.explain(model, pupil, top=3)
    assert reasons[0][0] == "absence"
    assert reasons[0][1] > 0.3
    assert all(rise > 0 for _, rise in reasons)


def test_a_pupil_with_typical_values_has_no_reasons() -> None:
    X, y, _ = pupils(600, seed=3)
    model = engine.fit_model(X, y, seed=0, learners=["logistic_regression"])
    typical = pd.DataFrame({name: [value] for name, value in model.reference.items()})
    assert engine.explain(model, typical) == []


def test_evaluation_uses_every_row_and_reports_each_fold() -> None:
    X, y, _ = pupils(240, seed=4)
    evaluation = engine.evaluate(X, y, folds=3, repeats=2, seed=0, learners=["logistic_regression"])
    assert len(evaluation.fold_metrics) == 6
    assert evaluation.learner() == "logistic_regression"
    assert evaluation.oof_probability.shape == (240,)
    assert evaluation.mean("roc_auc") > 0.75
    assert evaluation.k_fraction == pytest.approx(y.mean(), abs=0.02)


def test_top_k_metrics_on_a_hand_made_case() -> None:
    scores = metrics.score_predictions(
        np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.3, 0.2, 0.1]), k=2
    )
    assert scores["precision_at_k"] == 0.5
    assert scores["recall_at_k"] == 0.5
    assert scores["accuracy"] == 0.6
    assert scores["roc_auc"] == pytest.approx(5 / 6)


# ---------------------------------------------------------------------------------------------
# Fairness


def test_fairness_rows_on_a_hand_made_case() -> None:
    y_true = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    y_score = np.array([0.9, 0.2, 0.8, 0.1, 0.7, 0.6, 0.3, 0.4])
    groups = pd.Series(["girl", "girl", "girl", "girl", "boy", "boy", "boy", "boy"])
    rows = metrics.fairness_table(y_true, y_score, groups, k=3)  # flags rows 0, 2 and 4
    assert rows == [
        metrics.FairnessRow("boy", 4, 0.25, 1.0, 1.0),
        metrics.FairnessRow("girl", 4, 0.5, 0.5, 0.5),
    ]
    assert metrics.largest_disparity(rows, "recall") == metrics.Disparity(
        "recall", "boy", "girl", 0.5
    )


def test_a_group_without_positives_or_flags_has_undefined_rates() -> None:
    rows = metrics.fairness_table(
        np.array([1, 0, 0]), np.array([0.9, 0.1, 0.2]), pd.Series(["a", "b", "b"]), k=1
    )
    assert math.isnan(rows[1].recall)
    assert math.isnan(rows[1].precision)
    assert metrics.largest_disparity(rows, "recall") is None


# ---------------------------------------------------------------------------------------------
# The command's output


def test_the_command_prints_parseable_metrics_last(tmp_path: Path) -> None:
    X, y, _ = pupils(200, seed=5)
    frame = X.assign(
        sex=np.where(np.arange(200) % 2, "F", "M"), outcome=np.where(y == 1, "Dropout", "Graduate")
    )
    path = tmp_path / "pupils.csv"
    frame.to_csv(path, sep=";", index=False)
    code, out, err = run_cli(
        [
            "--csv",
            str(path),
            "--target",
            "outcome",
            "--positive",
            "Dropout",
            "--drop",
            "noise",
            "--audit",
            "sex",
            "--folds",
            "3",
            "--repeats",
            "1",
            "--jobs",
            "1",
            "--learner",
            "logistic_regression",
            "--details",
        ]
    )
    assert (code, err) == (0, "")
    assert "Fairness by sex" in out
    assert out.index("Fairness by sex") < out.index("roc_auc:")
    metrics = tail_metrics(out)
    assert set(REQUIRED_METRICS) <= set(metrics)
    assert metrics["rows"] == "200"
    assert metrics["inputs"] == "2"  # absence and club: noise dropped, sex audited
    assert metrics["learner"] == "logistic_regression"
    assert "logistic_regression: accuracy" in out  # --details: the inner figures
    for name in ("roc_auc", "accuracy", "precision_at_k", "recall_at_k", "brier", "k"):
        assert 0 <= float(metrics[name]) <= (200 if name == "k" else 1)


@pytest.mark.skipif(not STUDENT_MAT.exists(), reason="public data set not present")
def test_mathematics_with_period_grades_beats_guessing() -> None:
    assert hashlib.sha256(STUDENT_MAT.read_bytes()).hexdigest() == STUDENT_MAT_SHA256
    history = read_history_csv(STUDENT_MAT, target="G3", positive="<10", audit=["sex"])
    evaluation = engine.evaluate(
        history.X, history.y, folds=3, repeats=1, seed=0, learners=["sparse_logistic_regression"]
    )
    # The full comparison (10 folds x 3 repeats, every learner) reaches about 0.92.
    assert evaluation.mean("accuracy") > 0.88
    assert evaluation.mean("roc_auc") > 0.93


def test_a_threshold_outcome_is_learnt_as_a_step() -> None:
    # Fail iff the previous grade is below 10, 5 % of labels flipped: a step, the tree's case,
    # which the average (the tree among its members) also learns.
    rng = np.random.default_rng(7)
    grade = rng.integers(0, 21, 600).astype(float)
    flip = rng.random(600) < 0.05
    y = ((grade < 10) ^ flip).astype(int)
    X = pd.DataFrame({"grade": grade, "noise": rng.normal(size=600)})
    model = engine.fit_model(X, y, seed=0)
    assert model.candidate_accuracy[model.learner] > 0.93
    risk = model.predict_proba(pd.DataFrame({"grade": [9.0, 10.0], "noise": [0.0, 0.0]}))
    assert risk[0] > 0.85
    assert risk[1] < 0.15


# ---------------------------------------------------------------------------------------------
# Choosing the learner


def _risks(y: np.ndarray, right: np.ndarray, confidence: np.ndarray | float) -> np.ndarray:
    """Risks that call `right` pupils correctly at 0.5 with this confidence, the rest wrongly."""
    predicted = np.where(right, y, 1 - y)
    return np.where(predicted == 1, confidence, 1 - confidence)


def test_learners_calibrated_alike_within_noise_are_all_averaged() -> None:
    # 400 pupils: "tree" wrong on 30, "smooth" on 28 others, with sharper risks: a Brier score
    # between one and three standard errors better for "smooth", so both are kept.
    y = np.random.default_rng(11).integers(0, 2, 400)
    right_tree = np.arange(400) >= 30
    right_smooth = (np.arange(400) < 10) | (np.arange(400) >= 38)
    calibrated = {
        "tree": _risks(y, right_tree, 0.8),
        "smooth": _risks(y, right_smooth, np.random.default_rng(1).uniform(0.75, 1.0, 400)),
    }
    difference = (calibrated["tree"] - y) ** 2 - (calibrated["smooth"] - y) ** 2
    standard_error = difference.std(ddof=1) / math.sqrt(400)
    assert standard_error < difference.mean() < engine.MEMBER_BRIER_SE * standard_error
    assert engine.choose_members(calibrated, y) == ["tree", "smooth"]


def test_a_learner_far_worse_calibrated_is_left_out_of_the_average() -> None:
    # The same decisions at 0.5, but "coarse" says 0.51 or 0.49 where "sharp" says 0.99 or 0.01.
    y = np.random.default_rng(13).integers(0, 2, 400)
    right = np.arange(400) >= 12
    calibrated = {
        "coarse": _risks(y, right, 0.51),
        "sharp": _risks(y, right, 0.99),
        "also_sharp": _risks(y, right, 0.98),
    }
    assert engine.choose_members(calibrated, y) == ["sharp", "also_sharp"]


def test_the_model_averages_its_members_and_calibrates_the_average() -> None:
    X, y, _ = pupils(600, seed=5)
    learners = ["logistic_regression", "sparse_logistic_regression"]
    model = engine.fit_model(X, y, seed=0, learners=learners)
    assert model.members == learners  # both fit this smooth risk about equally well
    assert model.learner == engine.AVERAGE
    frame = model.prepare(X.iloc[:50])
    raw = np.mean([engine._raw_proba(pipeline, frame) for pipeline in model.pipelines], axis=0)
    assert np.allclose(model.predict_proba(X.iloc[:50]), model.calibration.apply(raw))


def test_the_ranked_tree_decides_like_its_tree_and_orders_pupils_within_a_leaf() -> None:
    # Fail iff the grade is below 10, and within each side absence adds risk.
    rng = np.random.default_rng(8)
    n = 800
    grade = rng.integers(0, 21, n).astype(float)
    absence = rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(np.where(grade < 10, 2.0, -2.0) + 1.5 * absence)))
    y = (rng.random(n) < risk).astype(int)
    X = np.column_stack([grade, absence])
    ranked = engine.RankedTree(max_depth=2, random_state=0).fit(X, y)
    p = ranked.predict_proba(X)[:, 1]
    leaf = ranked.tree_.predict_proba(X)[:, 1]
    assert np.array_equal(p >= 0.5, leaf >= 0.5)
    assert np.max(np.abs(p - leaf)) <= engine.RankedTree.TIE_WEIGHT
    assert roc_auc_score(y, p) > roc_auc_score(y, leaf) + 0.02
