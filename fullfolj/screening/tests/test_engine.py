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
    GradeRules,
    NoSchoolDaysError,
    RuleError,
    Window,
    compute_indicators,
    default_rules,
    explain,
    rule,
    screen,
    windows_for,
)
from fullfolj.screening.evaluation import History, Outcome, evaluate, screening_dates

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


# --- Grades ---------------------------------------------------------------------------------

SUBJECTS_16 = (
    "SV",
    "EN",
    "MA",
    "BI",
    "FY",
    "KE",
    "TK",
    "GE",
    "HI",
    "RE",
    "SH",
    "BL",
    "HKK",
    "IDH",
    "MU",
    "SL",
)


def grades_frame(
    pupil: int,
    grades: dict[str, str],
    term_end: dt.date = dt.date(2024, 12, 20),
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pupil_id": [pupil] * len(grades),
            "subject_code": list(grades),
            "term_id": [1] * len(grades),
            "grade": list(grades.values()),
            "term_end": [term_end] * len(grades),
        }
    )


def grade_row(grades: dict[str, str], rules: GradeRules | None = None) -> dict[str, object]:
    return indicators(present(1), grades=grades_frame(1, grades), grade_rules=rules)


def test_meritvarde_counts_the_best_16_and_a_modern_language_as_17th():
    all_a = dict.fromkeys(SUBJECTS_16, "A")
    assert grade_row(all_a)["merit_x10"] == 3200
    assert grade_row({**all_a, "M2": "A"})["merit_x10"] == 3400  # the maximum, 340
    assert grade_row({**all_a, "M2": "F"})["merit_x10"] == 3200  # an F cannot lower it
    mixed = {**dict.fromkeys(SUBJECTS_16, "C"), "MA": "B", "EN": "-", "M2": "D"}
    assert grade_row(mixed)["merit_x10"] == 14 * 150 + 175 + 0 + 125  # "-" counts 0


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from((*SUBJECTS_16, "SVA", "M2")), st.sampled_from("ABCDEF-"), min_size=1
    )
)
def test_meritvarde_matches_a_reference(grades):
    points = {"A": 200, "B": 175, "C": 150, "D": 125, "E": 100, "F": 0, "-": 0}
    ordinary = sorted((points[g] for s, g in grades.items() if s != "M2"), reverse=True)
    expected = sum(ordinary[:16]) + points[grades.get("M2", "F")]
    row = grade_row(grades)
    assert row["merit_x10"] == expected
    assert row["f_grades"] == sum(g in "F-" for g in grades.values())


def test_vocational_eligibility_needs_the_core_and_eight_passes():
    eight = {"SV": "E", "EN": "E", "MA": "E", "BI": "E", "FY": "E", "KE": "E", "TK": "E", "GE": "E"}
    assert grade_row(eight)["vocational_eligible"] is True
    assert grade_row({**eight, "GE": "F"})["vocational_eligible"] is False
    assert grade_row({**eight, "GE": "-"})["passed_subjects"] == 7  # "–" is not passed
    no_english = {**eight, "EN": "F", "HI": "E"}
    assert grade_row(no_english)["vocational_eligible"] is False
    sva = {**eight, "SV": "F", "SVA": "E", "HI": "E"}
    assert grade_row(sva)["vocational_eligible"] is True


def test_preparatory_eligibility_needs_twelve_with_the_programme_subjects():
    twelve = {
        "SV": "D",
        "EN": "D",
        "MA": "D",
        "BI": "E",
        "FY": "E",
        "KE": "E",
        "TK": "E",
        "BL": "E",
        "IDH": "E",
        "MU": "E",
        "SL": "E",
        "HKK": "E",
    }
    assert grade_row(twelve)["preparatory_eligible"] is True  # ES, NA/TE
    eleven = {**twelve, "HKK": "F"}
    assert grade_row(eleven)["preparatory_eligible"] is False
    strict = GradeRules(preparatory_programmes={"SA": frozenset({"GE", "HI", "RE", "SH"})})
    assert grade_row(twelve, strict)["preparatory_eligible"] is False
    social = {**twelve, "BI": "F", "GE": "E", "HI": "E", "RE": "E", "SH": "E"}
    assert grade_row(social, strict)["preparatory_eligible"] is True


def test_grade_rules_are_configurable_and_checked():
    rules = GradeRules(vocational_passed=3)
    assert grade_row({"SV": "E", "EN": "E", "MA": "E"}, rules)["vocational_eligible"] is True
    with pytest.raises(ValueError, match="en decimal"):
        GradeRules(
            points={
                "A": Decimal("20.25"),
                "B": Decimal(1),
                "C": Decimal(1),
                "D": Decimal(1),
                "E": Decimal(1),
                "F": Decimal(0),
            }
        )


def test_latest_grades_f_warnings_and_failing_subjects():
    older = grades_frame(1, {"MA": "F", "EN": "F"}, dt.date(2024, 6, 14))
    latest = grades_frame(1, {"MA": "F", "EN": "C", "SV": "-"})
    later = grades_frame(1, {"MA": "A"}, dt.date(2025, 6, 13))  # after the as-of date
    warnings = pl.DataFrame(
        {
            "pupil_id": [1, 1, 1],
            "subject_code": ["MA", "BI", "HI"],
            "date": [dt.date(2025, 2, 10), dt.date(2025, 2, 10), dt.date(2024, 11, 1)],
        }
    )
    row = indicators(present(1), grades=pl.concat([older, latest, later]), warnings=warnings)
    assert row["f_grades"] == 2
    assert row["f_warnings"] == 2  # HI was warned last term
    assert row["failing_subjects"] == 3  # MA, SV, BI


def test_school_changes_in_the_last_twelve_months():
    placements = pl.DataFrame(
        {
            "pupil_id": [1, 1, 1, 1, 2],
            "school_id": [10, 10, 11, 12, 10],
            "start": [
                dt.date(2023, 8, 1),
                dt.date(2024, 1, 8),
                dt.date(2024, 8, 19),
                dt.date(2025, 1, 6),
                dt.date(2024, 8, 19),
            ],
            "end": [dt.date(2023, 12, 20), dt.date(2024, 6, 14), dt.date(2024, 12, 20), None, None],
            "grade": [7, 7, 8, 8, 5],
        }
    )
    rows = present(1) + present(2) + present(3)  # pupil 3 is not placed: not screened
    result = compute_indicators(
        frame(rows), as_of=AS_OF, term_start=TERM_START, placements=placements
    )
    assert result.select("pupil_id", "school_id", "grade", "school_changes").rows() == [
        (1, 12, 8, 2),
        (2, 10, 5, 0),
    ]


# --- Rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field", "reason"),
    [
        (lambda: rule("x", "shoe_size", ">=", 5), "indicator", "Okänd indikator 'shoe_size'"),
        (lambda: rule("x", "absence_total", ">=", 150, LAST_4W), "threshold", "utanför 0–100"),
        (lambda: rule("x", "absence_total", ">=", -1, LAST_4W), "threshold", "utanför 0–100"),
        (lambda: rule("x", "late_count", ">=", Decimal("2.5"), LAST_4W), "threshold", "heltal"),
        (lambda: rule("x", "absence_total", ">=", 10, Window(0)), "window", "Fönstret är tomt"),
        (lambda: rule("x", "absence_total", ">=", 10), "window", "behöver ett fönster"),
        (lambda: rule("x", "merit_value", "<", 160, TERM), "window", "har inget fönster"),
        (lambda: rule("x", "absence_trend", ">=", 5, TERM), "window", "inte terminen"),
        (lambda: rule("x", "absence_total", "=", 10, LAST_4W), "comparison", "Okänd jämförelse"),
        (lambda: rule("x", "absence_total", ">=", 10.0, LAST_4W), "threshold", "heltal eller"),
        (lambda: rule("x", "f_grades", ">=", 2, grade_years=(10,)), "grade_years", "finns inte"),
        (
            lambda: rule(
                "x",
                "absence_total",
                ">=",
                10,
                LAST_4W,
                also=(Condition("absence_total", ">=", 5, Window(-3)),),
            ),
            "window",
            "tomt",
        ),
        (
            lambda: rule("x", "absence_trend", ">=", 5, LAST_4W, baseline=Window(28, 14)),
            "baseline",
            "före fönstret",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_a_reason(make, field, reason):
    with pytest.raises(RuleError, match=reason) as refused:
        make()
    assert refused.value.field == field


def test_rule_thresholds_accept_int_decimal_and_text():
    assert rule("x", "absence_total", ">=", "7.5", LAST_4W).threshold == Decimal("7.5")
    assert rule("x", "merit_value", "<", Decimal("162.5")).threshold == Decimal("162.5")


def test_grade_year_rules_only_flag_those_years():
    placements = pl.DataFrame(
        {
            "pupil_id": [1, 2],
            "school_id": [1, 1],
            "start": [TERM_START] * 2,
            "end": [None, None],
            "grade": [9, 5],
        },
        schema_overrides={"end": pl.Date},
    )
    grades = pl.concat([grades_frame(1, {"MA": "F"}), grades_frame(2, {"MA": "F"})])
    result = compute_indicators(
        frame(present(1) + present(2)),
        as_of=AS_OF,
        term_start=TERM_START,
        placements=placements,
        grades=grades,
    )
    flags = screen(result, [rule("ne", "vocational_eligible", "<", 1, grade_years=(8, 9))])
    assert flags["pupil_id"].to_list() == [1]
    assert explain(flags.row(0, named=True)) == (
        "Inte behörig till yrkesprogram enligt senaste betygen"
    )


def test_rules_without_their_input_fire_for_nobody():
    result = compute_indicators(frame(present(1)), as_of=AS_OF, term_start=TERM_START)
    assert screen(result, [rule("f", "f_grades", ">=", 0)]).is_empty()


def test_screen_needs_the_rules_windows():
    result = compute_indicators(frame(present(1)), as_of=AS_OF, term_start=TERM_START)
    with pytest.raises(ValueError, match="windows_for"):
        screen(result, [rule("x", "absence_total", ">=", 0, Window(14))])
    assert Window(14) in windows_for([rule("x", "absence_total", ">=", 0, Window(14))])


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
        "Frånvaro 15 % de senaste fyra veckorna (gräns 10 %) och den ogiltiga frånvaron ökade "
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
    assert before5.bounds(AS_OF, TERM_START, calendar) == (dt.date(2025, 2, 11), dt.date(2025, 2, 24))
    # A Saturday: the last school day is Friday, the window still ends on the as-of date.
    saturday = dt.date(2025, 3, 1)
    assert Window(1, school=True).bounds(saturday, TERM_START, calendar) == (
        dt.date(2025, 2, 28), saturday)
    # Fewer school days than the window: from the first; none at all: the day before the first.
    assert Window(100, school=True).bounds(AS_OF, TERM_START, calendar)[0] == dt.date(2025, 1, 6)
    assert Window(5, 100, school=True).bounds(AS_OF, TERM_START, calendar) == (
        dt.date(2025, 1, 5), dt.date(2025, 1, 5))
    with pytest.raises(ValueError, match="räknas i skoldagar"):
        last5.bounds(AS_OF, TERM_START)

    rows = [day_row(1, d, invalid=60 if d == dt.date(2025, 2, 12) else 0) for d in term]
    result = indicators(rows, windows=[last5, before5])
    assert (result["5s_days"], result["5s_5_days"], result["5s_5_skipped_lessons"]) == (5, 5, 1)


@pytest.mark.parametrize(("invalid", "lessons"), [
    (60, 1),  # 60 of 300 minutes in six lessons: 1.2 lessons
    (100, 2),  # 2.0
    (75, 2),  # 1.5, rounded half up
    (10, 1),  # 0.2: still a lesson missed
    (0, 0),
    (300, 0),  # the whole day: counted in whole_days, not here
])
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
    chronic = {d.isoformat(): {"invalid": 60, "late": 1}
               for d in school_days(dt.date(2024, 11, 4), AS_OF)[::4]}
    rows += present(2, dt.date(2024, 11, 4), **chronic)  # the same pattern all along
    rules = default_rules()
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START,
                                windows=windows_for(rules))
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
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START,
                                windows=windows_for([rise]))
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
            "start": [dt.date(2025, 2, 1), dt.date(2025, 3, 3), dt.date(2025, 3, 4),
                      dt.date(2025, 1, 10)],
            "end": [None, None, None, dt.date(2025, 3, 3)],  # pupil 2's closed on the day
        },
        schema_overrides={"end": pl.Date},
    )
    result = compute_indicators(
        frame(present(1) + present(2) + present(3)), as_of=AS_OF, term_start=TERM_START,
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
    rising = rule("x", "absence_total", ">=", 10, LAST_4W,
                  also=(Condition("invalid_trend", ">=", 1, LAST_4W, baseline=BASELINE_12W),))
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
    result = compute_indicators(frame(rows), as_of=AS_OF, term_start=TERM_START,
                                windows=windows_for([rising]))
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
    import numpy as np

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
        pl.col(c) * 10 for c in ("scheduled_minutes", "absent_minutes", "valid_minutes",
                                 "invalid_minutes", "unknown_minutes")
    )
    scaled = compute_indicators(big, as_of=AS_OF, term_start=TERM_START)
    assert scaled["term_absent"].to_list() == [10 * v for v in ordered["term_absent"].to_list()]
    assert scaled["term_longest_run"].equals(ordered["term_longest_run"])
    assert big["scheduled_minutes"].max() > 1440
