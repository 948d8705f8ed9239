"""How good each rule is: the organiser's whole history screened again and every rule scored
against an outcome it can observe (and, on simulated data, against the simulator's truth)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import polars as pl

from fullfolj.schools.models import Organiser

from .engine import warns_early
from .evaluation import (
    Evaluation,
    score,
    screen_history,
    screening_dates,
    simulator_outcome,
)
from .outcomes import (
    CROSSING_PERCENT,
    OWN_HORIZON_WEEKS,
    absence_crossings,
    absence_level_outcome,
    confirmed_precision,
    failing_outcome,
    not_eligible_outcome,
)
from .queries import DATE, I64, organiser_history

CONFIRM_WEEKS = 8  # a flag is confirmed when absence passes 20 % within this many weeks


class EarlyWarning(TypedDict):
    """The screen's attendance rules together against the simulator's escalating pupils."""

    recall: float | None
    precision: float | None
    unreachable: int  # crossed before any screening after their start
    median_weeks: float | None
    flagged: int
    outcomes: int
    recalled: int
    already: int  # escalations that began above 20 % absence
    rules: list[str]


@dataclass
class OrganiserEvaluation:
    """The evaluation of the organiser's rules on its own history, with the early warning."""

    evaluation: Evaluation
    confirmed: dict[str, float | None]  # rule_id -> precision against the 20 % crossing
    early_warning: EarlyWarning | None  # against the simulator's truth, when present
    rule_ids: list[str]
    flags: pl.DataFrame  # date, pupil_id, rule_id: for pooling organisers
    roster: pl.DataFrame
    truth: pl.DataFrame | None
    warning_rules: list[str]  # the attendance rules the early warning is measured on


ABSENCE, NOT_ELIGIBLE, FAILING = "absence", "not_eligible", "failing"  # RuleEvaluation.Outcome


def evaluate_organiser(
    organiser: Organiser | int,
    rules: list[Any],
    *,
    weeks: int = CONFIRM_WEEKS,
    weekday: int | None = None,
    truth: pl.DataFrame | None = None,
    outcome: str = ABSENCE,
    level: int = CROSSING_PERCENT,
    subjects: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> OrganiserEvaluation:
    """Screen the organiser's whole history at every school day in term, as the daily job does
    (or every `weekday`, 1 = Monday, for a weekly screening) and score each rule against an
    outcome the municipality observes in its own history (docs/screening.md):

    - `absence`: absence over 20 school days passes `level` % after a period below it (a flag
      counts up to `OWN_HORIZON_WEEKS` before);
    - `not_eligible`: leaving year 9 without eligibility (any earlier flag counts);
    - `failing`: F or – in `subjects` subjects or more in a term's grades (a flag up to
      `OWN_HORIZON_WEEKS` before the term's end counts).

    Precision is also given against "absence passed 20 % within `weeks` weeks of the flag".
    `truth` is the simulator's ground truth when the caller has it (pupil_id, escalates,
    escalation_start, escalation_crossing; the database never holds it): only an extra check,
    the early warning, never the outcome. `progress` is told (dates done, dates in all).
    """
    history = organiser_history(organiser)
    engine_rules = [r.to_engine() for r in rules]
    rule_ids = [r.id for r in engine_rules]
    dates = screening_dates(history, weekday=weekday)
    flags, roster = screen_history(history, engine_rules, dates, progress=progress)
    first = roster["date"].min()
    since = first if isinstance(first, dt.date) else dt.date.max
    horizon: int | None = OWN_HORIZON_WEEKS
    if outcome == NOT_ELIGIBLE:
        observed, horizon = not_eligible_outcome(history, since=since), None
    elif outcome == FAILING:
        observed = failing_outcome(history, subjects=subjects, since=since)
    elif outcome == ABSENCE:
        observed = absence_level_outcome(history.days, percent=level)
    else:
        raise ValueError(f"Unknown outcome {outcome!r}.")
    evaluation = score(
        flags,
        roster,
        observed,
        rule_ids,
        pupils=history.pupils,
        horizon_weeks=horizon,
        screenings=roster["date"].n_unique(),
    )
    confirmed = confirmed_precision(flags, absence_crossings(history.days), rule_ids, weeks=weeks)
    truth = truth_for(truth, history.pupils)
    warning_rules = [r.id for r in engine_rules if warns_early(r)]
    early = early_warning(flags, roster, truth, warning_rules) if truth is not None else None
    return OrganiserEvaluation(
        evaluation, confirmed, early, rule_ids, flags, roster, truth, warning_rules
    )


def early_warning(
    flags: pl.DataFrame, roster: pl.DataFrame, truth: pl.DataFrame, rule_ids: list[str]
) -> EarlyWarning:
    """The early-warning figures: the screen's attendance rules together (any of them)
    against the simulator's escalating pupils. The outcome is escalating absence, so the
    grade rules are measured per rule, not here."""
    chosen = flags.filter(pl.col("rule_id").is_in(rule_ids))
    whole = score(chosen, roster, simulator_outcome(truth), rule_ids).whole
    return {
        "recall": whole["sensitivity"],
        "precision": whole["precision"],
        "unreachable": unreachable(roster, truth),
        "median_weeks": whole["median_weeks"],
        "flagged": whole["flagged"],
        "outcomes": whole["outcomes"],
        "recalled": whole["recalled"],
        "already": whole["already"],
        "rules": rule_ids,
    }


def pooled_early_warning(results: list[OrganiserEvaluation]) -> EarlyWarning | None:
    """The early warning over every organiser with ground truth (the whole demo region)."""
    with_truth = [(r, r.truth) for r in results if r.truth is not None]
    if not with_truth:
        return None
    return early_warning(
        pl.concat([r.flags for r, _ in with_truth]),
        pl.concat([r.roster for r, _ in with_truth]),
        pl.concat([truth for _, truth in with_truth]).unique("pupil_id"),
        sorted({code for r, _ in with_truth for code in r.warning_rules}),
    )


TRUTH_COLUMNS = {
    "pupil_id": I64,
    "escalates": pl.Boolean(),
    "escalation_start": DATE,
    "escalation_crossing": DATE,
}


def truth_for(truth: pl.DataFrame | None, pupils: pl.DataFrame | None) -> pl.DataFrame | None:
    """The rows of a ground truth (the simulator's, given by the caller) for these pupils, or
    None when there is none for them."""
    if truth is None or pupils is None or not pupils.height:
        return None
    missing = set(TRUTH_COLUMNS) - set(truth.columns)
    if missing:
        raise ValueError(f"The ground truth lacks the columns {', '.join(sorted(missing))}.")
    chosen = truth.select(pl.col(name).cast(kind) for name, kind in TRUTH_COLUMNS.items()).join(
        pupils.select(pl.col("pupil_id").cast(I64)), on="pupil_id", how="semi"
    )
    return chosen if chosen.height else None


def unreachable(roster: pl.DataFrame, truth: pl.DataFrame) -> int:
    """Escalations that cross 20 % after the first screening but before any screening that
    falls after their start: no screen of these dates sees a day of the escalation in time."""
    first = roster["date"].min()
    cases = truth.filter(
        pl.col("escalates")
        & (pl.col("escalation_crossing") > pl.col("escalation_start"))
        & (pl.col("escalation_crossing") > first)
    )
    seen = (
        roster.join(cases, on="pupil_id")
        .filter(
            (pl.col("date") > pl.col("escalation_start"))
            & (pl.col("date") < pl.col("escalation_crossing"))
        )
        .select("pupil_id")
        .unique()
    )
    return cases.height - seen.height
