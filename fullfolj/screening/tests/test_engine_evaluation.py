"""The screening engine: evaluating rules against outcomes, support in place, descriptions, and the sums over chunks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fullfolj.screening.engine import (
    BASELINE_12W,
    LAST_4W,
    Condition,
    compute_indicators,
    explain,
    rule,
    screen,
    windows_for,
)
from fullfolj.screening.evaluation import History, Outcome, evaluate, screening_dates

from .test_engine import AS_OF, TERM_START, day_row, frame, indicators, present, school_days  # noqa: F401

# --- Evaluation -----------------------------------------------------------------------------


def test_evaluation_counts_warnings_before_the_outcome():
    start, end = dt.date(2025, 1, 6), dt.date(2025, 4, 25)
    escalating = {d.isoformat(): {"invalid": 120} for d in school_days(dt.date(2025, 3, 3), end)}
    rows = (
        present(1, start, end, **escalating)
        + present(2, start, end)
        + present(
            3,
            start,
            end,
            **{d.isoformat(): {"invalid": 120} for d in school_days(dt.date(2025, 2, 3), end)},
        )
    )
    history = History(days=frame(rows), terms=pl.DataFrame({"start": [start], "end": [end]}))
    outcome = Outcome(
        pl.DataFrame(
            {
                "pupil_id": [1, 2, 3],
                "is_case": [True, False, False],
                "outcome_date": [dt.date(2025, 4, 7), None, None],
            },
            schema_overrides={"outcome_date": pl.Date},
        ),
        "test",
    )
    rules = [rule("inv", "absence_invalid", ">=", 20, LAST_4W)]
    result = evaluate(history, outcome, rules)  # every school day, as the daily job screens
    whole = result.whole
    # Pupil 1 is 40 % absent from 3 March: on Friday 14 March 10 of the last 20 school days make
    # 20 % (13 March: 9 days, 18 %), so the first flag comes 24 days before 7 April.
    assert (whole["flagged"], whole["recalled"], whole["outcomes"]) == (2, 1, 1)
    assert whole["precision"] == 0.5
    assert whole["sensitivity"] == 1.0
    assert whole["specificity"] == 0.5
    assert whole["median_weeks"] == 24 / 7
    assert result.lines()[-3:] == [
        "early_warning: recall=1.000",
        "early_warning: precision=0.500",
        "early_warning: median_weeks=3.429",
    ]
    # Screened every Monday only, the first flag waits for 17 March: three weeks.
    weekly = evaluate(history, outcome, rules, dates=screening_dates(history, weekday=1))
    assert weekly.whole["median_weeks"] == 3.0
    # From four weeks after the first data (3 February) to 25 April: 60 school days, 12 Mondays.
    assert (result.dates, weekly.dates) == (60, 12)
    near = evaluate(history, outcome, rules, horizon_weeks=2).whole
    assert near["median_weeks"] == 2.0  # only flags in the two weeks before the outcome count

    # Pupil 3 made a case whose escalation began when its absence was already over 20 %
    # (outcome on the onset day): left out of recall, counted apart, its flag still correct.
    over = Outcome(
        pl.DataFrame(
            {
                "pupil_id": [1, 2, 3],
                "is_case": [True, False, True],
                "outcome_date": [dt.date(2025, 4, 7), None, dt.date(2025, 3, 10)],
                "onset_date": [dt.date(2025, 3, 3), None, dt.date(2025, 3, 10)],
            },
            schema_overrides={"outcome_date": pl.Date, "onset_date": pl.Date},
        ),
        "test",
    )
    both = evaluate(history, over, rules).whole
    assert (both["outcomes"], both["already"], both["recalled"]) == (1, 1, 1)
    assert both["sensitivity"] == 1.0
    assert both["precision"] == 1.0


# --- Support in place, descriptions ---------------------------------------------------------


def test_support_in_place_counts_what_is_open_on_the_day():
    support = pl.DataFrame(
        {
            "pupil_id": [1, 1, 1, 2],
            "start": [
                dt.date(2025, 2, 1),
                dt.date(2025, 3, 3),
                dt.date(2025, 3, 4),
                dt.date(2025, 1, 10),
            ],
            "end": [None, None, None, dt.date(2025, 3, 3)],  # pupil 2's closed on the day
        },
        schema_overrides={"end": pl.Date},
    )
    result = compute_indicators(
        frame(present(1) + present(2) + present(3)),
        as_of=AS_OF,
        term_start=TERM_START,
        support=support,
    )
    assert result.select("pupil_id", "support_in_place").rows() == [(1, 2), (2, 0), (3, 0)]
    no_support = screen(result, [rule("ns", "support_in_place", "<", 1)])
    assert no_support["pupil_id"].to_list() == [2, 3]
    assert explain(no_support.row(0, named=True)) == "0 pågående stöd eller åtgärder (gräns 1)"


def test_rules_are_described_in_swedish():
    from fullfolj.screening.engine import describe

    assert describe(rule("x", "absence_invalid", ">=", 15, LAST_4W)) == (
        "Ogiltig frånvaro minst 15 % de senaste fyra veckorna"
    )
    assert describe(rule("x", "vocational_eligible", "<", 1, grade_years=(9,))) == (
        "Inte behörig till yrkesprogram (årskurs 9)"
    )
    assert describe(rule("x", "merit_value", "<", Decimal("162.5"), grade_years=(7, 8, 9))) == (
        "Meritvärde under 162,5 (årskurs 7–9)"
    )
    rising = rule(
        "x",
        "absence_total",
        ">=",
        10,
        LAST_4W,
        also=(Condition("invalid_trend", ">=", 1, LAST_4W, baseline=BASELINE_12W),),
    )
    assert describe(rising) == (
        "Frånvaro minst 10 % de senaste fyra veckorna och den ogiltiga frånvarons ökning minst "
        "1 procentenhet de senaste fyra veckorna jämfört med de tolv veckorna dessförinnan"
    )


def test_irregular_days_count_invalid_absence_or_lateness_once_a_day():
    recent = school_days(dt.date(2025, 2, 4), AS_OF)  # 20 school days
    marks = {
        recent[0].isoformat(): {"invalid": 60, "late": 1},  # both: one day
        recent[1].isoformat(): {"late": 2},
        recent[2].isoformat(): {"valid": 300},  # valid absence is not irregular
        recent[3].isoformat(): {"invalid": 300},
    }
    rows = present(1, **marks)
    rising = rule("irr", "irregular_trend", ">=", 15, LAST_4W)
    result = compute_indicators(
        frame(rows), as_of=AS_OF, term_start=TERM_START, windows=windows_for([rising])
    )
    row = result.row(0, named=True)
    assert (row["28d_irregular_days"], row["28d_days"]) == (3, 20)
    assert row["28d_28_irregular_days"] == 0
    share = screen(result, [rule("s", "irregular_share", ">=", 15, LAST_4W)])
    assert explain(share.row(0, named=True)) == (
        "Ogiltig frånvaro eller sen ankomst 15 % av skoldagarna de senaste fyra veckorna "
        "(gräns 15 %)"
    )
    flags = screen(result, [rising])
    assert flags["value"].to_list() == [pytest.approx(15.0)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 1_000_000), min_size=1, max_size=60),
    st.lists(st.integers(1, 20), min_size=1, max_size=6),
    st.data(),
)
def test_sums_over_chunks_equal_one_reduceat(values, chunk_sizes, data):

    from fullfolj.screening.engine.compute import _reduce_chunks

    starts = np.array(
        sorted({0, *data.draw(st.lists(st.integers(0, len(values) - 1), max_size=10))}), np.int64
    )
    parts, offset = [], 0
    for size in [*chunk_sizes, len(values)]:
        if offset < len(values):
            parts.append(pl.Series(values[offset : offset + size], dtype=pl.Int64))
            offset += size
    chunked = pl.concat(parts, rechunk=False)
    expected = np.add.reduceat(np.array(values, np.int64), starts)
    assert chunked.n_chunks() == len(parts)
    assert _reduce_chunks(chunked, starts).tolist() == expected.tolist()


def test_rows_in_any_order_and_figures_too_large_to_pack_give_the_same_indicators():
    # Minutes above a day's 1440 cannot share an int64 three to one: each figure gets a pass.
    dates = school_days(TERM_START, AS_OF)
    rows = [day_row(1, d, invalid=60 if i % 3 else 300) for i, d in enumerate(dates)]
    rows += [day_row(2, d, valid=30 * (i % 4)) for i, d in enumerate(dates)]
    ordered = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    shuffled = compute_indicators(
        frame(rows).sample(fraction=1.0, shuffle=True, seed=3), as_of=AS_OF, term_start=TERM_START
    )
    assert shuffled.equals(ordered)
    big = frame(rows).with_columns(
        pl.col(c) * 10
        for c in (
            "scheduled_minutes",
            "absent_minutes",
            "valid_minutes",
            "invalid_minutes",
            "unknown_minutes",
        )
    )
    scaled = compute_indicators(big, as_of=AS_OF, term_start=TERM_START)
    assert scaled["term_absent"].to_list() == [10 * v for v in ordered["term_absent"].to_list()]
    assert scaled["term_longest_run"].equals(ordered["term_longest_run"])
    assert big["scheduled_minutes"].max() > 1440
