"""The indicator catalogue: each indicator's unit, range, wording, and value over the frame.

An indicator's value is a fraction `num / den` of two integer columns of the indicators frame
(`indicator_fraction`), so a rule compares it with its threshold in integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from .windows import Window

Unit = Literal["percent", "pp", "count", "points", "bool", "score"]


@dataclass(frozen=True)
class Indicator:
    """One screening indicator: its unit, the range a threshold may take, and its wording."""

    name: str
    unit: Unit
    low: Decimal
    high: Decimal
    windowed: bool
    text: str | Promise  # explanation; {value} {window} {before} {change} {detail} {eligible}
    title: str | Promise  # the indicator's name on the rule pages


def _indicator(
    name: str,
    unit: Unit,
    low: float,
    high: float,
    windowed: bool,
    text: str | Promise,
    title: str | Promise,
) -> Indicator:
    return Indicator(name, unit, Decimal(str(low)), Decimal(str(high)), windowed, text, title)


INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        _indicator(
            "absence_total",
            "percent",
            0,
            100,
            True,
            gettext_lazy("Absence {value} during {window}"),
            pgettext_lazy("indicator", "Absence"),
        ),
        _indicator(
            "absence_valid",
            "percent",
            0,
            100,
            True,
            gettext_lazy("Valid absence {value} during {window}"),
            pgettext_lazy("indicator", "Valid absence"),
        ),
        _indicator(
            "absence_invalid",
            "percent",
            0,
            100,
            True,
            gettext_lazy("Invalid absence {value} during {window}"),
            pgettext_lazy("indicator", "Invalid absence"),
        ),
        _indicator(
            "absence_unknown",
            "percent",
            0,
            100,
            True,
            gettext_lazy("Unassessed absence {value} during {window}"),
            pgettext_lazy("indicator", "Unassessed absence"),
        ),
        _indicator(
            "absence_trend",
            "pp",
            -100,
            100,
            True,
            gettext_lazy("Absence {change} during {window} compared with {before}"),
            pgettext_lazy("indicator", "Rise in absence"),
        ),
        _indicator(
            "invalid_trend",
            "pp",
            -100,
            100,
            True,
            gettext_lazy("Invalid absence {change} during {window} compared with {before}"),
            pgettext_lazy("indicator", "Rise in invalid absence"),
        ),
        _indicator(
            "whole_day_run",
            "count",
            0,
            200,
            True,
            gettext_lazy("Absent all day {value} school days in a row during {window}"),
            pgettext_lazy("indicator", "Whole days absent in a row"),
        ),
        _indicator(
            "whole_days",
            "count",
            0,
            200,
            True,
            gettext_lazy("Absent all day {value} school days during {window}"),
            pgettext_lazy("indicator", "Whole days absent"),
        ),
        _indicator(
            "skip_days",
            "count",
            0,
            200,
            True,
            gettext_lazy(
                "Invalidly absent from single lessons {value} school days during {window}"
            ),
            pgettext_lazy("indicator", "Days with invalid absence from single lessons"),
        ),
        _indicator(
            "skipped_lessons",
            "count",
            0,
            2000,
            True,
            gettext_lazy(
                "Invalidly absent from about {value} lessons during {window}, besides whole days"
            ),
            pgettext_lazy("indicator", "Lessons with invalid absence, besides whole days (about)"),
        ),
        _indicator(
            "late_count",
            "count",
            0,
            1000,
            True,
            gettext_lazy("Late {value} times during {window}"),
            pgettext_lazy("indicator", "Late arrivals"),
        ),
        _indicator(
            "irregular_days",
            "count",
            0,
            200,
            True,
            gettext_lazy("Invalid absence or late arrival {value} school days during {window}"),
            pgettext_lazy("indicator", "School days with invalid absence or late arrival"),
        ),
        _indicator(
            "irregular_share",
            "percent",
            0,
            100,
            True,
            gettext_lazy(
                "Invalid absence or late arrival {value} of the school days during {window}"
            ),
            pgettext_lazy("indicator", "Share of school days with invalid absence or late arrival"),
        ),
        _indicator(
            "irregular_trend",
            "pp",
            -100,
            100,
            True,
            gettext_lazy(
                "The share of school days with invalid absence or late arrival "
                "{change} during {window} compared with {before}"
            ),
            pgettext_lazy(
                "indicator", "Rise in the share of school days with invalid absence or late arrival"
            ),
        ),
        _indicator(
            "late_skip_trend",
            "score",
            0,
            100,
            True,
            gettext_lazy(
                "{detail} during {window}, against the pupil's own level during "
                "{before}: deviation {value}"
            ),
            pgettext_lazy(
                "indicator",
                "Deviation in late arrivals and invalid absence from single lessons "
                "against the pupil's own level",
            ),
        ),
        _indicator(
            "weekday_concentration",
            "percent",
            0,
            100,
            True,
            gettext_lazy("{value} of the absence on {detail} during {window}"),
            pgettext_lazy("indicator", "Share of the absence on one and the same weekday"),
        ),
        _indicator(
            "subject_concentration",
            "pp",
            -100,
            100,
            True,
            gettext_lazy(
                "Absence in {detail} is {value} higher than in all subjects during {window}"
            ),
            pgettext_lazy("indicator", "Absence in one subject compared with all subjects"),
        ),
        _indicator(
            "f_grades",
            "count",
            0,
            30,
            False,
            gettext_lazy("{value} grades F or – in the latest grades"),
            pgettext_lazy("indicator", "Grades F or – in the latest grades"),
        ),
        _indicator(
            "f_warnings",
            "count",
            0,
            30,
            False,
            gettext_lazy("Warning of F in {value} subjects this term"),
            pgettext_lazy("indicator", "Subjects with a warning of F this term"),
        ),
        _indicator(
            "failing_subjects",
            "count",
            0,
            30,
            False,
            gettext_lazy("F, – or warning of F in {value} subjects"),
            pgettext_lazy("indicator", "Subjects with F, – or a warning of F"),
        ),
        _indicator(
            "passed_subjects",
            "count",
            0,
            30,
            False,
            gettext_lazy("Passed in {value} subjects in the latest grades"),
            pgettext_lazy("indicator", "Passed subjects in the latest grades"),
        ),
        _indicator(
            "vocational_eligible",
            "bool",
            0,
            1,
            False,
            gettext_lazy("{eligible} for a vocational programme according to the latest grades"),
            pgettext_lazy("indicator", "Eligible for a vocational programme"),
        ),
        _indicator(
            "preparatory_eligible",
            "bool",
            0,
            1,
            False,
            gettext_lazy(
                "{eligible} for a higher education preparatory programme according "
                "to the latest grades"
            ),
            pgettext_lazy("indicator", "Eligible for a higher education preparatory programme"),
        ),
        _indicator(
            "merit_value",
            "points",
            0,
            340,
            False,
            gettext_lazy("Merit rating {value}"),
            pgettext_lazy("indicator", "Merit rating"),
        ),
        _indicator(
            "school_changes",
            "count",
            0,
            50,
            False,
            gettext_lazy("Changed school {value} times in the last 12 months"),
            pgettext_lazy("indicator", "School changes in the last 12 months"),
        ),
        _indicator(
            "kasam_fall",
            "points",
            0,
            4,
            False,
            gettext_lazy("A KASAM dimension fell by {value} since the previous answer"),
            pgettext_lazy("indicator", "Falling KASAM dimension"),
        ),
        _indicator(
            "support_in_place",
            "count",
            0,
            50,
            False,
            gettext_lazy("{value} ongoing support or actions"),
            pgettext_lazy("indicator", "Ongoing support or actions"),
        ),
    )
}

WEEKDAYS = (  # "{value} of the absence on Mondays"
    pgettext_lazy("weekdays", "Mondays"),
    pgettext_lazy("weekdays", "Tuesdays"),
    pgettext_lazy("weekdays", "Wednesdays"),
    pgettext_lazy("weekdays", "Thursdays"),
    pgettext_lazy("weekdays", "Fridays"),
)

ABSENCE_PARTS = ("valid", "invalid", "unknown")  # the kinds of absence, apart in explanations
_ABSENCE_COLUMN = {
    "absence_total": "absent",
    "absence_valid": "valid",
    "absence_invalid": "invalid",
    "absence_unknown": "unknown",
}


def indicator_fraction(
    indicator: str,
    window: Window | None,
    columns: Sequence[str] = (),
    baseline: Window | None = None,
) -> tuple[pl.Expr, pl.Expr]:
    """The indicator's value as integer (numerator, denominator) expressions over the frame.

    The denominator is null or 0 where the value is undefined (no school days, no grades);
    such pupils are never flagged. A trend compares `window` with `baseline` (default: the
    window of the same length just before it).
    """
    key = window.key if window is not None else ""
    one = pl.lit(1, pl.Int64)
    if indicator in _ABSENCE_COLUMN:
        return 100 * pl.col(f"{key}_{_ABSENCE_COLUMN[indicator]}"), pl.col(f"{key}_scheduled")
    if indicator in ("absence_trend", "invalid_trend"):
        if window is None:
            raise ValueError(gettext("%(indicator)s needs a window.") % {"indicator": indicator})
        before = (baseline or window.before).key
        part = "absent" if indicator == "absence_trend" else "invalid"
        a1, s1 = pl.col(f"{key}_{part}"), pl.col(f"{key}_scheduled")
        a0, s0 = pl.col(f"{before}_{part}"), pl.col(f"{before}_scheduled")
        return 100 * (a1 * s0 - a0 * s1), s1 * s0
    if indicator == "whole_day_run":
        return pl.col(f"{key}_longest_run"), one
    if indicator in ("whole_days", "skip_days", "skipped_lessons", "late_count", "irregular_days"):
        return pl.col(f"{key}_{indicator}"), one
    if indicator == "irregular_share":
        return 100 * pl.col(f"{key}_irregular_days"), pl.col(f"{key}_days")
    if indicator == "irregular_trend":
        if window is None:
            raise ValueError(gettext("%(indicator)s needs a window.") % {"indicator": indicator})
        before = (baseline or window.before).key
        d1, n1 = pl.col(f"{key}_irregular_days"), pl.col(f"{key}_days")
        d0, n0 = pl.col(f"{before}_irregular_days"), pl.col(f"{before}_days")
        return 100 * (d1 * n0 - d0 * n1), n1 * n0
    if indicator == "late_skip_trend":
        if window is None:
            raise ValueError(gettext("%(indicator)s needs a window.") % {"indicator": indicator})
        before = (baseline or window.before).key
        enough = (pl.col(f"{before}_days") >= RISE_MIN_BASELINE_DAYS) & (pl.col(f"{key}_days") > 0)
        return late_skip_score(key, before), pl.when(enough).then(pl.lit(100, pl.Int64))
    if indicator == "weekday_concentration":
        return 100 * pl.col(f"{key}_weekday_absent"), pl.col(f"{key}_absent")
    if indicator == "subject_concentration":
        return pl.col(f"{key}_subject_num"), pl.col(f"{key}_subject_den")
    grade_den = pl.when(pl.col("has_grades")).then(one) if "has_grades" in columns else one
    if indicator in ("f_grades", "passed_subjects"):
        return pl.col(indicator), grade_den
    if indicator in ("vocational_eligible", "preparatory_eligible"):
        return pl.col(indicator).cast(pl.Int64), grade_den
    if indicator == "merit_value":
        return pl.col("merit_x10"), grade_den * 10
    if indicator in ("f_warnings", "failing_subjects", "school_changes", "support_in_place"):
        return pl.col(indicator), one
    if indicator == "kasam_fall":  # in hundredths; no value without two answers
        return pl.col("kasam_fall"), pl.when(pl.col("kasam_fall").is_not_null()).then(
            pl.lit(100, pl.Int64)
        )
    raise ValueError(gettext("Unknown indicator %(indicator)s.") % {"indicator": repr(indicator)})


RISE_FIGURES = ("late_count", "skipped_lessons")  # two signs of a pupil drifting away
RISE_PRIOR_DAYS = 20  # a baseline starts as one event in 20 days, so a short history is not news
RISE_MIN_BASELINE_DAYS = 20  # school days in the baseline before the pupil is compared at all


def _expected(figure: str, key: str, before: str) -> pl.Expr:
    """The count of `figure` in window `key` expected at the pupil's own rate in `before`."""
    rate = (pl.col(f"{before}_{figure}") + 1) / (pl.col(f"{before}_days") + RISE_PRIOR_DAYS)
    return rate * pl.col(f"{key}_days")


def late_skip_score(key: str, before: str) -> pl.Expr:
    """How far late arrivals and skipped lessons in `key` lie above the pupil's own rate in
    `before`, in hundredths: the sum of the two Poisson z-scores (count - expected) / sqrt(expected).

    Escalating absence raises both at once while ordinary weeks vary one at a time, so the sum
    separates them better than either count or a shared level (patterns against the pupil's own
    history: see docs/ on attendance). The float sum is floored to hundredths once, so every
    comparison after that is in integers.
    """
    z = []
    for figure in RISE_FIGURES:
        expected = _expected(figure, key, before)
        z.append((pl.col(f"{key}_{figure}") - expected) / expected.sqrt())
    score = (100 * (z[0] + z[1]) + 0.5).floor()
    return pl.when(pl.col(f"{key}_days") > 0).then(score).cast(pl.Int64)


def detail(indicator: str, window: Window | None, baseline: Window | None = None) -> pl.Expr:
    key = window.key if window is not None else ""
    if indicator == "late_skip_trend" and window is not None:
        before = (baseline or window.before).key
        parts: list[pl.Expr] = []
        for figure in RISE_FIGURES:  # "count,expected x 10" per figure
            tenths = (10 * _expected(figure, key, before) + 0.5).floor().cast(pl.Int64)
            parts += [pl.col(f"{key}_{figure}").cast(pl.Utf8), tenths.cast(pl.Utf8)]
        return pl.concat_str(parts, separator=",")
    if indicator == "weekday_concentration":
        return pl.col(f"{key}_weekday_top").cast(pl.Utf8)
    if indicator == "subject_concentration":
        return pl.col(f"{key}_subject_id").cast(pl.Utf8)
    if indicator in _ABSENCE_COLUMN and window is not None:
        # "valid,invalid,unknown,scheduled" minutes: a level is shown with its parts apart.
        parts = [pl.col(f"{key}_{p}").cast(pl.Utf8) for p in ABSENCE_PARTS]
        return pl.concat_str([*parts, pl.col(f"{key}_scheduled").cast(pl.Utf8)], separator=",")
    return pl.lit(None, pl.Utf8)


ATTENDANCE_INDICATORS = frozenset(name for name, spec in INDICATORS.items() if spec.windowed)
