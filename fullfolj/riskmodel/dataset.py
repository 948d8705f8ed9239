"""The municipality's own history as model rows: indicators at a date, the outcome after it.

Pure Polars and pandas, no Django. One row per pupil and screening date. The inputs are the
screening indicators (docs/screening.md) at that date, as plain numbers; gender, origin and school are
never inputs, they are kept apart for the fairness audit (`Dataset.audit`). The outcome is
problematic absence after the date: the pupil's absence over 20 school days passes 20 % on some
school day within `horizon_weeks` weeks after it (the screening app's crossing, docs/absence.md
"Attendance": about 10 % is problematic, 20 % is well past it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from fullfolj.screening import engine as screening
from fullfolj.screening.evaluation import History, screening_dates
from fullfolj.screening.evaluation import (
    indicators_at as screening_indicators_at,
)
from fullfolj.screening.outcomes import CROSSING_PERCENT, CROSSING_SCHOOL_DAYS, absence_crossings

HORIZON_WEEKS = 8
EVERY_WEEKS = 4  # a screening date every fourth Monday in term: rows a month apart


# The inputs: name -> (text, unit). The text reads after the pupil's figure is filled
# in; `value` is the pupil's figure, `typical` the training median (see reasons.py).
FEATURES: dict[str, tuple[str | Promise, str]] = {
    "absence_4w": (
        pgettext_lazy("risk model reason", "absence {value} during the last four weeks"),
        "percent",
    ),
    "invalid_4w": (
        pgettext_lazy("risk model reason", "invalid absence {value} during the last four weeks"),
        "percent",
    ),
    "valid_4w": (
        pgettext_lazy("risk model reason", "valid absence {value} during the last four weeks"),
        "percent",
    ),
    "unknown_4w": (
        pgettext_lazy("risk model reason", "unassessed absence {value} during the last four weeks"),
        "percent",
    ),
    "absence_prev_4w": (
        pgettext_lazy(
            "risk model reason",
            "absence {value} during the four weeks before the last four",
        ),
        "percent",
    ),
    "absence_term": (pgettext_lazy("risk model reason", "absence {value} this term"), "percent"),
    "invalid_term": (
        pgettext_lazy("risk model reason", "invalid absence {value} this term"),
        "percent",
    ),
    "absence_trend": (
        pgettext_lazy(
            "risk model reason",
            "absence during the last four weeks {change} compared with the twelve weeks before",
        ),
        "pp",
    ),
    "invalid_trend": (
        pgettext_lazy(
            "risk model reason",
            "invalid absence during the last four weeks {change} compared with the twelve "
            "weeks before",
        ),
        "pp",
    ),
    "whole_days_4w": (
        pgettext_lazy(
            "risk model reason",
            "absent all day {value} school days during the last four weeks",
        ),
        "count",
    ),
    "longest_run_4w": (
        pgettext_lazy("risk model reason", "absent all day {value} school days in a row"),
        "count",
    ),
    "skip_days_4w": (
        pgettext_lazy(
            "risk model reason",
            "invalidly absent from single lessons {value} school days during the last four weeks",
        ),
        "count",
    ),
    "late_4w": (
        pgettext_lazy("risk model reason", "late {value} times during the last four weeks"),
        "count",
    ),
    "weekday_share_4w": (
        pgettext_lazy("risk model reason", "{value} of the absence on one and the same weekday"),
        "percent",
    ),
    "subject_excess_4w": (
        pgettext_lazy(
            "risk model reason",
            "absence in one subject is {value} higher than in all subjects during the last "
            "four weeks",
        ),
        "pp",
    ),
    "f_grades": (
        pgettext_lazy("risk model reason", "{value} grades F or – in the latest grades"),
        "count",
    ),
    "f_warnings": (
        pgettext_lazy("risk model reason", "warning of F in {value} subjects this term"),
        "count",
    ),
    "failing_subjects": (
        pgettext_lazy("risk model reason", "F, – or warning of F in {value} subjects"),
        "count",
    ),
    "passed_subjects": (
        pgettext_lazy("risk model reason", "passed in {value} subjects in the latest grades"),
        "count",
    ),
    "merit_value": (pgettext_lazy("risk model reason", "merit rating {value}"), "points"),
    "vocational_eligible": (
        pgettext_lazy(
            "risk model reason",
            "{eligible} for a vocational programme according to the latest grades",
        ),
        "bool",
    ),
    "has_grades": (pgettext_lazy("risk model reason", "{has} grades"), "bool"),
    "grade": (pgettext_lazy("risk model reason", "year {value}"), "year"),
    "school_changes": (
        pgettext_lazy("risk model reason", "changed school {value} times in the last 12 months"),
        "count",
    ),
}

BASELINE_12W = screening.Window(84, 28)
WINDOWS = (*screening.DEFAULT_WINDOWS, BASELINE_12W)

OUTCOME_TEXT = (
    f"frånvaro över {CROSSING_PERCENT} % under {CROSSING_SCHOOL_DAYS} skoldagar någon gång "
    "inom {weeks} veckor efter screeningdagen"
)


@dataclass(frozen=True)
class Dataset:
    """Model rows: inputs X, outcome y, and per row the pupil, date and audit-only groups."""

    X: pd.DataFrame
    y: np.ndarray
    pupil_id: np.ndarray
    date: np.ndarray  # datetime.date per row
    audit: pd.DataFrame  # gender, school (as text); never inputs
    rule_flag: np.ndarray  # 1 where the rule screen flagged the pupil at that date
    horizon_weeks: int

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, rows: np.ndarray) -> Dataset:
        return Dataset(
            X=self.X.iloc[rows].reset_index(drop=True),
            y=self.y[rows],
            pupil_id=self.pupil_id[rows],
            date=self.date[rows],
            audit=self.audit.iloc[rows].reset_index(drop=True),
            rule_flag=self.rule_flag[rows],
            horizon_weeks=self.horizon_weeks,
        )

    @property
    def outcome(self) -> str:
        return OUTCOME_TEXT.format(weeks=self.horizon_weeks)


def features(indicators: pl.DataFrame) -> pd.DataFrame:
    """The model's inputs from `screening.engine.compute_indicators`, one row per pupil.

    Rates are percentages (NaN where the pupil had no scheduled minutes); grade inputs are NaN
    for a pupil without grades, with `has_grades` saying so.
    """
    columns = indicators.columns

    def rate(part: str, key: str) -> pl.Expr:
        scheduled = pl.col(f"{key}_scheduled")
        return pl.when(scheduled > 0).then(100 * pl.col(f"{key}_{part}") / scheduled)

    def trend(part: str) -> pl.Expr:
        return rate(part, "28d") - rate(part, BASELINE_12W.key)

    def maybe(name: str, expr: pl.Expr | None = None) -> pl.Expr:
        present = name in columns if expr is None else True
        value = (expr if expr is not None else pl.col(name)) if present else pl.lit(None)
        return value.cast(pl.Float64)

    has_grades = pl.col("has_grades") if "has_grades" in columns else pl.lit(False)
    graded = {
        name: pl.when(has_grades).then(maybe(name)) if name in columns else pl.lit(None)
        for name in ("f_grades", "passed_subjects", "vocational_eligible")
    }
    subject = (
        pl.when(pl.col("28d_subject_den") > 0).then(
            pl.col("28d_subject_num") / pl.col("28d_subject_den")
        )
        if "28d_subject_den" in columns
        else pl.lit(None)
    )
    frame = indicators.select(
        pl.col("pupil_id").cast(pl.Int64),
        absence_4w=rate("absent", "28d"),
        invalid_4w=rate("invalid", "28d"),
        valid_4w=rate("valid", "28d"),
        unknown_4w=rate("unknown", "28d"),
        absence_prev_4w=rate("absent", "28d_28"),
        absence_term=rate("absent", "term"),
        invalid_term=rate("invalid", "term"),
        absence_trend=trend("absent"),
        invalid_trend=trend("invalid"),
        whole_days_4w=maybe("28d_whole_days"),
        longest_run_4w=maybe("28d_longest_run"),
        skip_days_4w=maybe("28d_skip_days"),
        late_4w=maybe("28d_late_count"),
        weekday_share_4w=pl.when(pl.col("28d_absent") > 0).then(
            100 * pl.col("28d_weekday_absent") / pl.col("28d_absent")
        ),
        subject_excess_4w=subject,
        f_grades=graded["f_grades"],
        f_warnings=maybe("f_warnings"),
        failing_subjects=maybe("failing_subjects"),
        passed_subjects=graded["passed_subjects"],
        merit_value=pl.when(has_grades).then(maybe("merit_x10") / 10)
        if "merit_x10" in columns
        else pl.lit(None),
        vocational_eligible=graded["vocational_eligible"],
        has_grades=has_grades.cast(pl.Float64),
        grade=maybe("grade"),
        school_changes=maybe("school_changes"),
        school_id=maybe("school_id"),
    )
    result = frame.to_pandas()
    for name in FEATURES:
        result[name] = result[name].astype(float)
    return result


def model_dates(history: History, *, every_weeks: int = EVERY_WEEKS) -> list[dt.date]:
    """Every `every_weeks`-th Monday in term (the screening app's dates, thinned)."""
    return screening_dates(history, weekday=1)[::every_weeks]


def build(
    history: History,
    dates: Sequence[dt.date],
    *,
    rules: Sequence[screening.Rule],
    horizon_weeks: int = HORIZON_WEEKS,
    grade_rules: screening.GradeRules | None = None,
    require_outcome: bool = True,
) -> Dataset:
    """Rows for every pupil screened at each of `dates`, with the outcome after each date.

    With `require_outcome`, dates whose outcome window runs past the data are left out (the
    outcome is not known yet). The rule screen's flags at each date come along for comparison.
    """
    last_day = history.days["date"].max()
    crossings = absence_crossings(history.days)
    gender = (
        history.pupils.select(pl.col("pupil_id").cast(pl.Int64), "gender")
        if history.pupils is not None
        else None
    )
    windows = tuple(dict.fromkeys([*WINDOWS, *screening.windows_for(rules)]))
    parts: list[pd.DataFrame] = []
    for day in dates:
        horizon_end = day + dt.timedelta(weeks=horizon_weeks)
        if require_outcome and (not isinstance(last_day, dt.date) or horizon_end > last_day):
            continue
        indicators = indicators_at(history, day, windows=windows, grade_rules=grade_rules)
        if indicators is None:
            continue
        rows = features(indicators)
        flagged = set(screening.screen(indicators, rules)["pupil_id"].to_list())
        later = crossings.filter(pl.col("date").is_between(day, horizon_end, closed="right"))
        cases = set(later["pupil_id"].to_list())
        rows["date"] = day
        rows["y"] = rows["pupil_id"].isin(cases).astype(int)
        rows["rule_flag"] = rows["pupil_id"].isin(flagged).astype(int)
        parts.append(rows)
    if not parts:
        raise ValueError(
            "Historiken räcker inte: ingen screeningdag har en hel utfallsperiod "
            f"({horizon_weeks} veckor) efter sig."
        )
    whole = pd.concat(parts, ignore_index=True)
    if gender is not None:
        genders = dict(zip(gender["pupil_id"].to_list(), gender["gender"].to_list(), strict=True))
        whole["gender"] = whole["pupil_id"].map(genders).fillna("okänt")
    else:
        whole["gender"] = "okänt"
    school = whole["school_id"].map(lambda v: "okänd" if pd.isna(v) else str(int(v)))
    return Dataset(
        X=whole[list(FEATURES)].reset_index(drop=True),
        y=whole["y"].to_numpy(dtype=int),
        pupil_id=whole["pupil_id"].to_numpy(dtype=np.int64),
        date=whole["date"].to_numpy(),
        audit=pd.DataFrame({"gender": whole["gender"].astype(str), "school": school}),
        rule_flag=whole["rule_flag"].to_numpy(dtype=int),
        horizon_weeks=horizon_weeks,
    )


def indicators_at(
    history: History,
    day: dt.date,
    *,
    windows: Sequence[screening.Window] = WINDOWS,
    grade_rules: screening.GradeRules | None = None,
) -> pl.DataFrame | None:
    """The screening indicators at `day` over the model's windows (None outside term)."""
    return screening_indicators_at(history, day, windows=windows, grade_rules=grade_rules)
