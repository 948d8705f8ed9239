"""The screening engine: grade rules (meritvärde, eligibility) and rule validation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fullfolj.screening.engine import (
    LAST_4W,
    TERM,
    Condition,
    GradeRules,
    RuleError,
    Window,
    compute_indicators,
    explain,
    rule,
    screen,
    windows_for,
)

from .test_engine import AS_OF, TERM_START, day_row, frame, indicators, present, school_days  # noqa: F401

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
