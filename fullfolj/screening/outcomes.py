"""Outcomes to score the rules against: problematic absence and the outcomes a municipality
observes in its own history (absence above a level, F grades, leaving year 9 without
eligibility), each as an `Outcome` for `evaluation.score`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from django.utils.translation import gettext

from .engine import GradeRules
from .engine.grades import grade_indicators
from .evaluation import WHOLE_SCREEN, History, Outcome

# --- Problematic absence from the kept aggregates -----------------------------------------

OWN_HORIZON_WEEKS = 26  # without ground truth: a flag up to a term before the crossing warns
CROSSING_SCHOOL_DAYS = 20
CROSSING_PERCENT = 20


def absence_crossings(
    days: pl.DataFrame,
    *,
    school_days: int = CROSSING_SCHOOL_DAYS,
    percent: int = CROSSING_PERCENT,
) -> pl.DataFrame:
    """Every school day (pupil_id, date) on which the pupil's absence over the last
    `school_days` school days (ending that day) exceeds `percent` % of scheduled minutes.

    The same measure as the simulator's crossing (docs/absence.md: about 10 % is
    problematic; 20 % is well past it), computed for every pupil from attendance_pupilday.
    Integer arithmetic: absent * 100 > percent * scheduled.
    """
    rolled = (
        days.lazy()
        .filter(pl.col("scheduled_minutes") > 0)
        .sort("pupil_id", "date")
        .with_columns(
            s=pl.col("scheduled_minutes")
            .cast(pl.Int64)
            .rolling_sum(school_days, min_samples=1)
            .over("pupil_id"),
            a=pl.col("absent_minutes")
            .cast(pl.Int64)
            .rolling_sum(school_days, min_samples=1)
            .over("pupil_id"),
        )
        .filter(pl.col("a") * 100 > percent * pl.col("s"))
        .select(pl.col("pupil_id").cast(pl.Int64), "date")
    )
    return rolled.collect()


def crossing_outcome(days: pl.DataFrame) -> Outcome:
    """The municipality's own outcome: the first day absence over 20 school days passed 20 %."""
    first = absence_crossings(days).group_by("pupil_id").agg(outcome_date=pl.col("date").min())
    return Outcome(
        first.with_columns(is_case=pl.lit(True)).select("pupil_id", "is_case", "outcome_date"),
        gettext(
            "case = pupil whose absence over the last %(days)s school days passes %(percent)s %% "
            "at some point; outcome day = the first such school day"
        )
        % {"days": CROSSING_SCHOOL_DAYS, "percent": CROSSING_PERCENT},
    )


def confirmed_precision(
    flags: pl.DataFrame,
    crossings: pl.DataFrame,
    rule_ids: Sequence[str],
    *,
    weeks: int,
) -> dict[str, float | None]:
    """Per rule (and `*`): the share of flagged pupils whose absence over 20 school days
    exceeded 20 % on some school day from a flag's date up to `weeks` weeks after it.

    A flag is a correct warning of problematic absence when the absence follows, whether or
    not the simulator made the pupil escalate: the precision the product can measure on any
    municipality's own data.
    """
    with_all = pl.concat([flags, flags.with_columns(rule_id=pl.lit(WHOLE_SCREEN))])
    hits = (
        with_all.join(crossings.rename({"date": "crossing"}), on="pupil_id", how="inner")
        .filter(
            (pl.col("crossing") >= pl.col("date"))
            & (pl.col("crossing") <= pl.col("date") + pl.duration(weeks=weeks))
        )
        .select("rule_id", "pupil_id")
        .unique()
    )
    flagged = with_all.select("rule_id", "pupil_id").unique()
    counts = (
        flagged.group_by("rule_id")
        .agg(flagged=pl.len())
        .join(hits.group_by("rule_id").agg(hit=pl.len()), on="rule_id", how="left")
    )
    result: dict[str, float | None] = dict.fromkeys([WHOLE_SCREEN, *rule_ids])
    for rule_id, n, hit in counts.iter_rows():
        result[rule_id] = (hit or 0) / n if n else None
    return result


# --- Outcomes the municipality observes in its own history -----------------------------------


def absence_level_outcome(
    days: pl.DataFrame,
    *,
    percent: int = CROSSING_PERCENT,
    school_days: int = CROSSING_SCHOOL_DAYS,
) -> Outcome:
    """Absence that passed `percent` % over `school_days` school days after a period below it.

    A case is a pupil whose absence over the last `school_days` of their school days first
    exceeded the level on a day after a whole such window at or below it; the outcome day is
    that day. A pupil above the level from their first full window on has no "before" to be
    warned in until they come below it and cross again.
    """
    rolled = (
        days.lazy()
        .filter(pl.col("scheduled_minutes") > 0)
        .sort("pupil_id", "date")
        .with_columns(
            n=pl.int_range(pl.len()).over("pupil_id"),
            s=pl.col("scheduled_minutes")
            .cast(pl.Int64)
            .rolling_sum(school_days, min_samples=1)
            .over("pupil_id"),
            a=pl.col("absent_minutes")
            .cast(pl.Int64)
            .rolling_sum(school_days, min_samples=1)
            .over("pupil_id"),
        )
        .with_columns(above=pl.col("a") * 100 > percent * pl.col("s"))
        .with_columns(
            below_before=(~pl.col("above") & (pl.col("n") >= school_days - 1))
            .cast(pl.Int64)
            .cum_sum()
            .shift(1, fill_value=0)
            .over("pupil_id")
        )
        .filter(pl.col("above") & (pl.col("below_before") > 0))
        .group_by("pupil_id")
        .agg(outcome_date=pl.col("date").min())
        .collect()
    )
    return Outcome(
        rolled.select(
            pl.col("pupil_id").cast(pl.Int64), is_case=pl.lit(True), outcome_date="outcome_date"
        ),
        gettext(
            "case = pupil whose absence over the last %(days)s school days passes %(percent)s %% "
            "after a period below it; outcome day = the first such school day"
        )
        % {"days": school_days, "percent": percent},
    )


def _graded_terms(history: History) -> pl.DataFrame:
    """Per pupil and term with grades: term_end and the number of subjects failed (F or –)."""
    grades = history.grades
    if grades is None or not grades.height:
        return pl.DataFrame(schema={"pupil_id": pl.Int64, "term_end": pl.Date, "failed": pl.Int64})
    passing = list(GradeRules().passing)
    return grades.group_by(pl.col("pupil_id").cast(pl.Int64), "term_end").agg(
        failed=(~pl.col("grade").is_in(passing)).sum().cast(pl.Int64)
    )


def failing_outcome(history: History, *, subjects: int = 2, since: dt.date) -> Outcome:
    """F (or –) in at least `subjects` subjects in a term's grades after one with fewer.

    Only pupils with grades in a term ending after `since` (the first screening date) can show
    it; the outcome day is that term's last day, so a flag in the term before warns of it.
    """
    terms = _graded_terms(history).sort("pupil_id", "term_end")
    marked = terms.with_columns(
        fewer_before=(pl.col("failed") < subjects)
        .cast(pl.Int64)
        .cum_sum()
        .shift(1, fill_value=0)
        .over("pupil_id"),
        first_graded=pl.col("term_end").min().over("pupil_id"),
    ).filter(pl.col("term_end") > since)
    cases = (
        marked.filter(
            (pl.col("failed") >= subjects)
            & ((pl.col("fewer_before") > 0) | (pl.col("term_end") == pl.col("first_graded")))
        )
        .group_by("pupil_id")
        .agg(outcome_date=pl.col("term_end").min())
    )
    population = marked.group_by("pupil_id").agg(observed_on=pl.col("term_end").min())
    return Outcome(
        cases.select("pupil_id", is_case=pl.lit(True), outcome_date="outcome_date"),
        gettext(
            "case = pupil with F or – in at least %(subjects)s subjects in a term's grades after "
            "a term with fewer; outcome day = that term's last day; only pupils given grades "
            "after the first screening"
        )
        % {"subjects": subjects},
        population,
    )


def not_eligible_outcome(history: History, *, since: dt.date) -> Outcome:
    """Leaving year 9 without eligibility for a vocational programme, on the final grades.

    The final grades are those of a spring term (ending May–July) in which the pupil was placed
    in year 9; only pupils who left year 9 after `since` (the first screening date) are scored.
    """
    empty = pl.DataFrame(schema={"pupil_id": pl.Int64, "outcome_date": pl.Date, "ok": pl.Boolean})
    finals = [empty]
    grades, placements = history.grades, history.placements
    if grades is not None and placements is not None and "grade" in placements.columns:
        ends = grades.select(pl.col("term_end").unique()).to_series().to_list()
        for end in sorted(e for e in ends if e is not None and 5 <= e.month <= 7 and e > since):
            in_nine = placements.filter(
                (pl.col("grade") == 9)
                & (pl.col("start") <= end)
                & (pl.col("end").is_null() | (pl.col("end") >= end))
            ).select(pl.col("pupil_id").cast(pl.Int64))
            term = grades.filter(pl.col("term_end") == end).with_columns(
                pl.col("pupil_id").cast(pl.Int64)
            )
            term = term.join(in_nine, on="pupil_id", how="semi")
            if not term.height:
                continue
            eligible = grade_indicators(term.lazy(), end, GradeRules()).collect()
            finals.append(
                eligible.select(
                    "pupil_id", outcome_date=pl.lit(end), ok=pl.col("vocational_eligible")
                )
            )
    final = pl.concat(finals).group_by("pupil_id").agg(pl.all().sort_by("outcome_date").last())
    return Outcome(
        final.filter(~pl.col("ok")).select(
            "pupil_id", is_case=pl.lit(True), outcome_date="outcome_date"
        ),
        gettext(
            "case = pupil who left year 9 without eligibility for a vocational programme; "
            "outcome day = the last day of the spring term; only pupils who left year 9 after "
            "the first screening"
        ),
        final.select("pupil_id", observed_on="outcome_date"),
    )
