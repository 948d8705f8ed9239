"""Which ladder steps trigger for which pupils: pure Polars over per-pupil indicators.

Input frames come from set-based queries (actions.evaluate_ladder): one row per pupil with the
sums of the per-day aggregates over each window the triggers use, the current run of whole days
absent, and the pupil's task history per step. No Django here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

RATE, INVALID_DAYS, CONSECUTIVE_DAYS, NO_IMPROVEMENT = (
    "rate", "invalid_days", "consecutive_days", "no_improvement")


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
    organiser_id: int | None = None
    previous_id: int | None = None
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


def needs_streak(steps: list[Step]) -> bool:
    return any(t.kind == CONSECUTIVE_DAYS for s in steps for t in s.triggers)


def _value(trigger: Trigger) -> pl.Expr:
    w = trigger.window_days
    if trigger.kind in (RATE, NO_IMPROVEMENT):
        absent = pl.col(f"i{w}") if trigger.invalid_only else pl.col(f"a{w}")
        return (pl.when(pl.col(f"s{w}") > 0)
                .then(absent * 100.0 / pl.col(f"s{w}")).otherwise(0.0))
    if trigger.kind == INVALID_DAYS:
        return pl.col(f"d{w}").cast(pl.Float64)
    return pl.col("streak").cast(pl.Float64)


def triggered(
    day: dt.date, steps: list[Step], pupils: pl.DataFrame, indicators: pl.DataFrame,
    history: pl.DataFrame,
) -> list[Hit]:
    """Every (pupil, step) whose step triggers on `day` and may open a task.

    pupils: pupil_id, organiser_id. indicators: pupil_id, s<w>/a<w>/i<w>/d<w> per window
    (scheduled, absent, invalid minutes and days with invalid absence), streak.
    history: pupil_id, step_id, last_opened (date), has_open (bool).
    A step triggers when any of its triggers holds; "no improvement" also needs the previous
    step opened at least N weeks before. One open task per pupil and step, and none sooner
    than the step's repeat_after_days after the last one.
    """
    frame = pupils.join(indicators, on="pupil_id", how="left").fill_null(0)
    hits: list[Hit] = []
    for step in steps:
        rows = frame if step.organiser_id is None else frame.filter(
            pl.col("organiser_id") == step.organiser_id)
        if step.previous_id is not None:
            previous = history.filter(pl.col("step_id") == step.previous_id).select(
                "pupil_id", pl.col("last_opened").alias("previous_opened"))
            rows = rows.join(previous, on="pupil_id", how="left")
        else:
            rows = rows.with_columns(pl.lit(None, dtype=pl.Date).alias("previous_opened"))
        which: pl.Expr = pl.lit(None, dtype=pl.Int32)
        value: pl.Expr = pl.lit(None, dtype=pl.Float64)
        for index in reversed(range(len(step.triggers))):  # the first that holds wins
            trigger = step.triggers[index]
            holds = _value(trigger) >= trigger.threshold
            if trigger.kind == NO_IMPROVEMENT:
                since = day - dt.timedelta(weeks=trigger.weeks_after_previous)
                holds = holds & pl.col("previous_opened").is_not_null() & (
                    pl.col("previous_opened") <= since)
            which = pl.when(holds).then(pl.lit(index, dtype=pl.Int32)).otherwise(which)
            value = pl.when(holds).then(_value(trigger)).otherwise(value)
        rows = rows.with_columns(which.alias("trigger"), value.alias("value")).filter(
            pl.col("trigger").is_not_null())
        own = history.filter(pl.col("step_id") == step.id).select(
            "pupil_id", "last_opened", "has_open")
        rows = rows.join(own, on="pupil_id", how="left").filter(
            pl.col("has_open").fill_null(False).not_()
            & (pl.col("last_opened").is_null()
               | (pl.col("last_opened") <= day - dt.timedelta(days=step.repeat_after_days)))
        )
        hits.extend(
            Hit(pupil, step.id, index, round(val, 1))
            for pupil, index, val in rows.select("pupil_id", "trigger", "value").iter_rows()
        )
    return hits
