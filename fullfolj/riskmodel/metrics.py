"""How good a risk model's flags are: ranking and probability scores, calibration, fairness.

Pure computation on arrays, no Django. A school can follow up only so many pupils, so the
flags are "the k highest risks" (`flag_top_k`), and fairness compares groups on those flags.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score


def flag_top_k(y_score: np.ndarray, k: int) -> np.ndarray:
    """True for the k highest scores; ties go to the earlier row so results are repeatable."""
    flags = np.zeros(len(y_score), dtype=bool)
    flags[np.argsort(-np.asarray(y_score), kind="stable")[:k]] = True
    return flags


def choose_k(n_rows: int, *, prevalence: float, k_fraction: float | None) -> int:
    """Pupils a school follows up: a fixed fraction, or as many as are expected to be positive."""
    share = prevalence if k_fraction is None else k_fraction
    return max(1, min(n_rows, round(share * n_rows)))


def score_predictions(y_true: np.ndarray, y_prob: np.ndarray, k: int) -> dict[str, float]:
    """Ranking, threshold (0.5), top-k and probability metrics for one test set."""
    y_true = np.asarray(y_true, dtype=int)
    flags = flag_top_k(y_prob, k)
    hits = int((flags & (y_true == 1)).sum())
    positives = int(y_true.sum())
    return {
        "roc_auc": float(roc_auc_score(y_true, y_prob)),
        "accuracy": float(np.mean((y_prob >= 0.5) == (y_true == 1))),
        "precision_at_k": hits / k,
        "recall_at_k": hits / positives if positives else math.nan,
        "brier": float(brier_score_loss(y_true, y_prob)),
        "log_loss": float(log_loss(y_true, np.clip(y_prob, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "k": float(k),
    }


class CalibrationBin(NamedTuple):
    lower: float
    upper: float
    n: int
    mean_predicted: float
    observed_rate: float


def calibration_table(
    y_true: np.ndarray, y_prob: np.ndarray, bins: int = 10
) -> list[CalibrationBin]:
    """Equal-width probability bins: mean predicted risk beside the observed rate.

    Empty bins are left out.
    """
    y_true = np.asarray(y_true, dtype=float)
    y_prob = np.asarray(y_prob, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(y_prob, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = index == b
        if inside.any():
            table.append(
                CalibrationBin(
                    float(edges[b]),
                    float(edges[b + 1]),
                    int(inside.sum()),
                    float(y_prob[inside].mean()),
                    float(y_true[inside].mean()),
                )
            )
    return table


# ---------------------------------------------------------------------------------------------
# Fairness


class FairnessRow(NamedTuple):
    group: str
    n: int
    flag_rate: float  # share of the group among the top k
    recall: float  # share of the group's positives that were flagged
    precision: float  # share of the group's flagged pupils that were positive


class Disparity(NamedTuple):
    metric: str
    higher: str
    lower: str
    gap: float


def fairness_table(
    y_true: np.ndarray, y_score: np.ndarray, groups: pd.Series, k: int
) -> list[FairnessRow]:
    """Flag the k highest scores over everyone, then compare the groups (NaN where undefined)."""
    return fairness_from_flags(y_true, flag_top_k(y_score, k), groups)


def fairness_from_flags(
    y_true: np.ndarray, flags: np.ndarray, groups: pd.Series | np.ndarray
) -> list[FairnessRow]:
    """Per group: the share flagged, the share of its positives flagged, and its precision."""
    y_true = np.asarray(y_true, dtype=int)
    flags = np.asarray(flags, dtype=bool)
    labels = np.asarray(pd.Series(groups).astype(str))
    rows = []
    for group in sorted(set(labels)):
        inside = labels == group
        flagged = int(flags[inside].sum())
        positives = int(y_true[inside].sum())
        hits = int((flags & inside & (y_true == 1)).sum())
        rows.append(
            FairnessRow(
                group=group,
                n=int(inside.sum()),
                flag_rate=flagged / int(inside.sum()),
                recall=hits / positives if positives else math.nan,
                precision=hits / flagged if flagged else math.nan,
            )
        )
    return rows


def largest_disparity(rows: Sequence[FairnessRow], metric: str = "recall") -> Disparity | None:
    """The pair of groups furthest apart on `metric` (None with fewer than two defined)."""
    defined = [row for row in rows if not math.isnan(getattr(row, metric))]
    if len(defined) < 2:
        return None
    high = max(defined, key=lambda row: getattr(row, metric))
    low = min(defined, key=lambda row: getattr(row, metric))
    return Disparity(metric, high.group, low.group, getattr(high, metric) - getattr(low, metric))
