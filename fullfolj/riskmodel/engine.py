"""The at-risk model (riskmodell): learner choice, calibration, evaluation, explanation.

Pure computation on pandas frames, no Django; the scores it reports and the fairness
comparison are in `metrics`. The rules:

- Learners compete by inner cross-validation on the training rows only, so the choice never
  sees the rows it is scored on (`fit_model`). The model is the average of the candidates
  whose calibrated risks are not clearly worse than the best one's (Brier score within three
  standard errors): on a few hundred pupils, picking a single learner chased noise.
- Probabilities are calibrated by Platt scaling fitted on the inner out-of-fold predictions
  (what scikit-learn's `CalibratedClassifierCV(method="sigmoid", ensemble=False)` does), so a
  risk of 0.3 means about 3 in 10 such pupils had the outcome.
- Evaluation is repeated stratified k-fold; each outer fold fits the whole procedure afresh
  (nested cross-validation), and no row is ever in both training and test of one split.
- "Top k": a school can follow up only so many pupils. Unless a fraction is given, k is the
  number of positives the training fold's prevalence predicts for the test fold.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from .metrics import choose_k, score_predictions

PROBABILITY_FLOOR = 1e-4  # keeps logit() finite for trees that say exactly 0 or 1
MAX_CATEGORIES = 30  # rare levels are pooled so a free-text column cannot explode the width
MEMBER_BRIER_SE = 3.0  # `choose_members`: how much worse calibrated a member may be
# Folds fitted in parallel unless told: every core (the command and the stand-alone CLI alike).
DEFAULT_JOBS = os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Encoding and learners


def categorical_columns(X: pd.DataFrame) -> list[str]:
    """Columns that are not numbers (or booleans) and so are one-hot encoded."""
    return [name for name in X.columns if not pd.api.types.is_numeric_dtype(X[name])]


def make_preprocessor(X: pd.DataFrame, *, scale: bool) -> ColumnTransformer:
    """Impute and scale numbers, one-hot encode text; a two-level column becomes one 0/1 column."""
    text = categorical_columns(X)
    numbers = [name for name in X.columns if name not in text]
    # An input nobody has (no grades yet) stays a column of zeros, so the width is fixed.
    imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    number_steps: list[Any] = [imputer]
    if scale:
        number_steps.append(StandardScaler())
    encoder = OneHotEncoder(
        drop="if_binary",
        handle_unknown="ignore",
        sparse_output=False,
        max_categories=MAX_CATEGORIES,
    )
    return ColumnTransformer(
        [("numbers", make_pipeline(*number_steps), numbers), ("text", encoder, text)],
        verbose_feature_names_out=False,
    )


class RankedTree(ClassifierMixin, BaseEstimator):
    """A shallow decision tree whose pupils within a leaf are ordered by a lasso logistic model.

    The risk is 0.99 x the leaf's rate + 0.01 x the logistic model's risk: the tree makes the
    decisions (its few thresholds on a previous grade are what wins Cortez & Silva's data at
    0.5), the logistic model only breaks the ties inside a leaf, so the ranking (ROC AUC,
    top k) is not that of four leaf rates.
    """

    TIE_WEIGHT = 0.01

    def __init__(self, max_depth: int = 2, min_samples_leaf: int = 10, random_state: int = 0):
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> RankedTree:
        self.tree_ = DecisionTreeClassifier(
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
        ).fit(X, y)
        self.ranker_ = clone(_SPARSE_LOGISTIC).set_params(random_state=self.random_state)
        self.ranker_.fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        leaf = self.tree_.predict_proba(X)
        ranking = self.ranker_.predict_proba(X)
        return np.asarray((1 - self.TIE_WEIGHT) * leaf + self.TIE_WEIGHT * ranking)


def _decision_tree(X: pd.DataFrame, seed: int) -> Pipeline:
    # Two levels: in effect a threshold or two on the strongest input (a previous grade), the
    # learner that wins Portuguese with G1/G2 in Cortez & Silva (2008). Scaling the inputs
    # changes nothing for the tree and is what the tie-breaking lasso needs.
    learner = RankedTree(max_depth=2, min_samples_leaf=10, random_state=seed)
    return Pipeline([("encode", make_preprocessor(X, scale=True)), ("learn", learner)])


def _logistic(X: pd.DataFrame, seed: int) -> Pipeline:
    # Ridge (L2) penalty, its strength chosen by an inner 3-fold CV on log loss.
    learner = LogisticRegressionCV(
        Cs=np.logspace(-3, 2, 11),
        cv=3,
        l1_ratios=(0.0,),
        scoring="neg_log_loss",
        max_iter=2000,
        use_legacy_attributes=False,
    )
    return Pipeline([("encode", make_preprocessor(X, scale=True)), ("learn", learner)])


# Lasso (L1) penalty: drops weak inputs outright, which helps when pupils are few and
# columns many (student-por without G2: 0.88 -> 0.91 accuracy in our trials).
_SPARSE_LOGISTIC = LogisticRegressionCV(
    Cs=np.logspace(-2, 1.5, 8),
    cv=3,
    l1_ratios=(1.0,),
    solver="liblinear",
    scoring="neg_log_loss",
    max_iter=2000,
    use_legacy_attributes=False,
)


def _sparse_logistic(X: pd.DataFrame, seed: int) -> Pipeline:
    learner = clone(_SPARSE_LOGISTIC).set_params(random_state=seed)
    return Pipeline([("encode", make_preprocessor(X, scale=True)), ("learn", learner)])


def _gradient_boosting(X: pd.DataFrame, seed: int) -> Pipeline:
    learner = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=400,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=30,
        random_state=seed,
    )
    return Pipeline([("encode", make_preprocessor(X, scale=False)), ("learn", learner)])


def _random_forest(X: pd.DataFrame, seed: int) -> Pipeline:
    learner = RandomForestClassifier(
        n_estimators=200, min_samples_leaf=2, max_features="sqrt", random_state=seed, n_jobs=1
    )
    return Pipeline([("encode", make_preprocessor(X, scale=False)), ("learn", learner)])


LEARNERS: dict[str, Callable[[pd.DataFrame, int], Pipeline]] = {
    "decision_tree": _decision_tree,
    "logistic_regression": _logistic,
    "sparse_logistic_regression": _sparse_logistic,
    "gradient_boosting": _gradient_boosting,
    "random_forest": _random_forest,
}
# Above this many rows the check compares only the learners whose time grows about linearly
# with the rows (`model evaluate --csv`); the others took minutes per fold there.
LARGE_ROWS = 20_000
SCALABLE_LEARNERS = ("logistic_regression", "gradient_boosting")
AVERAGE = "average"  # the mean of the chosen members' probabilities (`choose_members`)


# ---------------------------------------------------------------------------------------------
# Calibration and the fitted model


@dataclass(frozen=True)
class PlattScaling:
    """Maps a learner's probability p to sigmoid(slope * logit(p) + intercept)."""

    slope: float
    intercept: float

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> PlattScaling:
        """Fit on out-of-fold probabilities, never on ones the learner was trained on."""
        model = LogisticRegression(C=1e4, max_iter=1000)
        model.fit(_logit(raw).reshape(-1, 1), y)
        return cls(slope=float(model.coef_[0, 0]), intercept=float(model.intercept_[0]))

    def apply(self, raw: np.ndarray) -> np.ndarray:
        return _sigmoid(self.slope * _logit(raw) + self.intercept)


@dataclass
class FittedModel:
    """The chosen learners, averaged and calibrated, plus what is needed to explain them."""

    learner: str  # a name in LEARNERS, or AVERAGE
    pipelines: list[Pipeline]  # one per member, averaged
    calibration: PlattScaling
    columns: list[str]
    text_columns: list[str]
    reference: dict[str, Any]  # training median (numbers) or mode (text), for `explain`
    candidate_brier: dict[str, float] = field(default_factory=dict)  # inner CV, calibrated
    candidate_accuracy: dict[str, float] = field(default_factory=dict)  # inner CV, at 0.5
    members: list[str] = field(default_factory=list)  # the learners averaged

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the positive outcome, one per row (a 1-D array)."""
        frame = self.prepare(X)
        with threadpool_limits(limits=1):
            raw = np.mean([_raw_proba(pipeline, frame) for pipeline in self.pipelines], axis=0)
        return self.calibration.apply(raw)

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """The training columns, in order, with text as str and numbers as float."""
        missing = [name for name in self.columns if name not in X.columns]
        if missing:
            raise ValueError(f"columns missing for prediction: {', '.join(missing)}")
        frame = X.loc[:, self.columns].copy()
        for name in self.columns:
            if name in self.text_columns:
                frame[name] = frame[name].fillna("").astype(str)
            else:
                frame[name] = pd.to_numeric(frame[name], errors="raise").astype(float)
        return frame


def fit_model(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    seed: int,
    learners: Sequence[str] = tuple(LEARNERS),
    inner_folds: int | None = None,
    groups: np.ndarray | None = None,
) -> FittedModel:
    """Choose the learners to average by inner CV on these rows only, calibrate, refit them.

    Each learner's out-of-fold probabilities are Platt-calibrated and scored; the model
    averages the learners whose Brier score is not clearly worse than the best
    (`choose_members`). The average's own out-of-fold probabilities fit its calibration, so
    it is learnt on rows the learners had not seen. Inner folds:
    5 below 1,000 rows (a steadier choice where it is cheap), else 3. With `groups` (a pupil
    per row, when a pupil has rows at several dates) no pupil is in both sides of an inner
    split, so the calibration is learnt on pupils the learner had not seen.
    """
    unknown = [name for name in learners if name not in LEARNERS]
    if unknown or not learners:
        raise ValueError(f"unknown learners {unknown}; choose from {', '.join(LEARNERS)}")
    if inner_folds is None:
        inner_folds = 5 if len(X) < 1000 else 3
    # One thread each: OpenMP and BLAS threads fighting other processes on a small server made
    # fitting 10-30 times slower; parallelism belongs to the outer folds (`evaluate`).
    with threadpool_limits(limits=1):
        return _fit_model(
            X, y, seed=seed, learners=learners, inner_folds=inner_folds, groups=groups
        )


def inner_splits(
    y: np.ndarray, *, folds: int, seed: int, groups: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold row positions; with `groups`, all rows of a group on one side."""
    if groups is None:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))
    grouped = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(grouped.split(np.zeros(len(y)), y, groups))


def _fit_model(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    seed: int,
    learners: Sequence[str],
    inner_folds: int,
    groups: np.ndarray | None,
) -> FittedModel:
    y = np.asarray(y, dtype=int)
    X = X.reset_index(drop=True)
    minority = int(min(y.sum(), len(y) - y.sum()))
    if minority < 2:
        raise ValueError("fit_model needs at least two rows of each outcome")
    splits = inner_splits(y, folds=min(inner_folds, minority), seed=seed, groups=groups)
    raw: dict[str, np.ndarray] = {}
    for name in learners:
        raw[name] = np.empty(len(y))
        for train, test in splits:
            fitted = LEARNERS[name](X, seed).fit(X.iloc[train], y[train])
            raw[name][test] = _raw_proba(fitted, X.iloc[test])
    calibrations = {name: PlattScaling.fit(scores, y) for name, scores in raw.items()}
    calibrated = {name: calibrations[name].apply(raw[name]) for name in raw}
    members = choose_members(calibrated, y)
    if len(learners) > 1:
        raw[AVERAGE] = np.mean([raw[name] for name in members], axis=0)
        calibrations[AVERAGE] = PlattScaling.fit(raw[AVERAGE], y)
        calibrated[AVERAGE] = calibrations[AVERAGE].apply(raw[AVERAGE])
    best = AVERAGE if len(members) > 1 else members[0]
    text = categorical_columns(X)
    reference = {
        name: (X[name].mode().iloc[0] if name in text else float(X[name].median()))
        for name in X.columns
    }
    return FittedModel(
        learner=best,
        pipelines=[LEARNERS[name](X, seed).fit(X, y) for name in members],
        calibration=calibrations[best],
        columns=list(X.columns),
        text_columns=text,
        reference=reference,
        candidate_brier={name: float(np.mean((p - y) ** 2)) for name, p in calibrated.items()},
        candidate_accuracy={
            name: float(np.mean((p >= 0.5) == (y == 1))) for name, p in calibrated.items()
        },
        members=members,
    )


def choose_members(calibrated: dict[str, np.ndarray], y: np.ndarray) -> list[str]:
    """The learners to average: those whose Brier score is within three standard errors of the best.

    `calibrated` holds each learner's calibrated out-of-fold risks. Picking the single most
    accurate learner, or the simplest within one standard error (Hastie, Tibshirani &
    Friedman, ch. 7.10), chased noise on a few hundred pupils: the tree won the folds with
    period grades and lost those without, smoother learners the reverse (RESULTS.md). The
    average is never far from the best; only a learner whose risks are clearly worse (a tree's
    few leaf rates where the truth is a smooth curve) is left out. The standard error is that
    of the per-pupil difference in squared error.
    """
    y = np.asarray(y, dtype=int)
    squared = {name: (p - y) ** 2 for name, p in calibrated.items()}
    best = min(squared, key=lambda name: squared[name].mean())
    members = []
    for name, error in squared.items():
        difference = error - squared[best]
        standard_error = difference.std(ddof=1) / math.sqrt(len(difference))
        if difference.mean() <= MEMBER_BRIER_SE * standard_error:
            members.append(name)
    return members


def explain(model: FittedModel, X_row_frame: pd.DataFrame, top: int = 3) -> list[tuple[str, float]]:
    """The features that raise this pupil's risk most, with how much each adds.

    Each feature in turn is set to the training median (numbers) or most common value (text);
    the drop in predicted probability is what that feature contributes ("with a typical number
    of absences her risk would be 0.18 lower"). Only features that raise the risk are listed,
    largest first by the learner's log-odds.
    """
    if len(X_row_frame) != 1:
        raise ValueError(f"explain takes one pupil (one row), got {len(X_row_frame)}")
    return explain_many(model, X_row_frame, top=top)[0]


def explain_many(
    model: FittedModel, X: pd.DataFrame, top: int = 3
) -> list[list[tuple[str, float]]]:
    """`explain` for every row of X, in one batch of predictions."""
    rows = model.prepare(X).reset_index(drop=True)
    width = len(model.columns) + 1
    variants = rows.loc[rows.index.repeat(width)].reset_index(drop=True)
    for i, name in enumerate(model.columns, start=1):
        column = variants.columns.get_loc(name)
        if not isinstance(column, int):  # a slice or mask: the column name is not unique
            raise ValueError(f"feature {name!r} names more than one column")
        variants.iloc[i::width, column] = model.reference[name]
    frame = model.prepare(variants)
    with threadpool_limits(limits=1):
        raw = np.mean([_raw_proba(pipeline, frame) for pipeline in model.pipelines], axis=0)
    # Ranked on the learner's own log-odds (nearly unclipped), so a pupil whose calibrated
    # risk is close to 1 still gets reasons; the rise shown is on the calibrated scale.
    direction = 1.0 if model.calibration.slope >= 0 else -1.0
    log_odds = (direction * _logit(raw, floor=1e-15)).reshape(len(rows), width)
    probabilities = model.calibration.apply(raw).reshape(len(rows), width)
    result = []
    for odds, probability in zip(log_odds, probabilities, strict=True):
        rises = [
            (name, float(probability[0] - probability[i]), float(odds[0] - odds[i]))
            for i, name in enumerate(model.columns, start=1)
            if odds[0] - odds[i] > 1e-9
        ]
        rises.sort(key=lambda item: (-item[2], item[0]))
        result.append([(name, max(rise, 0.0)) for name, rise, _ in rises[:top]])
    return result


# ---------------------------------------------------------------------------------------------
# Cross-validated evaluation


def cv_splits(
    y: np.ndarray, *, folds: int, repeats: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Repeated stratified k-fold as (train, test) row positions; a repeat tests each row once."""
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


@dataclass
class Evaluation:
    """Per-fold metrics, which learner won each fold, and out-of-fold risks for every row."""

    fold_metrics: list[dict[str, float]]
    learners: list[str]
    candidate_brier: list[dict[str, float]]
    candidate_accuracy: list[dict[str, float]]
    oof_probability: np.ndarray  # mean over repeats of each row's out-of-fold risk
    k_fraction: float  # share of pupils flagged (the mean k / test-fold size)
    members: list[list[str]] = field(default_factory=list)  # the learners averaged, per fold
    # Per fold: how much the held-out ROC AUC falls when an input is shuffled (`importance`).
    importance: list[dict[str, float]] = field(default_factory=list)

    def mean(self, metric: str) -> float:
        return float(np.nanmean([fold[metric] for fold in self.fold_metrics]))

    def std(self, metric: str) -> float:
        return float(np.nanstd([fold[metric] for fold in self.fold_metrics], ddof=1))

    def learner(self) -> str:
        """The learner chosen most often across outer folds."""
        return Counter(self.learners).most_common(1)[0][0]

    def mean_importance(self) -> list[tuple[str, float]]:
        """Inputs by their mean fall in held-out ROC AUC when shuffled, largest first."""
        if not self.importance:
            return []
        names = self.importance[0].keys()
        means = {name: float(np.mean([fold[name] for fold in self.importance])) for name in names}
        return sorted(means.items(), key=lambda item: (-item[1], item[0]))


def evaluate(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    folds: int = 10,
    repeats: int = 3,
    seed: int = 0,
    k_fraction: float | None = None,
    learners: Sequence[str] = tuple(LEARNERS),
    n_jobs: int = 1,
    importance: bool = False,
    progress: Callable[[int, int], None] | None = None,
    threads: bool = False,
) -> Evaluation:
    """Nested, repeated stratified cross-validation of the whole `fit_model` procedure.

    With `importance`, each outer fold also measures permutation importance on its held-out
    rows. `progress(done, total)` is called as each outer fold finishes. With `threads` the
    folds run in threads of this process (the learners' work is compiled code that lets go of
    the interpreter), so memory is not paid again per worker process.
    """
    X = X.reset_index(drop=True)
    y = np.asarray(y, dtype=int)
    splits = cv_splits(y, folds=folds, repeats=repeats, seed=seed)
    tasks = (
        delayed(_evaluate_fold)(
            X,
            y,
            train,
            test,
            seed=seed + i,
            k_fraction=k_fraction,
            learners=learners,
            importance=importance,
            index=i,
        )
        for i, (train, test) in enumerate(splits)
    )
    results: list[Any] = [None] * len(splits)
    for done, result in enumerate(
        Parallel(
            n_jobs=n_jobs,
            return_as="generator_unordered",
            prefer="threads" if threads else None,
        )(tasks),
        start=1,
    ):
        results[result[0]] = result[1:]
        if progress is not None:
            progress(done, len(splits))
    probability_sum = np.zeros(len(y))
    for (_, test), result in zip(splits, results, strict=True):
        probability_sum[test] += result[5]
    metrics = [result[0] for result in results]
    tested = sum(len(test) for _, test in splits)
    return Evaluation(
        fold_metrics=metrics,
        learners=[result[1] for result in results],
        candidate_brier=[result[2] for result in results],
        candidate_accuracy=[result[3] for result in results],
        oof_probability=probability_sum / repeats,
        k_fraction=sum(fold["k"] for fold in metrics) / tested,
        members=[result[4] for result in results],
        importance=[result[6] for result in results] if importance else [],
    )


def _evaluate_fold(
    X: pd.DataFrame,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    *,
    seed: int,
    k_fraction: float | None,
    learners: Sequence[str],
    importance: bool,
    index: int,
) -> tuple[
    int,
    dict[str, float],
    str,
    dict[str, float],
    dict[str, float],
    list[str],
    np.ndarray,
    dict[str, float],
]:
    model = fit_model(X.iloc[train], y[train], seed=seed, learners=learners)
    held_out = X.iloc[test].reset_index(drop=True)
    probability = model.predict_proba(held_out)
    k = choose_k(len(test), prevalence=float(y[train].mean()), k_fraction=k_fraction)
    scores = score_predictions(y[test], probability, k)
    shuffled = (
        permutation_importance(model, held_out, y[test], probability, seed=seed)
        if importance
        else {}
    )
    return (
        index,
        scores,
        model.learner,
        model.candidate_brier,
        model.candidate_accuracy,
        model.members,
        probability,
        shuffled,
    )


def permutation_importance(
    model: FittedModel,
    X: pd.DataFrame,
    y: np.ndarray,
    probability: np.ndarray,
    *,
    seed: int,
) -> dict[str, float]:
    """The fall in ROC AUC on these held-out rows when each input in turn is shuffled.

    Shuffling breaks the input's tie to the outcome while keeping its values; the model is not
    refitted, so this says what the fitted model leans on (Breiman 2001; scikit-learn's
    `permutation_importance` does the same on one scorer). Near 0: the model hardly uses it.
    """
    y = np.asarray(y, dtype=int)
    if y.min() == y.max():
        return dict.fromkeys(model.columns, math.nan)
    base = float(roc_auc_score(y, probability))
    rng = np.random.default_rng(seed)
    result = {}
    for name in model.columns:
        shuffled = X.copy()
        shuffled[name] = X[name].to_numpy()[rng.permutation(len(X))]
        result[name] = base - float(roc_auc_score(y, model.predict_proba(shuffled)))
    return result


def _raw_proba(estimator: BaseEstimator, X: pd.DataFrame) -> np.ndarray:
    with warnings.catch_warnings():
        # A level never seen in training is encoded as all zeros: what we want.
        warnings.filterwarnings("ignore", message=".*unknown categories.*")
        proba: np.ndarray = estimator.predict_proba(X)
        return np.asarray(proba[:, 1])


def _logit(p: np.ndarray, floor: float = PROBABILITY_FLOOR) -> NDArray[np.float64]:
    clipped = np.clip(np.asarray(p, dtype=np.float64), floor, 1 - floor)
    return np.log(clipped / (1 - clipped))


def _sigmoid(z: np.ndarray) -> NDArray[np.float64]:
    return 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
