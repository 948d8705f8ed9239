"""The engine's words in both languages: Swedish as the product shows them, English via gettext."""

from __future__ import annotations

import pytest
from django.utils import translation

from fullfolj.screening import engine

INVALID = {
    "indicator": "absence_invalid",
    "window": "28d",
    "baseline": "",
    "comparison": ">=",
    "threshold": "15",
    "value_num": 100,
    "value_den": 1,
    "detail": None,
}
RISING = {
    "indicator": "late_skip_trend",
    "window": "20s",
    "baseline": "120s_20",
    "comparison": ">=",
    "threshold": "7.5",
    "value_num": 962,
    "value_den": 100,
    "detail": "3,12,1,8",
    "also": [dict(INVALID, indicator="absence_trend", value_num=-55, value_den=10)],
}
WEEKDAY = dict(INVALID, indicator="weekday_concentration", detail="2", value_num=451, value_den=10)
NOT_ELIGIBLE = dict(
    INVALID, indicator="vocational_eligible", window="", comparison="<", threshold="1", value_num=0
)

EXPLAINED = {
    "sv": [
        "Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)",
        "Sen ankomst 3 gånger (väntat 1,2) och ogiltig frånvaro från omkring 1 lektion utöver "
        "hela dagar (väntat 0,8) de senaste 20 skoldagarna, mot elevens egen nivå under de 120 "
        "skoldagarna dessförinnan: avvikelse 10 (gräns 7,5) och frånvaron minskade med 6 "
        "procentenheter de senaste fyra veckorna jämfört med de fyra veckorna dessförinnan "
        "(gräns 15 procentenheter)",
        "45 % av frånvaron på tisdagar de senaste fyra veckorna (gräns 15 %, väntat 20 %)",
        "Inte behörig till yrkesprogram enligt senaste betygen",
    ],
    "en": [
        "Invalid absence 100 % during the last four weeks (limit 15 %)",
        "Late arrival 3 times (expected 1.2) and invalid absence from about 1 lesson besides "
        "whole days (expected 0.8) during the last 20 school days, against the pupil's own level "
        "during the 120 school days before that: deviation 10 (limit 7.5) and absence fell by 6 "
        "percentage points during the last four weeks compared with the four weeks before that "
        "(limit 15 percentage points)",
        "45 % of the absence on Tuesdays during the last four weeks (limit 15 %, expected 20 %)",
        "Not eligible for a vocational programme according to the latest grades",
    ],
}


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_flag_is_explained_in_the_active_language(language):
    with translation.override(language):
        texts = [engine.explain(flag) for flag in (INVALID, RISING, WEEKDAY, NOT_ELIGIBLE)]
    assert texts == EXPLAINED[language]


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("sv", "Sen ankomst 1 gång (väntat 0,5)", "ogiltig frånvaro från omkring 2 lektioner"),
        ("en", "Late arrival 1 time (expected 0.5)", "invalid absence from about 2 lessons"),
    ],
)
def test_counts_take_the_singular_or_plural(language, one, many):
    with translation.override(language):
        text = engine.explain(dict(RISING, detail="1,5,2,9", also=[]))
    assert text.startswith(one)
    assert many in text


@pytest.mark.parametrize(
    ("language", "descriptions"),
    [
        (
            "sv",
            [
                "Frånvaro minst 15 % de senaste 20 skoldagarna",
                "Ogiltig frånvaro minst 5 % de senaste 20 skoldagarna",
                "Avvikelse i sen ankomst och ogiltig frånvaro från enstaka lektioner mot elevens "
                "egen nivå minst 7,5 de senaste 20 skoldagarna jämfört med de 120 skoldagarna "
                "dessförinnan",
                "Ämnen med F, – eller varning om F minst 3 (årskurs 7–9)",
                "Inte behörig till yrkesprogram (årskurs 9)",
            ],
        ),
        (
            "en",
            [
                "Absence at least 15 % during the last 20 school days",
                "Invalid absence at least 5 % during the last 20 school days",
                "Deviation in late arrivals and invalid absence from single lessons against the "
                "pupil's own level at least 7.5 during the last 20 school days compared with the "
                "120 school days before that",
                "Subjects with F, – or a warning of F at least 3 (year 7–9)",
                "Not eligible for a vocational programme (year 9)",
            ],
        ),
    ],
)
def test_the_default_rules_are_described_in_the_active_language(language, descriptions):
    with translation.override(language):
        assert [engine.describe(r) for r in engine.default_rules()] == descriptions


def test_a_rule_with_a_further_condition_is_described_with_and():
    one = engine.rule(
        "x",
        "absence_trend",
        ">=",
        "2.5",
        engine.LAST_4W,
        baseline=engine.BASELINE_12W,
        also=(engine.Condition("absence_total", ">=", 5, engine.LAST_4W),),
    )
    with translation.override("sv"):
        assert engine.describe(one) == (
            "Frånvarons ökning minst 2,5 procentenheter de senaste fyra veckorna jämfört med de "
            "tolv veckorna dessförinnan och frånvaro minst 5 % de senaste fyra veckorna"
        )
    with translation.override("en"):
        assert engine.describe(one) == (
            "Rise in absence at least 2.5 percentage points during the last four weeks compared "
            "with the twelve weeks before that and absence at least 5 % during the last four weeks"
        )


@pytest.mark.parametrize(
    ("window", "sv", "en"),
    [
        (engine.TERM, "denna termin", "this term"),
        (engine.Window(7), "den senaste veckan", "the last week"),
        (engine.Window(1), "den senaste dagen", "the last day"),
        (engine.Window(10), "de senaste 10 dagarna", "the last 10 days"),
        (engine.Window(1, school=True), "den senaste skoldagen", "the last school day"),
        (
            engine.PREV_4W,
            "de fyra veckorna före de senaste fyra veckorna",
            "the four weeks before the last four weeks",
        ),
        (
            engine.Window(120, 20, school=True),
            "de 120 skoldagarna före de senaste 20 skoldagarna",
            "the 120 school days before the last 20 school days",
        ),
        (engine.Window(98), "de senaste 14 veckorna", "the last 14 weeks"),
    ],
)
def test_a_window_is_labelled_in_the_active_language(window, sv, en):
    with translation.override("sv"):
        assert window.label() == sv
    with translation.override("en"):
        assert window.label() == en


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("sv", "Gränsen −1,5 ligger utanför 0–100 för absence_total."),
        ("en", "The limit −1.5 lies outside 0–100 for absence_total."),
    ],
)
def test_a_refused_rule_says_why_in_the_active_language(language, message):
    with translation.override(language), pytest.raises(engine.RuleError) as refused:
        engine.Condition("absence_total", ">=", "-1.5", engine.LAST_4W)
    assert (refused.value.field, str(refused.value)) == ("threshold", message)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("sv", "Okänt fönster '4v': ange term, 28d, 28d_28 eller skoldagar som 20s, 120s_20."),
        ("en", "Unknown window '4v': give term, 28d, 28d_28 or school days as 20s, 120s_20."),
    ],
)
def test_an_unknown_window_is_named_in_the_active_language(language, message):
    with translation.override(language), pytest.raises(ValueError, match="4v") as refused:
        engine.Window.from_key("4v")
    assert str(refused.value) == message


def test_the_municipalitys_outcome_is_defined_in_the_active_language():
    import datetime as dt

    import polars as pl

    from fullfolj.screening.outcomes import crossing_outcome

    days = pl.DataFrame(
        {
            "pupil_id": [1],
            "date": [dt.date(2025, 1, 6)],
            "scheduled_minutes": [300],
            "absent_minutes": [0],
        }
    )
    with translation.override("sv"):
        assert crossing_outcome(days).description == (
            "fall = elev vars frånvaro de senaste 20 skoldagarna överstiger 20 % någon gång; "
            "utfallsdag = första sådana skoldag"
        )
    with translation.override("en"):
        assert crossing_outcome(days).description.startswith("case = pupil whose absence")
