"""Grade rules: meritvärde and eligibility (gymnasiebehörighet) from each pupil's latest grades."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
from django.utils.translation import gettext


def _default_points() -> dict[str, Decimal]:
    return {
        "A": Decimal(20),
        "B": Decimal("17.5"),
        "C": Decimal(15),
        "D": Decimal("12.5"),
        "E": Decimal(10),
        "F": Decimal(0),
        "-": Decimal(0),
    }


def _default_programmes() -> dict[str, frozenset[str]]:
    return {
        "ES": frozenset(),  # estetiska programmet: no subjects beyond the twelve
        "EK/HU/SA": frozenset({"GE", "HI", "RE", "SH"}),
        "NA/TE": frozenset({"BI", "FY", "KE"}),
    }


@dataclass(frozen=True)
class GradeRules:
    """Meritvärde and eligibility (gymnasiebehörighet), configurable per municipality.

    Defaults (see docs/ on grades and eligibility; Skollagen 15 kap., gymnasieförordningen):
    points A 20 … E 10, F and "–" 0; meritvärde = the 16 best subjects plus a modern language as
    a 17th if it raises the sum (max 340); vocational programmes need Swedish or SVA, English,
    mathematics and 5 more passed subjects (8 in all); preparatory programmes those 3 and 9 more
    (12), the programme's own subjects among them.
    """

    points: Mapping[str, Decimal] = field(default_factory=_default_points)
    passing: frozenset[str] = frozenset("ABCDE")
    best_count: int = 16
    seventeenth: frozenset[str] = frozenset({"M2"})  # counted as a 17th if it raises the sum
    swedish: frozenset[str] = frozenset({"SV", "SVA"})  # one of them must be passed
    core: frozenset[str] = frozenset({"EN", "MA"})  # each must be passed
    vocational_passed: int = 8
    preparatory_passed: int = 12
    preparatory_programmes: Mapping[str, frozenset[str]] = field(
        default_factory=_default_programmes
    )

    def __post_init__(self) -> None:
        for grade, points in self.points.items():
            if (Decimal(points) * 10) % 1 or points < 0:
                raise ValueError(
                    gettext("Points for %(grade)s must be ≥ 0 with at most one decimal.")
                    % {"grade": grade}
                )
        if not self.passing <= set(self.points):
            raise ValueError(gettext("Every passing grade needs points."))

    @property
    def points_x10(self) -> dict[str, int]:
        """Points in tenths, so sums stay integers (17.5 → 175)."""
        return {grade: int(Decimal(p) * 10) for grade, p in self.points.items()}

    @property
    def max_merit_x10(self) -> int:
        top = max(self.points_x10.values())
        return top * (self.best_count + (1 if self.seventeenth else 0))


def grade_indicators(grades: pl.LazyFrame, as_of: dt.date, rules: GradeRules) -> pl.LazyFrame:
    """F count, passed subjects, meritvärde and eligibility from each pupil's latest grades."""
    points = rules.points_x10
    known = grades.select(pl.col("grade").unique()).collect().to_series().to_list()
    unknown = sorted(set(known) - set(points) - {None})
    if unknown:
        raise ValueError(
            gettext("Unknown grades %(unknown)s: known are %(known)s.")
            % {"unknown": unknown, "known": sorted(points)}
        )
    swedish_as = next(iter(sorted(rules.swedish)))  # SV and SVA count as one subject
    latest = (
        grades.filter(pl.col("term_end") <= as_of)
        .with_columns(pl.col("pupil_id").cast(pl.Int64))
        .filter(pl.col("term_end") == pl.col("term_end").max().over("pupil_id"))
        .with_columns(
            points=pl.col("grade").replace_strict(points, default=0, return_dtype=pl.Int64),
            passed=pl.col("grade").is_in(list(rules.passing)),
            subject=pl.when(pl.col("subject_code").is_in(list(rules.swedish)))
            .then(pl.lit(swedish_as))
            .otherwise(pl.col("subject_code")),
            extra=pl.col("subject_code").is_in(list(rules.seventeenth)),
        )
    )

    def passed(codes: Iterable[str]) -> pl.Expr:
        return (pl.col("passed") & pl.col("subject_code").is_in(list(codes))).any()

    programme_ok = [
        pl.all_horizontal([passed([code]) for code in sorted(required)] or [pl.lit(True)])
        for required in rules.preparatory_programmes.values()
    ]
    per_pupil = latest.group_by("pupil_id").agg(
        has_grades=pl.lit(True),
        f_grades=(~pl.col("passed")).sum().cast(pl.Int64),
        failed_subjects=pl.col("subject_code").filter(~pl.col("passed")).unique(),
        passed_subjects=pl.col("subject").filter(pl.col("passed")).n_unique().cast(pl.Int64),
        core_ok=pl.all_horizontal(passed(rules.swedish), *[passed([c]) for c in rules.core]),
        programme_ok=pl.any_horizontal(programme_ok) if programme_ok else pl.lit(True),
        best=pl.col("points")
        .filter(~pl.col("extra"))
        .sort(descending=True)
        .head(rules.best_count)
        .sum(),
        seventeenth=pl.col("points").filter(pl.col("extra")).max(),
    )
    return per_pupil.select(
        "pupil_id",
        "has_grades",
        "f_grades",
        "failed_subjects",
        "passed_subjects",
        merit_x10=(pl.col("best") + pl.col("seventeenth").fill_null(0).clip(lower_bound=0)).cast(
            pl.Int64
        ),
        vocational_eligible=(
            pl.col("core_ok") & (pl.col("passed_subjects") >= rules.vocational_passed)
        ),
        preparatory_eligible=(
            pl.col("core_ok")
            & pl.col("programme_ok")
            & (pl.col("passed_subjects") >= rules.preparatory_passed)
        ),
    )
