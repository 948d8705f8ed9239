"""The outcomes a municipality observes in its own history, from tiny frames."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fullfolj.screening.evaluation import History, score
from fullfolj.screening.outcomes import absence_level_outcome, failing_outcome, not_eligible_outcome

FIRST = dt.date(2026, 1, 12)  # a Monday


def _days(absent_by_pupil: dict[int, list[int]]) -> pl.DataFrame:
    """PupilDay rows, one school day per entry (100 minutes scheduled, `absent` of them)."""
    rows = []
    for pupil, absences in absent_by_pupil.items():
        for n, absent in enumerate(absences):
            rows.append((pupil, FIRST + dt.timedelta(days=n), absent))
    return pl.DataFrame(
        {
            "pupil_id": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "scheduled_minutes": [100] * len(rows),
            "absent_minutes": [r[2] for r in rows],
        }
    )


def test_absence_outcome_is_the_first_crossing_after_a_window_below_the_level():
    below = [0] * 25
    days = _days(
        {
            1: [*below, *[100] * 10],  # below for 25 days, then away: crosses 20 % on day 30
            2: [100] * 35,  # above from the first full window: never "after a period below"
            3: [*below, 100, 0, 100, 0, 0, 0, 0, 0, 0, 0],  # two days of 20: 10 %, never above 20
            4: [100] * 5 + [0] * 40 + [100] * 6,  # above early, below, then above again
        }
    )
    outcome = absence_level_outcome(days, percent=20)
    cases = dict(outcome.frame.select("pupil_id", "outcome_date").iter_rows())
    # Pupil 1: the 5th absent day (day 29) makes 5 of 20 = 25 % > 20 %.
    assert cases == {1: FIRST + dt.timedelta(days=29), 4: FIRST + dt.timedelta(days=49)}
    assert "20 %" in outcome.description
    lower = dict(
        absence_level_outcome(days, percent=5).frame.select("pupil_id", "outcome_date").iter_rows()
    )
    assert lower[3] == FIRST + dt.timedelta(days=27)  # one day of 20 is 5 %: the second passes it


def _grades(rows: list[tuple[int, dt.date, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pupil_id": [r[0] for r in rows],
            "term_end": [r[1] for r in rows],
            "subject_code": [r[2] for r in rows],
            "grade": [r[3] for r in rows],
            "term_id": [r[1].year * 10 + r[1].month for r in rows],
        }
    )


AUTUMN, SPRING = dt.date(2025, 12, 19), dt.date(2026, 6, 12)
SUBJECTS = ["SV", "EN", "MA", "BI", "FY", "KE", "HI", "GE", "RE"]


def _term(pupil: int, end: dt.date, failed: set[str]) -> list[tuple[int, dt.date, str, str]]:
    return [(pupil, end, s, "F" if s in failed else "C") for s in SUBJECTS]


def test_failing_outcome_is_a_term_with_enough_f_after_one_with_fewer():
    grades = _grades(
        _term(1, AUTUMN, set())
        + _term(1, SPRING, {"MA", "EN"})  # from 0 to 2: a case at the spring term's end
        + _term(2, AUTUMN, {"MA", "EN"})
        + _term(2, SPRING, {"MA", "EN", "SV"})  # already at 2 before: no new outcome here
        + _term(3, AUTUMN, set())
        + _term(3, SPRING, {"MA"})  # one is not enough
    )
    history = History(days=_days({}), terms=pl.DataFrame(), grades=grades)
    outcome = failing_outcome(history, subjects=2, since=dt.date(2025, 9, 1))
    # Pupil 2 fails two subjects in the first grades there are: an outcome then, not again.
    cases = dict(outcome.frame.select("pupil_id", "outcome_date").iter_rows())
    assert cases == {1: SPRING, 2: AUTUMN}
    assert outcome.population is not None
    assert set(outcome.population["pupil_id"]) == {1, 2, 3}
    # Terms before the first screening are history, not outcomes.
    later = failing_outcome(history, subjects=2, since=dt.date(2026, 1, 10))
    assert later.frame.height == 1
    assert failing_outcome(history, subjects=2, since=SPRING).population.height == 0


def test_not_eligible_outcome_reads_the_year_9_spring_grades():
    grades = _grades(
        _term(1, SPRING, set())  # eligible
        + _term(2, SPRING, {"MA"})  # no maths: not eligible
        + _term(3, SPRING, {"MA"})  # in year 8: not leaving yet
        + _term(4, AUTUMN, {"MA"})  # autumn of year 9: not the final grades
    )
    placements = pl.DataFrame(
        {
            "pupil_id": [1, 2, 3, 4],
            "school_id": [1, 1, 1, 1],
            "start": [dt.date(2025, 8, 1)] * 4,
            "end": [None, None, None, dt.date(2025, 12, 31)],
            "grade": [9, 9, 8, 9],
        }
    )
    history = History(days=_days({}), terms=pl.DataFrame(), grades=grades, placements=placements)
    outcome = not_eligible_outcome(history, since=dt.date(2025, 9, 1))
    assert dict(outcome.frame.select("pupil_id", "outcome_date").iter_rows()) == {2: SPRING}
    assert sorted(outcome.population["pupil_id"]) == [1, 2]


def test_only_pupils_who_can_show_the_outcome_are_scored():
    grades = _grades(_term(1, SPRING, set()) + _term(2, SPRING, {"MA"}))
    placements = pl.DataFrame(
        {
            "pupil_id": [1, 2, 3],
            "school_id": [1, 1, 1],
            "start": [dt.date(2025, 8, 1)] * 3,
            "end": [None, None, None],
            "grade": [9, 9, 7],
        }
    )
    history = History(days=_days({}), terms=pl.DataFrame(), grades=grades, placements=placements)
    first = dt.date(2026, 2, 2)
    outcome = not_eligible_outcome(history, since=first)
    roster = pl.DataFrame(
        {"date": [first] * 3, "pupil_id": [1, 2, 3], "school_id": [1, 1, 1]},
        schema={"date": pl.Date, "pupil_id": pl.Int64, "school_id": pl.Int64},
    )
    flags = pl.DataFrame(
        {"date": [first, first], "pupil_id": [2, 3], "rule_id": ["failing", "failing"]},
        schema={"date": pl.Date, "pupil_id": pl.Int64, "rule_id": pl.Utf8},
    )
    figures = score(flags, roster, outcome, ["failing"]).per_rule.row(1, named=True)
    # Pupil 3 (year 7) cannot leave year 9 in this history: neither a miss nor a false flag.
    assert (figures["pupils"], figures["flagged"], figures["precision"]) == (2, 1, 1.0)
    assert (figures["sensitivity"], figures["specificity"]) == (1.0, 1.0)
