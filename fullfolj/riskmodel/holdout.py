"""The model against the rule screen on held-out history (`fullfolj model evaluate`).

Pure computation, no Django. The history is split twice, so the test is honest:

- by time: the test rows are the last screening dates; training rows are earlier dates whose
  outcome window ended before the first test date (nothing of the test period leaks in);
- by pupil: a share of the pupils is kept for the test and none of their rows is trained on.

Both the model and the rule screen then pick pupils at each test date. The model gets the
same list length as the rule screen (k = the rule screen's flagged pupils at that date), so
precision and recall compare like with like. Per gender and per school: the share flagged,
recall and precision for both, and the largest gap named. Gender and school are never inputs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from . import engine, metrics
from .dataset import Dataset

AUDIT_GROUPS = {"gender": "kön", "school": "skola"}
FAIRNESS_METRICS = ("flag_rate", "recall", "precision")


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    test: np.ndarray
    train_dates: tuple[dt.date, dt.date]
    test_dates: tuple[dt.date, dt.date]


def split(
    dataset: Dataset, *, test_dates_share: float = 0.3, test_pupils_share: float = 0.3, seed: int
) -> Split:
    """Row positions for training and test: later dates and other pupils in the test."""
    dates = sorted(set(dataset.date))
    if len(dates) < 2:
        raise ValueError(
            "Historiken räcker inte för en utvärdering: den behöver minst två screeningdagar "
            "med känt utfall."
        )
    n_test = max(1, math.ceil(len(dates) * test_dates_share))
    first_test = dates[-n_test]
    horizon = dt.timedelta(weeks=dataset.horizon_weeks)
    pupils = np.unique(dataset.pupil_id)
    rng = np.random.default_rng(seed)
    test_pupils = set(
        rng.choice(pupils, size=max(1, round(len(pupils) * test_pupils_share)), replace=False)
    )
    in_test_pupils = np.array([p in test_pupils for p in dataset.pupil_id])
    row_dates = dataset.date
    train = np.flatnonzero(
        ~in_test_pupils & np.array([d + horizon <= first_test for d in row_dates])
    )
    test = np.flatnonzero(in_test_pupils & np.array([d >= first_test for d in row_dates]))
    if not len(train) or not len(test):
        raise ValueError(
            "Historiken räcker inte för en utvärdering: för få screeningdagar före "
            "testperioden (utfallsperioden måste ha slutat innan testet börjar)."
        )
    for side, rows in (("träningsdelen", train), ("testdelen", test)):
        if len(set(dataset.y[rows])) < 2:
            raise ValueError(
                f"Utfallet är detsamma för alla i {side}: en modell kan inte utvärderas."
            )
    return Split(
        train=train,
        test=test,
        train_dates=(min(row_dates[train]), max(row_dates[train])),
        test_dates=(min(row_dates[test]), max(row_dates[test])),
    )


@dataclass
class HoldoutResult:
    """What `model evaluate` prints and the model stores (all plain data, JSON-ready)."""

    outcome: str
    train_rows: int
    train_pupils: int
    test_rows: int
    test_pupils: int
    train_dates: tuple[str, str]
    test_dates: tuple[str, str]
    learner: str
    candidate_brier: dict[str, float]
    model: dict[str, float]
    rules: dict[str, float]
    calibration: list[dict[str, float]]
    rule_calibration: list[dict[str, float]]
    fairness: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    disparities: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data; undefined rates (NaN) become None, which JSON and PostgreSQL accept."""
        return _json_safe(asdict(self))  # type: ignore[no-any-return]


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def evaluate(
    dataset: Dataset,
    *,
    seed: int = 0,
    learners: Sequence[str] = tuple(engine.LEARNERS),
    test_dates_share: float = 0.3,
    test_pupils_share: float = 0.3,
) -> HoldoutResult:
    """Fit on the training part, then score the model and the rule screen on the test part."""
    parts = split(
        dataset,
        test_dates_share=test_dates_share,
        test_pupils_share=test_pupils_share,
        seed=seed,
    )
    train, test = dataset.subset(parts.train), dataset.subset(parts.test)
    model = engine.fit_model(train.X, train.y, seed=seed, learners=learners, groups=train.pupil_id)
    probability = model.predict_proba(test.X)
    model_flags = flags_like_rules(probability, test.rule_flag, test.date)
    rule_flags = test.rule_flag.astype(bool)
    fairness: dict[str, dict[str, list[dict[str, Any]]]] = {}
    disparities: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for column in AUDIT_GROUPS:
        fairness[column], disparities[column] = {}, {}
        for who, flags in (("model", model_flags), ("rules", rule_flags)):
            rows = metrics.fairness_from_flags(test.y, flags, test.audit[column])
            fairness[column][who] = [row._asdict() for row in rows]
            disparities[column][who] = [
                gap._asdict()
                for metric in FAIRNESS_METRICS
                if (gap := metrics.largest_disparity(rows, metric)) is not None
            ]
    return HoldoutResult(
        outcome=dataset.outcome,
        train_rows=len(train),
        train_pupils=len(set(train.pupil_id)),
        test_rows=len(test),
        test_pupils=len(set(test.pupil_id)),
        train_dates=(parts.train_dates[0].isoformat(), parts.train_dates[1].isoformat()),
        test_dates=(parts.test_dates[0].isoformat(), parts.test_dates[1].isoformat()),
        learner=model.learner,
        candidate_brier=model.candidate_brier,
        model=list_metrics(test.y, model_flags, probability),
        rules=list_metrics(test.y, rule_flags, rule_flags.astype(float)),
        calibration=[row._asdict() for row in metrics.calibration_table(test.y, probability)],
        rule_calibration=[
            {
                "flagged": bool(flag),
                "n": int((rule_flags == flag).sum()),
                "observed_rate": float(test.y[rule_flags == flag].mean()),
            }
            for flag in (True, False)
            if (rule_flags == flag).any()
        ],
        fairness=fairness,
        disparities=disparities,
    )


def flags_like_rules(
    probability: np.ndarray, rule_flag: np.ndarray, dates: np.ndarray
) -> np.ndarray:
    """At each date, flag as many pupils by highest probability as the rule screen flagged."""
    flags = np.zeros(len(probability), dtype=bool)
    for day in sorted(set(dates)):
        rows = np.flatnonzero(dates == day)
        k = int(rule_flag[rows].sum())
        if k:
            flags[rows[metrics.flag_top_k(probability[rows], k)]] = True
    return flags


def list_metrics(y: np.ndarray, flags: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """ROC AUC of `score`, Brier where it is a probability, and precision/recall of `flags`."""
    y = np.asarray(y, dtype=int)
    hits = int((flags & (y == 1)).sum())
    flagged, positives = int(flags.sum()), int(y.sum())
    metrics = {
        "roc_auc": float(roc_auc_score(y, score)),
        "flagged": float(flagged),
        "positives": float(positives),
        "precision_at_k": hits / flagged if flagged else math.nan,
        "recall_at_k": hits / positives if positives else math.nan,
        "accuracy": float(np.mean((score >= 0.5) == (y == 1))),
    }
    if not np.isin(score, (0.0, 1.0)).all():
        metrics["brier"] = float(brier_score_loss(y, score))
        metrics["mean_predicted"] = float(np.mean(score))
        metrics["observed_rate"] = float(np.mean(y))
    return metrics


def lines(result: HoldoutResult) -> list[str]:
    """The printed report; the `name: value` metrics come last, one per line."""
    out = [
        f"utfall: {result.outcome}",
        f"träning: {result.train_rows} rader, {result.train_pupils} elever, "
        f"{result.train_dates[0]}–{result.train_dates[1]}",
        f"test: {result.test_rows} rader, {result.test_pupils} andra elever, "
        f"{result.test_dates[0]}–{result.test_dates[1]}",
        "",
        f"{'':<18} {'modell':>10} {'regler':>10}",
    ]
    for name in ("roc_auc", "flagged", "precision_at_k", "recall_at_k", "brier"):
        model = result.model.get(name, math.nan)
        rules = result.rules.get(name, math.nan)
        out.append(f"{name:<18} {_cell(model):>10} {_cell(rules):>10}")
    out += ["", "kalibrering (modellens uppskattning mot utfallet i testet)"]
    out.append(f"{'risk':<10} {'n':>6} {'uppskattat':>11} {'utfall':>8}")
    for row in result.calibration:
        out.append(
            f"{row['lower']:.1f}-{row['upper']:.1f}    {row['n']:>6} "
            f"{row['mean_predicted']:>11.3f} {row['observed_rate']:>8.3f}"
        )
    for row in result.rule_calibration:
        label = "regler: flaggade" if row["flagged"] else "regler: ej flaggade"
        out.append(f"{label:<24} {row['n']:>6} utfall {row['observed_rate']:.3f}")
    for column, label in AUDIT_GROUPS.items():
        model_rows = result.fairness[column]["model"]
        width = max([12, *(len(row["group"]) for row in model_rows)])
        out += ["", f"per {label} (andel flaggade, recall, precision)"]
        out.append(f"{'grupp':<{width}} {'n':>6}  {'modell':^23}  {'regler':^23}")
        rule_rows = {row["group"]: row for row in result.fairness[column]["rules"]}
        for row in model_rows:
            other = rule_rows[row["group"]]
            out.append(
                f"{row['group']:<{width}} {row['n']:>6}  "
                + " ".join(f"{_cell(row[m]):>7}" for m in FAIRNESS_METRICS)
                + "  "
                + " ".join(f"{_cell(other[m]):>7}" for m in FAIRNESS_METRICS)
            )
        for who, name in (("model", "modell"), ("rules", "regler")):
            for gap in result.disparities[column][who]:
                out.append(
                    f"största skillnad {name} {gap['metric']}: {gap['higher']} mot "
                    f"{gap['lower']} {gap['gap']:.3f}"
                )
    out.append("")
    metrics: dict[str, Any] = {
        "learner": result.learner,
        "train_rows": result.train_rows,
        "test_rows": result.test_rows,
        "k": int(result.rules["flagged"]),
    }
    for name in ("roc_auc", "accuracy", "precision_at_k", "recall_at_k", "brier"):
        if name in result.model:
            metrics[name] = result.model[name]
    for name in ("roc_auc", "precision_at_k", "recall_at_k"):
        metrics[f"rules_{name}"] = result.rules[name]
    for column in AUDIT_GROUPS:
        for who in ("model", "rules"):
            for gap in result.disparities[column][who]:
                if gap["metric"] == "recall":
                    prefix = "" if who == "model" else "rules_"
                    metrics[f"{prefix}largest_recall_gap_{column}"] = (
                        f"{gap['gap']:.4f} ({gap['higher']} vs {gap['lower']})"
                    )
    out += [f"{name}: {_cell(value, 4)}" for name, value in metrics.items()]
    return out


def _cell(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)
