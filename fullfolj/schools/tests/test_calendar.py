""" "This term so far" and "the last four weeks": one definition, with its fallbacks."""

from __future__ import annotations

import datetime as dt

from fullfolj.schools.calendar import (
    recent_weeks,
    term_and_recent_windows,
    term_so_far,
    weeks_before,
)


def test_in_a_term_it_runs_from_the_terms_first_day_to_the_day(cast):
    assert term_so_far(dt.date(2026, 3, 18)) == (cast.spring.start, dt.date(2026, 3, 18))


def test_between_terms_it_is_the_whole_term_that_ended_last(cast):
    christmas = dt.date(2026, 1, 2)
    assert term_so_far(christmas) == (cast.autumn.start, cast.autumn.end)
    summer = dt.date(2026, 7, 1)
    assert term_so_far(summer) == (cast.spring.start, cast.spring.end)


def test_before_any_term_it_is_the_last_four_weeks(cast):
    day = cast.autumn.start - dt.timedelta(days=10)
    assert term_so_far(day) == (day - dt.timedelta(days=27), day)
    assert term_so_far(day) == recent_weeks(day)


def test_both_windows_by_name(cast):
    day = dt.date(2026, 3, 18)
    assert term_and_recent_windows(day) == {
        "term": (cast.spring.start, day),
        "recent": (dt.date(2026, 2, 19), day),
    }


def test_the_weeks_before_are_whole_weeks_ending_the_sunday_before():
    thursday = dt.date(2025, 11, 20)
    assert weeks_before(thursday) == (dt.date(2025, 10, 20), dt.date(2025, 11, 16))
    monday = dt.date(2025, 11, 17)
    assert weeks_before(monday) == weeks_before(thursday)
    assert weeks_before(dt.date(2025, 11, 23), 3) == (dt.date(2025, 10, 27), dt.date(2025, 11, 16))
