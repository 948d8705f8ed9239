"""Which ladder step opens for which pupil today: pure Polars over per-pupil indicators.

Input frames come from set-based queries (actions.evaluate_ladder): one row per pupil with the
sums of the per-day aggregates over each window the triggers use and the current run of whole
days absent, plus the pupil's task history per step. No Django here.

The ladder is climbed one step at a time (docs/ladder.md). A pupil's *current step*
is the highest step whose task is still open or opened less than the step's repeat_after_days
ago. A step opens only above the current step, and on one day at most one step opens per pupil:
the highest whose trigger holds (a pupil at 25 % absence goes straight to the investigation,
without a guardian call opened the same morning). Once every task has lapsed, the pupil starts
from the bottom again.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

RATE, INVALID_DAYS, CONSECUTIVE_DAYS, NO_IMPROVEMENT = (
    "rate",
    "invalid_days",
    "consecutive_days",
    "no_improvement",
)


@dataclass(frozen=True)
class Trigger:
    kind: str
    window_days: int
    threshold: float
    invalid_only: bool = False
    weeks_after_previous: int = 3


@dataclass(frozen=True)
class Step:
    id: int
    order: int
    triggers: tuple[Trigger, ...]
    ladder: int | None = None  # the organiser whose ladder this is; None: the shared default
    previous_id: int | None = None  # the step just below in the same ladder
    repeat_after_days: int = 30


@dataclass(frozen=True)
class Hit:
    pupil_id: int
    step_id: int
    trigger: int  # index into the step's triggers: the first one that held
    value: float  # the measured indicator


def windows(steps: list[Step]) -> list[int]:
    """The distinct windows (calendar days) the triggers need sums for."""
    return sorted({t.window_days for s in steps for t in s.triggers if t.kind != CONSECUTIVE_DAYS})


def streak_days(steps: list[Step]) -> int:
    """The longest run of whole days absent a trigger asks for (0: none asks)."""
    return max(
        (math.ceil(t.threshold) for s in steps for t in s.triggers if t.kind == CONSECUTIVE_DAYS),
        default=0,
    )


def value_of(trigger: Trigger) -> pl.Expr:
    """The indicator a trigger compares with its threshold, as a column expression."""
    w = trigger.window_days
    if trigger.kind in (RATE, NO_IMPROVEMENT):
        absent = pl.col(f"i{w}") if trigger.invalid_only else pl.col(f"a{w}")
        return pl.when(pl.col(f"s{w}") > 0).then(absent * 100.0 / pl.col(f"s{w}")).otherwise(0.0)
    if trigger.kind == INVALID_DAYS:
        return pl.col(f"d{w}").cast(pl.Float64)
    return pl.col("streak").cast(pl.Float64)


def _active(day: dt.date, steps: list[Step], history: pl.DataFrame) -> pl.DataFrame:
    """The tasks that keep their step current: open, or opened within repeat_after_days."""
    frame = pl.DataFrame(
        {
            "step_id": [s.id for s in steps],
            "order": [s.order for s in steps],
            "ladder": [s.ladder for s in steps],
            "until": [day - dt.timedelta(days=s.repeat_after_days) for s in steps],
        },
        schema={"step_id": pl.Int64, "order": pl.Int64, "ladder": pl.Int64, "until": pl.Date},
    )
    return history.join(frame, on="step_id", how="inner").filter(
        pl.col("has_open") | (pl.col("last_opened") > pl.col("until"))
    )


def triggered(
    day: dt.date,
    steps: list[Step],
    pupils: pl.DataFrame,
    indicators: pl.DataFrame,
    history: pl.DataFrame,
) -> list[Hit]:
    """The step that opens today for each pupil, if any (see the module docstring).

    pupils: pupil_id, ladder (the organiser whose ladder applies; null for the default).
    indicators: pupil_id, s<w>/a<w>/i<w> (scheduled, absent, invalid minutes), d<w> (days with
    invalid absence) per window, and streak (whole days absent in a row, up to the latest).
    history: pupil_id, step_id, last_opened (date), has_open (bool).
    A step holds when any of its triggers holds; "no improvement" holds when the step just below
    is the pupil's current step, opened at least N weeks ago, and the indicator is still at
    the threshold.
    """
    if not steps or pupils.is_empty():
        return []
    frame = pupils.join(indicators, on="pupil_id", how="left").with_columns(
        pl.col(c).fill_null(0) for c in indicators.columns if c != "pupil_id"
    )
    active = _active(day, steps, history)
    # The current step counts only in the pupil's own ladder (a pupil may have moved).
    current = (
        active.join(pupils, on="pupil_id", how="inner")
        .filter(pl.col("ladder").eq_missing(pl.col("ladder_right")))
        .group_by("pupil_id")
        .agg(pl.col("order").max().alias("current"))
    )
    candidates = []
    for step in steps:
        rows = frame.filter(pl.col("ladder").eq_missing(pl.lit(step.ladder, dtype=pl.Int64)))
        previous = active.filter(pl.col("step_id") == (step.previous_id or -1)).select(
            "pupil_id", pl.col("last_opened").alias("previous_opened")
        )
        rows = rows.join(previous, on="pupil_id", how="left")
        which: pl.Expr = pl.lit(None, dtype=pl.Int64)
        value: pl.Expr = pl.lit(None, dtype=pl.Float64)
        for index in reversed(range(len(step.triggers))):  # the first that holds wins
            trigger = step.triggers[index]
            holds = value_of(trigger) >= trigger.threshold
            if trigger.kind == NO_IMPROVEMENT:
                since = day - dt.timedelta(weeks=trigger.weeks_after_previous)
                holds = holds & (pl.col("previous_opened") <= since).fill_null(False)
            which = pl.when(holds).then(pl.lit(index, dtype=pl.Int64)).otherwise(which)
            value = pl.when(holds).then(value_of(trigger)).otherwise(value)
        candidates.append(
            rows.select("pupil_id", which.alias("trigger"), value.alias("value"))
            .filter(pl.col("trigger").is_not_null())
            .with_columns(
                pl.lit(step.id, dtype=pl.Int64).alias("step_id"),
                pl.lit(step.order, dtype=pl.Int64).alias("order"),
            )
        )
    hits = (
        pl.concat(candidates)
        .join(current, on="pupil_id", how="left")
        .filter(pl.col("order") > pl.col("current").fill_null(-1))
        .sort(["pupil_id", "order", "step_id"], descending=[False, True, True])
        .unique(subset="pupil_id", keep="first", maintain_order=True)
    )
    return [
        Hit(pupil, step, index, val)
        for pupil, step, index, val in hits.select(
            "pupil_id", "step_id", "trigger", "value"
        ).iter_rows()
    ]
