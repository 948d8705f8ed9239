"""The pure engine on tiny frames: which step opens for which pupil (no database)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fullfolj.ladder import engine
from fullfolj.ladder.engine import Step, Trigger

DAY = dt.date(2026, 3, 18)
RATE5, RATE10 = Trigger("rate", 28, 5.0), Trigger("rate", 28, 10.0)


def frames(
    rates: dict[int, float],
    ladders: dict[int, int | None] | None = None,
    history: list[tuple[int, int, dt.date, bool]] = (),
):
    """Pupils with an absence rate over 28 days (of 1,000 scheduled minutes)."""
    ids = list(rates)
    pupils = pl.DataFrame(
        {"pupil_id": ids, "ladder": [(ladders or {}).get(i) for i in ids]},
        schema={"pupil_id": pl.Int64, "ladder": pl.Int64},
    )
    indicators = pl.DataFrame(
        {
            "pupil_id": ids,
            "s28": [1000] * len(ids),
            "a28": [int(rates[i] * 10) for i in ids],
            "i28": [0] * len(ids),
            "d28": [0] * len(ids),
            "streak": [0] * len(ids),
        }
    )
    past = pl.DataFrame(
        list(history),
        orient="row",
        schema={
            "pupil_id": pl.Int64,
            "step_id": pl.Int64,
            "last_opened": pl.Date,
            "has_open": pl.Boolean,
        },
    )
    return pupils, indicators, past


def opened(steps, *args) -> dict[int, int]:
    return {hit.pupil_id: hit.step_id for hit in engine.triggered(DAY, steps, *args)}


def test_the_highest_step_that_holds_opens_alone():
    steps = [Step(1, 1, (RATE5,)), Step(2, 2, (RATE10,), previous_id=1)]
    assert opened(steps, *frames({7: 4.9, 8: 5.0, 9: 12.0})) == {8: 1, 9: 2}


def test_nothing_opens_at_or_below_the_current_step():
    steps = [
        Step(1, 1, (RATE5,), repeat_after_days=30),
        Step(2, 2, (RATE10,), previous_id=1, repeat_after_days=30),
    ]
    history = [
        (8, 2, DAY - dt.timedelta(days=29), False),  # closed, still current
        (9, 2, DAY - dt.timedelta(days=30), False),
    ]  # lapsed today
    assert opened(steps, *frames({8: 12.0, 9: 12.0}, history=history)) == {9: 2}


def test_each_pupil_climbs_their_own_organisers_ladder():
    steps = [Step(1, 1, (RATE5,)), Step(2, 1, (RATE10,), ladder=70)]
    args = frames({8: 7.0, 9: 7.0, 10: 11.0}, ladders={9: 70, 10: 70})
    assert opened(steps, *args) == {8: 1, 10: 2}


def test_no_improvement_counts_from_the_step_just_below_while_it_is_current():
    wait = Trigger("no_improvement", 28, 5.0, weeks_after_previous=2)
    steps = [
        Step(1, 1, (RATE10,), repeat_after_days=30),
        Step(2, 2, (wait,), previous_id=1, repeat_after_days=30),
    ]
    history = [
        (7, 1, DAY - dt.timedelta(days=14), False),
        (8, 1, DAY - dt.timedelta(days=10), True),
        (9, 1, DAY - dt.timedelta(days=45), True),
    ]  # open, so still current
    hits = engine.triggered(DAY, steps, *frames({7: 6.0, 8: 6.0, 9: 6.0}, history=history))
    assert {(h.pupil_id, h.step_id, h.trigger) for h in hits} == {(7, 2, 0), (9, 2, 0)}
    assert {round(h.value, 6) for h in hits} == {6.0}


def test_the_streak_lookback_follows_the_longest_run_asked_for():
    steps = [Step(1, 1, (Trigger("consecutive_days", 28, 5.0), RATE5))]
    assert engine.streak_days(steps) == 5
    assert engine.windows(steps) == [28]
    assert engine.streak_days([Step(1, 1, (RATE5,))]) == 0
