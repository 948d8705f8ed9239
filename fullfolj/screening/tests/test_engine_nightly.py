"""The nightly screening (screening.nightly): carried day by day, it equals a full screen."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fullfolj.attendance import columnar
from fullfolj.screening.engine import (
    BASELINE_12W,
    LAST_4W,
    TERM,
    NoSchoolDaysError,
    Window,
    compute_indicators,
    default_rules,
    explain,
    level_rules,
    screen,
    windows_for,
)
from fullfolj.screening.nightly import NightlyIndicators

FIRST = dt.date(2025, 1, 6)  # a Monday
SMALL_WINDOWS = (
    TERM,
    Window(7),
    Window(7, 7),
    Window(21, 7),
    Window(10, 3),
    Window(4, school=True),
    Window(6, 4, school=True),  # reach back over the term break
    Window(28, 28),  # every screen reads the default windows (the last four weeks are added)
)


def _days(rows: list[tuple[int, int, int, int, int, int, int]]) -> pl.DataFrame:
    """PupilDay rows from (pupil, day number, scheduled, valid, invalid, unknown, late)."""
    return pl.DataFrame(
        {
            "pupil_id": [r[0] for r in rows],
            "date": [FIRST + dt.timedelta(days=r[1]) for r in rows],
            "lessons": [3] * len(rows),  # as `_lessons_of` records each day: three lessons
            "scheduled_minutes": [r[2] for r in rows],
            "absent_minutes": [r[3] + r[4] + r[5] for r in rows],
            "valid_minutes": [r[3] for r in rows],
            "invalid_minutes": [r[4] for r in rows],
            "unknown_minutes": [r[5] for r in rows],
            "late_minutes": [5 * r[6] for r in rows],
            "late_count": [r[6] for r in rows],
        },
        schema={
            "pupil_id": pl.Int32,
            "date": pl.Date,
            **dict.fromkeys(columnar.DAY_COLUMNS, pl.Int16),
        },
    )


_kind = st.sampled_from(["present", "present", "whole", "whole", "partial", "late", "none"])


@st.composite
def _history(draw: st.DrawFn) -> tuple[pl.DataFrame, list[int], list[int]]:
    """Pupil days over a random run of school days with a term break in it: pupils who come
    late or leave early, whole-day runs, days without lessons (scheduled 0) and lateness."""
    day_numbers = sorted(draw(st.sets(st.integers(0, 90), min_size=3, max_size=28)))
    pupils = draw(st.integers(1, 5))
    spans = {
        p: sorted(
            draw(st.tuples(st.integers(0, len(day_numbers)), st.integers(0, len(day_numbers))))
        )
        for p in range(1, pupils + 1)
    }
    rows = []
    for index, day in enumerate(day_numbers):
        for pupil, (arrives, leaves) in spans.items():
            if not arrives <= index <= leaves:
                continue
            kind = draw(_kind)
            scheduled = draw(st.sampled_from([0, 60, 240, 300])) if kind != "none" else 0
            if kind == "none" and draw(st.booleans()):
                continue
            absent = {"whole": scheduled, "partial": min(scheduled, 40)}.get(kind, 0)
            split = draw(st.integers(0, 2))
            parts = [absent if split == i else 0 for i in range(3)]
            rows.append((pupil, day, scheduled, *parts, 1 if kind == "late" else 0))
    term_starts = [0, *draw(st.sets(st.sampled_from(day_numbers[1:]), max_size=2))]
    return _days(rows), day_numbers, term_starts


def _term_start(day: int, term_starts: list[int]) -> dt.date:
    return FIRST + dt.timedelta(days=max(s for s in term_starts if s <= day))


def _full(days: pl.DataFrame, as_of: dt.date, term_start: dt.date, windows) -> pl.DataFrame | str:
    try:
        return compute_indicators(
            days.filter(pl.col("date") <= as_of),
            as_of=as_of,
            term_start=term_start,
            windows=windows,
        )
    except NoSchoolDaysError as error:
        return str(error)


def _nightly(state: NightlyIndicators) -> pl.DataFrame | str:
    try:
        return state.indicators()
    except NoSchoolDaysError as error:
        return str(error)


@settings(max_examples=120, deadline=None)
@given(_history(), st.data())
def test_carried_day_by_day_it_equals_a_full_screen(history, data):
    days, day_numbers, terms = history
    begin = data.draw(st.integers(0, len(day_numbers) - 2))
    as_of = FIRST + dt.timedelta(days=day_numbers[begin])
    state = NightlyIndicators.start(
        days.filter(pl.col("date") <= as_of),
        as_of=as_of,
        term_start=_term_start(day_numbers[begin], terms),
        windows=SMALL_WINDOWS,
    )
    _assert_same(_nightly(state), _full(days, as_of, state.term_start, SMALL_WINDOWS))
    by_lessons = data.draw(st.booleans())
    for number in day_numbers[begin + 1 :]:
        day = FIRST + dt.timedelta(days=number)
        term_start = _term_start(number, terms)
        rows = days.filter(pl.col("date") == day)
        if by_lessons:
            state = state.add_lessons(_lessons_of(rows, day), day=day, term_start=term_start)
        else:
            state = state.add_day(rows, day=day, term_start=term_start)
        _assert_same(_nightly(state), _full(days, day, term_start, SMALL_WINDOWS))


# The level rules over a short school-day window, so the random histories cross them often.
LEVEL_RULES = level_rules(Window(4, school=True))


def _assert_same(ours: pl.DataFrame | str, full: pl.DataFrame | str) -> None:
    if isinstance(full, str):
        assert ours == full
    else:
        assert isinstance(ours, pl.DataFrame), ours
        assert ours.equals(full), (ours, full)
        # The level rules flag the same pupils with the same valid/invalid split.
        flags, expected = screen(ours, LEVEL_RULES), screen(full, LEVEL_RULES)
        assert flags.equals(expected), (flags, expected)
        assert [explain(f) for f in flags.to_dicts()] == [explain(f) for f in expected.to_dicts()]


def _lessons_of(rows: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Lesson records that sum to the pupil days `rows` (one lesson per kind of minute)."""
    records = []
    for row in rows.iter_rows(named=True):
        records.append(
            (
                row["pupil_id"],
                row["scheduled_minutes"],
                row["valid_minutes"],
                row["late_minutes"],
                True,
            )
        )
        records.append((row["pupil_id"], 0, row["invalid_minutes"], 0, False))
        records.append((row["pupil_id"], 0, row["unknown_minutes"], 0, None))
    return pl.DataFrame(
        {
            "pupil_id": [r[0] for r in records],
            "date": [day] * len(records),
            "scheduled_minutes": [r[1] for r in records],
            "absent_minutes": [r[2] for r in records],
            "late_minutes": [r[3] for r in records],
            "is_valid": [r[4] for r in records],
        },
        schema=columnar.LESSON_SCHEMA,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 8),
            st.integers(0, 90),
            st.integers(0, 60),
            st.integers(0, 30),
            st.sampled_from([True, False, None]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_days_lessons_add_as_their_pupil_days(records):
    """add_lessons sums the records as columnar.pupil_days does (no grouping)."""
    day = FIRST + dt.timedelta(days=7)
    lessons = pl.DataFrame(
        {
            "pupil_id": [r[0] for r in records],
            "date": [day] * len(records),
            "scheduled_minutes": [r[1] for r in records],
            "absent_minutes": [min(r[1], r[2]) for r in records],
            "late_minutes": [r[3] for r in records],
            "is_valid": [r[4] for r in records],
        },
        schema=columnar.LESSON_SCHEMA,
    )
    kept = _days([(1, 0, 300, 0, 0, 0, 0), (2, 0, 300, 300, 0, 0, 0), (9, 1, 60, 0, 60, 0, 1)])
    state = NightlyIndicators.start(kept, as_of=FIRST + dt.timedelta(days=1), term_start=FIRST)
    by_records = state.add_lessons(lessons)
    by_days = state.add_day(columnar.pupil_days(lessons).collect())
    assert by_records.attendance().equals(by_days.attendance())


def test_the_default_rules_flag_the_same_pupils_as_a_full_screen():
    rules = default_rules()
    windows = windows_for(rules)
    rows = []
    for number in range(0, 130):
        day = FIRST + dt.timedelta(days=number)
        if day.isoweekday() > 5:
            continue
        for pupil in range(1, 5):
            rising = number > 100 and pupil in (1, 2)
            invalid = 60 if rising and number % 2 else 0
            late = 1 if rising and number % 3 == 0 else 0
            rows.append((pupil, number, 300, 0, invalid, 0, late))
    days = _days(rows)
    dates = sorted(days["date"].unique())
    state = NightlyIndicators.start(
        days.filter(pl.col("date") <= dates[-6]),
        as_of=dates[-6],
        term_start=FIRST,
        windows=windows,
    )
    for day in dates[-5:]:
        state = state.add_day(days.filter(pl.col("date") == day))
    full = compute_indicators(days, as_of=dates[-1], term_start=FIRST, windows=windows)
    flags = screen(state.indicators(), rules)
    assert flags.equals(screen(full, rules))
    assert set(flags["pupil_id"]) == {1, 2}


def test_a_state_is_not_changed_by_the_next_day():
    kept = _days([(1, 0, 300, 300, 0, 0, 0), (1, 1, 300, 300, 0, 0, 0), (2, 1, 300, 0, 0, 0, 0)])
    state = NightlyIndicators.start(kept, as_of=FIRST + dt.timedelta(days=1), term_start=FIRST)
    before = state.attendance()
    state.add_day(_days([(1, 2, 300, 300, 0, 0, 0), (3, 2, 300, 0, 0, 0, 0)]))
    assert state.attendance().equals(before)
    assert before["term_longest_run"].to_list() == [2, 0]


def test_other_inputs_join_as_in_compute_indicators():
    kept = _days([(1, 0, 300, 0, 60, 0, 0), (2, 0, 300, 0, 0, 0, 0)])
    as_of = FIRST + dt.timedelta(days=1)
    state = NightlyIndicators.start(kept, as_of=FIRST, term_start=FIRST)
    state = state.add_day(_days([(1, 1, 300, 0, 0, 0, 0)]))
    support = pl.DataFrame(
        {"pupil_id": [2], "start": [FIRST], "end": [None]},
        schema={"pupil_id": pl.Int64, "start": pl.Date, "end": pl.Date},
    )
    full = compute_indicators(
        pl.concat([kept, _days([(1, 1, 300, 0, 0, 0, 0)])]),
        as_of=as_of,
        term_start=FIRST,
        support=support,
    )
    assert state.indicators(support=support).equals(full)
    assert full["support_in_place"].to_list() == [0, 1]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, 0, 300, 0, 0, 0, 0)], "is not after"),
        ([(1, 2, 300, 0, 0, 0, 0), (2, 3, 300, 0, 0, 0, 0)], "exactly one date"),
        ([(1, 2, 300, 0, 0, 0, 0), (1, 2, 60, 0, 0, 0, 0)], "two rows"),
    ],
)
def test_a_day_that_cannot_follow_is_refused(rows, message):
    state = NightlyIndicators.start(_days([(1, 0, 300, 0, 0, 0, 0)]), as_of=FIRST, term_start=FIRST)
    with pytest.raises(ValueError, match=message):
        state.add_day(_days(rows))


def test_a_new_term_cannot_start_before_the_last():
    state = NightlyIndicators.start(
        _days([(1, 5, 300, 0, 0, 0, 0)]),
        as_of=FIRST + dt.timedelta(days=5),
        term_start=FIRST + dt.timedelta(days=5),
    )
    with pytest.raises(ValueError, match="cannot start"):
        state.add_day(_days([(1, 6, 300, 0, 0, 0, 0)]), term_start=FIRST)


def test_windows_include_the_last_four_weeks_and_twelve_week_baseline():
    state = NightlyIndicators.start(
        _days([(1, 0, 300, 0, 0, 0, 0)]),
        as_of=FIRST,
        term_start=FIRST,
        windows=(TERM, BASELINE_12W),
    )
    assert LAST_4W in state.windows
    assert "84d_28_longest_run" in state.attendance().columns
