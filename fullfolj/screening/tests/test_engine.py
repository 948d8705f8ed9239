"""The screening engine with tiny frames: indicators by hand, rules, explanations, evaluation."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fullfolj.screening.engine import (
    BASELINE_12W,
    LAST_4W,
    PREV_4W,
    TERM,
    Condition,
    NoSchoolDaysError,
    Window,
    compute_indicators,
    default_rules,
    explain,
    rule,
    screen,
    windows_for,
)

TERM_START = dt.date(2025, 1, 6)  # a Monday
AS_OF = dt.date(2025, 3, 3)  # a Monday, 8 weeks later


def school_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if day.isoweekday() <= 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def day_row(
    pupil: int,
    date: dt.date,
    scheduled: int = 300,
    valid: int = 0,
    invalid: int = 0,
    unknown: int = 0,
    late: int = 0,
) -> dict[str, object]:
    return {
        "pupil_id": pupil,
        "organiser_id": 1,
        "date": date,
        "lessons": 6,
        "scheduled_minutes": scheduled,
        "absent_minutes": valid + invalid + unknown,
        "valid_minutes": valid,
        "invalid_minutes": invalid,
        "unknown_minutes": unknown,
        "late_minutes": 5 * late,
        "late_count": late,
    }


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "pupil_id": pl.Int64,
            "organiser_id": pl.Int64,
            "date": pl.Date,
            "lessons": pl.Int64,
            "scheduled_minutes": pl.Int64,
            "absent_minutes": pl.Int64,
            "valid_minutes": pl.Int64,
            "invalid_minutes": pl.Int64,
            "unknown_minutes": pl.Int64,
            "late_minutes": pl.Int64,
            "late_count": pl.Int64,
        },
    )


def present(
    pupil: int, start: dt.date = TERM_START, end: dt.date = AS_OF, **overrides: dict[str, object]
) -> list[dict[str, object]]:
    """A pupil at school every weekday; overrides maps an ISO date to day_row keyword args."""
    return [
        day_row(pupil, d, **overrides.get(d.isoformat(), {}))  # type: ignore[arg-type]
        for d in school_days(start, end)
    ]


def indicators(rows: list[dict[str, object]], **kwargs: object) -> dict[str, object]:
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START, **kwargs)  # type: ignore[arg-type]
    return result.row(0, named=True)


# --- Absence rates -------------------------------------------------------------------------


def test_absence_minutes_per_window_are_the_hand_sums():
    rows = present(
        1,
        **{
            "2025-01-07": {"valid": 300},  # term only
            "2025-02-04": {"invalid": 60},  # previous four weeks (2025-01-07 .. 2025-02-03)? no:
            "2025-02-10": {"invalid": 100, "late": 1},  # last four weeks: 2025-02-04 .. 2025-03-03
            "2025-03-03": {"unknown": 30, "late": 2},
        },
    )
    row = indicators(rows)
    assert row["term_scheduled"] == 300 * len(school_days(TERM_START, AS_OF))
    assert (row["term_valid"], row["term_invalid"], row["term_unknown"]) == (300, 160, 30)
    assert row["term_absent"] == 490
    assert (row["28d_invalid"], row["28d_unknown"], row["28d_valid"]) == (160, 30, 0)
    assert row["28d_days"] == len(school_days(dt.date(2025, 2, 4), AS_OF))
    assert row["28d_28_valid"] == 300  # 2025-01-07 .. 2025-02-03
    assert row["term_late_count"] == 3
    assert row["28d_late_minutes"] == 15


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40), st.integers(0, 300), st.integers(0, 300), st.integers(1, 400)
        ),
        min_size=1,
        max_size=41,
        unique_by=lambda t: t[0],
    )
)
def test_absence_rate_equals_the_hand_sum(marks):
    dates = school_days(TERM_START, AS_OF)
    rows = []
    for index, valid, invalid, scheduled in marks:
        valid, invalid = min(valid, scheduled), min(invalid, scheduled - min(valid, scheduled))
        rows.append(day_row(1, dates[index], scheduled=scheduled, valid=valid, invalid=invalid))
    if not any(r["date"] >= dt.date(2025, 2, 4) for r in rows):
        rows.append(day_row(1, AS_OF))
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    flags = screen(result, [rule("r", "absence_invalid", ">=", 0, TERM)])
    invalid = sum(r["invalid_minutes"] for r in rows)
    scheduled = sum(r["scheduled_minutes"] for r in rows)
    assert (flags["value_num"][0], flags["value_den"][0]) == (100 * invalid, scheduled)
    recent = [r for r in rows if r["date"] >= dt.date(2025, 2, 4)]
    assert result["28d_absent"][0] == sum(r["absent_minutes"] for r in recent)


def test_threshold_compares_in_integers_at_the_exact_boundary():
    # 1 minute of 10: exactly 10 %, which a float 0.1 * 100 would put on either side.
    rows = [day_row(1, AS_OF, scheduled=10, invalid=1), day_row(2, AS_OF, scheduled=3, invalid=1)]
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    at_ten = screen(result, [rule("r", "absence_invalid", ">=", 10, LAST_4W)])
    above_ten = screen(result, [rule("r", "absence_invalid", ">", 10, LAST_4W)])
    third = screen(result, [rule("r", "absence_invalid", ">=", Decimal("33.33"), LAST_4W)])
    assert at_ten["pupil_id"].to_list() == [1, 2]
    assert above_ten["pupil_id"].to_list() == [2]
    assert third["pupil_id"].to_list() == [2]


def test_trend_is_the_difference_in_percentage_points():
    rows = present(
        1,
        **{
            d.isoformat(): {"invalid": 30}  # 10 % in the last four weeks
            for d in school_days(dt.date(2025, 2, 4), AS_OF)
        },
    )
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    flags = screen(result, [rule("t", "absence_trend", ">=", 10, LAST_4W)])
    assert flags["value"].to_list() == [pytest.approx(10.0)]
    assert screen(result, [rule("t", "absence_trend", ">", 10, LAST_4W)]).is_empty()


def test_no_school_days_on_the_screening_date_is_refused():
    rows = present(1, end=dt.date(2025, 1, 20))  # nothing in the last four weeks
    with pytest.raises(NoSchoolDaysError, match="Inga skoldagar"):
        compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    with pytest.raises(NoSchoolDaysError, match="före terminens start"):
        compute_indicators(frame(rows), as_of=dt.date(2024, 12, 1), term_start=TERM_START)


# --- Whole days, lateness, concentration ----------------------------------------------------


def longest_run_reference(whole: list[bool]) -> int:
    best = current = 0
    for is_whole in whole:
        current = current + 1 if is_whole else 0
        best = max(best, current)
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=41), st.lists(st.booleans(), max_size=41))
def test_longest_run_equals_a_simple_reference(whole, other):
    dates = school_days(TERM_START, AS_OF)[-len(whole) :]
    rows = [day_row(1, d, invalid=300 if w else 299) for d, w in zip(dates, whole, strict=True)]
    rows += [day_row(2, d, valid=300 if w else 0) for d, w in zip(dates, other, strict=False)]
    rows.append(day_row(3, AS_OF))
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    first = result.filter(pl.col("pupil_id") == 1).row(0, named=True)
    assert first["term_longest_run"] == longest_run_reference(whole)
    assert first["term_whole_days"] == sum(whole)
    recent = [w for d, w in zip(dates, whole, strict=True) if d >= dt.date(2025, 2, 4)]
    assert first["28d_longest_run"] == longest_run_reference(recent)
    if other:
        second = result.filter(pl.col("pupil_id") == 2).row(0, named=True)
        assert second["term_longest_run"] == longest_run_reference(other[: len(dates)])


def test_a_run_spans_weekends_and_days_without_school():
    # Friday, then Monday after a skipped (holiday) Tuesday..; days absent from the aggregate
    # neither count nor break the run.
    rows = [
        day_row(1, dt.date(2025, 2, 14), invalid=300),  # Friday
        day_row(1, dt.date(2025, 2, 17), valid=300),  # Monday
        day_row(1, dt.date(2025, 2, 19), scheduled=0),  # no lessons: not a school day
        day_row(1, dt.date(2025, 2, 20), invalid=300),
        day_row(1, dt.date(2025, 2, 21), invalid=100),
    ]
    row = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START).row(0, named=True)
    assert row["term_longest_run"] == 3
    assert row["term_skip_days"] == 1


def test_weekday_concentration_names_the_weekday():
    mondays = {
        d.isoformat(): {"invalid": 300}
        for d in school_days(TERM_START, AS_OF)
        if d.isoweekday() == 1 and d >= dt.date(2025, 2, 4)
    }
    rows = present(1, **mondays, **{"2025-02-12": {"valid": 100}})
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START)
    row = result.row(0, named=True)
    assert (row["28d_weekday_top"], row["28d_weekday_absent"], row["28d_absent"]) == (1, 1200, 1300)
    flag = screen(result, [rule("wd", "weekday_concentration", ">=", 40, LAST_4W)])
    assert explain(flag.row(0, named=True)) == (
        "92 % av frånvaron på måndagar de senaste fyra veckorna (gräns 40 %, väntat 20 %)"
    )


def test_subject_concentration_from_the_weekly_subject_aggregate():
    rows = present(1)
    weeks = pl.DataFrame(
        {
            "pupil_id": [1, 1, 1, 1],
            "subject_id": [4, 1, 4, 1],
            "week": [
                dt.date(2025, 2, 17),
                dt.date(2025, 2, 17),
                dt.date(2025, 2, 24),
                dt.date(2025, 2, 24),
            ],
            "scheduled_minutes": [200, 800, 200, 800],
            "absent_minutes": [100, 0, 100, 0],
            "invalid_minutes": [100, 0, 100, 0],
        }
    )
    result = compute_indicators(
        frame(rows), as_of=AS_OF, term_start=TERM_START, subject_weeks=weeks
    )
    row = result.row(0, named=True)
    # Mathematics 50 % against 10 % in all subjects: 40 percentage points.
    assert row["28d_subject_id"] == 4
    assert row["28d_subject_num"] / row["28d_subject_den"] == pytest.approx(40.0)
    flag = screen(result, [rule("s", "subject_concentration", ">=", 25, LAST_4W)])
    assert explain(flag.row(0, named=True), {4: "matematik"}) == (
        "Frånvaron i matematik är 40 procentenheter högre än i alla ämnen de senaste fyra "
        "veckorna (gräns 25 procentenheter)"
    )


# --- Explanations ---------------------------------------------------------------------------


def flag(
    indicator: str,
    num: int,
    den: int,
    threshold: str,
    window: str | None = "28d",
    comparison: str = ">=",
    **extra: object,
) -> dict[str, object]:
    return {
        "indicator": indicator,
        "window": window,
        "comparison": comparison,
        "value_num": num,
        "value_den": den,
        "threshold": threshold,
        "detail": None,
        "baseline": "",
        "also": [],
        **extra,
    }


@pytest.mark.parametrize(
    ("the_flag", "text"),
    [
        (
            flag("absence_invalid", 1400, 100, "10"),
            "Ogiltig frånvaro 14 % de senaste fyra veckorna (gräns 10 %)",
        ),
        (
            flag("absence_total", 100 * 431, 3000, "10", window="term"),
            "Frånvaro 14 % denna termin (gräns 10 %)",
        ),
        (
            flag("absence_valid", 100 * 2, 20, "7.5", window="14d"),
            "Giltig frånvaro 10 % de senaste två veckorna (gräns 7,5 %)",
        ),
        (
            flag("absence_total", 100 * 96, 1000, "10", comparison="<"),
            "Frånvaro 9,6 % de senaste fyra veckorna (gräns 10 %)",
        ),
        (
            flag("absence_total", 100 * 1004, 10000, "10", comparison=">"),
            "Frånvaro 10,04 % de senaste fyra veckorna (gräns 10 %)",
        ),
        (
            flag("absence_trend", 700, 100, "5"),
            "Frånvaron ökade med 7 procentenheter de senaste fyra veckorna jämfört med de fyra "
            "veckorna dessförinnan (gräns 5 procentenheter)",
        ),
        (
            flag("invalid_trend", -300, 100, "-1", comparison="<="),
            "Den ogiltiga frånvaron minskade med 3 procentenheter de senaste fyra veckorna jämfört "
            "med de fyra veckorna dessförinnan (gräns −1 procentenhet)",
        ),
        (
            flag("whole_day_run", 4, 1, "3", window="term"),
            "Frånvarande hela dagen 4 skoldagar i rad denna termin (gräns 3)",
        ),
        (
            flag("late_count", 12, 1, "10", window="28d_28"),
            "Sen ankomst 12 gånger de fyra veckorna före de senaste fyra veckorna (gräns 10)",
        ),
        (
            flag("failing_subjects", 3, 1, "2", window=None),
            "F, – eller varning om F i 3 ämnen (gräns 2)",
        ),
        (
            flag("merit_value", 1875, 10, "200", window=None, comparison="<"),
            "Meritvärde 187,5 (gräns 200)",
        ),
        (
            flag("school_changes", 2, 1, "2", window=None),
            "Bytt skola 2 gånger de senaste 12 månaderna (gräns 2)",
        ),
        (
            flag("preparatory_eligible", 0, 1, "1", window=None, comparison="<"),
            "Inte behörig till högskoleförberedande program enligt senaste betygen",
        ),
    ],
)
def test_explanation_texts(the_flag, text):
    assert explain(the_flag) == text


def test_explanation_of_a_rule_with_a_further_condition():
    rows = present(
        1, **{d.isoformat(): {"invalid": 45} for d in school_days(dt.date(2025, 2, 4), AS_OF)}
    )
    rising = rule(
        "rising",
        "absence_total",
        ">=",
        10,
        LAST_4W,
        also=(Condition("invalid_trend", ">=", 1, LAST_4W, baseline=BASELINE_12W),),
    )
    result = compute_indicators(
        frame(rows), as_of=AS_OF, term_start=TERM_START, windows=windows_for([rising])
    )
    flags = screen(result, [rising])
    assert explain(flags.row(0, named=True)) == (
        "Frånvaro 15 % de senaste fyra veckorna: 0 % giltig, 15 % ogiltig (gräns 10 %) och den "
        "ogiltiga frånvaron ökade "
        "med 15 procentenheter de senaste fyra veckorna jämfört med de tolv veckorna "
        "dessförinnan (gräns 1 procentenhet)"
    )


def test_window_labels_and_keys():
    assert [w.key for w in (TERM, LAST_4W, PREV_4W)] == ["term", "28d", "28d_28"]
    assert Window.from_key("28d_28") == PREV_4W
    assert Window(7).label() == "den senaste veckan"
    assert Window(10).label() == "de senaste 10 dagarna"


SPORTLOV = (dt.date(2025, 2, 17), dt.date(2025, 2, 21))


def _epochs(days: list[dt.date]) -> np.ndarray:
    return np.array([(d - dt.date(1970, 1, 1)).days for d in days], np.int64)


def test_school_day_windows_are_counted_in_school_days_over_a_holiday():
    term = [d for d in school_days(TERM_START, AS_OF) if not SPORTLOV[0] <= d <= SPORTLOV[1]]
    calendar = _epochs(term)
    last5, before5 = Window(5, school=True), Window(5, 5, school=True)
    assert (last5.key, before5.key) == ("5s", "5s_5")
    assert Window.from_key("5s_5") == before5 == last5.before
    assert before5.label() == "de 5 skoldagarna före de senaste 5 skoldagarna"
    # Back from Monday 3 March: Tue 25 Feb .. Mon 3 Mar; before those Mon 24 Feb and, over the
    # sportlov week, Tue 11 .. Fri 14 Feb: the window ends the day before the next one starts.
    assert last5.bounds(AS_OF, TERM_START, calendar) == (dt.date(2025, 2, 25), AS_OF)
    assert before5.bounds(AS_OF, TERM_START, calendar) == (
        dt.date(2025, 2, 11),
        dt.date(2025, 2, 24),
    )
    # A Saturday: the last school day is Friday, the window still ends on the as-of date.
    saturday = dt.date(2025, 3, 1)
    assert Window(1, school=True).bounds(saturday, TERM_START, calendar) == (
        dt.date(2025, 2, 28),
        saturday,
    )
    # Fewer school days than the window: from the first; none at all: the day before the first.
    assert Window(100, school=True).bounds(AS_OF, TERM_START, calendar)[0] == dt.date(2025, 1, 6)
    assert Window(5, 100, school=True).bounds(AS_OF, TERM_START, calendar) == (
        dt.date(2025, 1, 5),
        dt.date(2025, 1, 5),
    )
    with pytest.raises(ValueError, match="räknas i skoldagar"):
        last5.bounds(AS_OF, TERM_START)

    rows = [day_row(1, d, invalid=60 if d == dt.date(2025, 2, 12) else 0) for d in term]
    result = indicators(rows, windows=[last5, before5])
    assert (result["5s_days"], result["5s_5_days"], result["5s_5_skipped_lessons"]) == (5, 5, 1)


@pytest.mark.parametrize(
    ("invalid", "lessons"),
    [
        (60, 1),  # 60 of 300 minutes in six lessons: 1.2 lessons
        (100, 2),  # 2.0
        (75, 2),  # 1.5, rounded half up
        (10, 1),  # 0.2: still a lesson missed
        (0, 0),
        (300, 0),  # the whole day: counted in whole_days, not here
    ],
)
def test_skipped_lessons_are_invalid_minutes_in_the_days_average_lesson(invalid, lessons):
    result = indicators(present(1, **{"2025-02-20": {"invalid": invalid}}))
    assert result["28d_skipped_lessons"] == lessons
    assert result["28d_skip_days"] == (1 if 0 < invalid < 300 else 0)


def test_the_early_warning_rule_needs_late_arrivals_and_skips_above_the_pupils_own_rate():
    recent = school_days(dt.date(2025, 2, 4), AS_OF)  # the last four weeks: 20 school days
    assert len(recent) == 20
    marks = {d.isoformat(): {"invalid": 60} for d in recent[:3]}  # three skipped lessons
    marks |= {d.isoformat(): {"invalid": 60, "late": 1} for d in recent[3:5]}
    rows = present(1, dt.date(2024, 11, 4), **marks)
    chronic = {
        d.isoformat(): {"invalid": 60, "late": 1}
        for d in school_days(dt.date(2024, 11, 4), AS_OF)[::4]
    }
    rows += present(2, dt.date(2024, 11, 4), **chronic)  # the same pattern all along
    rules = [r for r in default_rules() if r.id == "rising_late_skip"]
    result = compute_indicators(
        frame(rows), as_of=AS_OF, term_start=TERM_START, windows=windows_for(rules)
    )
    flags = screen(result, rules)
    assert flags["pupil_id"].to_list() == [1]
    # Baseline: the 120 school days before the last 20 reach back to the first data, 2024-11-04:
    # 66 school days without a late arrival or skip, so both figures expect (0 + 1) / (66 + 20)
    # * 20 = 0.2326 in the 20 days; 2 late arrivals and 5 skipped lessons (60 minutes of a
    # day's six lessons each) give z = 1.7674 / 0.4822 = 3.665 and 4.7674 / 0.4822 = 9.886.
    expected = 20 / 86
    z_late, z_skip = ((count - expected) / math.sqrt(expected) for count in (2, 5))
    flag = flags.row(0, named=True)
    assert flag["value_num"] == math.floor(100 * (z_late + z_skip) + 0.5) == 1355
    assert flag["value_den"] == 100
    assert explain(flag) == (
        "Sen ankomst 2 gånger (väntat 0,2) och ogiltig frånvaro från omkring 5 lektioner "
        "utöver hela dagar (väntat 0,2) de senaste 20 skoldagarna, mot elevens egen nivå under "
        "de 120 skoldagarna dessförinnan: avvikelse 14 (gräns 7,5)"
    )


def test_late_skip_trend_compares_with_the_pupils_own_rate_and_needs_a_baseline():
    rise = rule("rise", "late_skip_trend", ">=", "7.5", LAST_4W, baseline=Window(168, 28))
    recent = school_days(dt.date(2025, 2, 4), AS_OF)
    burst = {d.isoformat(): {"invalid": 60, "late": 1} for d in recent[:6]}
    rows = present(1, dt.date(2024, 11, 4), **burst)  # 66 days of history: compared
    rows += present(2, dt.date(2025, 1, 20), **burst)  # 11 days before the window: too few
    late_only = {d.isoformat(): {"late": 1} for d in recent[:6]}
    rows += present(3, dt.date(2024, 11, 4), **late_only)  # one figure alone: z = 12.0 + (-0.48)
    result = compute_indicators(
        frame(rows), as_of=AS_OF, term_start=TERM_START, windows=windows_for([rise])
    )
    flags = screen(result, [rise])
    assert flags["pupil_id"].to_list() == [1, 3]
    scores = dict(zip(flags["pupil_id"], flags["value_num"], strict=True))
    expected = 20 / 86
    assert scores[3] == math.floor(
        100 * ((6 - expected) + (0 - expected)) / math.sqrt(expected) + 0.5
    )
    assert scores[1] > scores[3]
    # Below 20 baseline school days the figure is undefined: no flag, however sharp the rise.
    pupil2 = result.filter(pl.col("pupil_id") == 2)
    assert pupil2["168d_28_days"].item() == 11


def test_default_rules_are_valid_and_screen():
    rules = default_rules()
    assert len({r.id for r in rules}) == len(rules)
    result = compute_indicators(
        frame(present(1)), as_of=AS_OF, term_start=TERM_START, windows=windows_for(rules)
    )
    assert screen(result, rules).is_empty()
