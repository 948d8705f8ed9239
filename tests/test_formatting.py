"""Swedish numbers, shares and periods (lib.formatting) and the charts that use them."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

from django.template import Context, Template
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fullfolj.lib import charts, formatting

SWEDISH_PERCENT = re.compile(r"^\d{1,3}(\xa0\d{3})*,\d\xa0%$")
finite = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finite)
def test_a_share_reads_back_as_the_same_number_with_a_comma_and_a_fixed_space(value):
    with translation.override("sv"):
        text = formatting.percent(value)
    assert SWEDISH_PERCENT.match(text), text
    read = float(text.removesuffix("\xa0%").replace("\xa0", "").replace(",", "."))
    assert abs(read - value) <= 0.05 + 1e-9


def test_shares_round_half_up_as_the_tables_do():
    with translation.override("sv"):
        assert formatting.percent(14.25) == "14,3\xa0%"
        assert formatting.percent(0.04) == "0,0\xa0%"
        assert formatting.percent(6.2, 0) == "6\xa0%"
        assert formatting.number(1234567.5) == "1\xa0234\xa0567,5"
        assert formatting.percent(None) == "–"
    with translation.override("en"):
        assert formatting.percent(14.25) == "14.3\xa0%"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days, days)
def test_a_period_names_the_year_of_its_end_once_and_its_ends_in_order(a, b):
    start, end = min(a, b), max(a, b)
    with translation.override("sv"):
        text = formatting.period(start, end)
    assert text.endswith(str(end.year))
    if start.year == end.year:
        assert text.count(str(end.year)) == 1
    if start != end:
        assert text.count("–") == 1


def test_periods_are_swedish():
    with translation.override("sv"):
        assert formatting.period(dt.date(2026, 8, 17), dt.date(2026, 12, 5)) == (
            "17 aug.–5 dec. 2026"
        )
        assert formatting.period(dt.date(2026, 12, 3), dt.date(2026, 12, 5)) == "3–5 dec. 2026"
        assert formatting.period(dt.date(2025, 12, 3), dt.date(2026, 1, 5)) == (
            "3 dec. 2025–5 jan. 2026"
        )
        assert formatting.period(dt.date(2026, 5, 17), dt.date(2026, 5, 17)) == "17 maj 2026"
    with translation.override("en"):
        assert formatting.period(dt.date(2026, 8, 17), dt.date(2026, 12, 5)) == (
            "Aug. 17–Dec. 5, 2026"
        )


def test_the_filters_are_built_into_every_template():
    template = Template("{{ rate|percent }} {{ rate|percent:0 }} {{ a|period:b }} {{ d|date }}")
    with translation.override("sv"):
        text = template.render(
            Context(
                {
                    "rate": 6.25,
                    "a": dt.date(2026, 8, 17),
                    "b": dt.date(2026, 12, 5),
                    "d": dt.date(2026, 12, 5),
                }
            )
        )
    assert text == "6,3\xa0% 6\xa0% 17 aug.–5 dec. 2026 5 dec. 2026"


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(finite.map(lambda v: v % 100), min_size=1, max_size=6))
def test_chart_labels_are_written_as_the_tables_write_them(values):
    with translation.override("sv"):
        svgs = [
            charts.stacked_bars(
                "a", "A", [str(i) for i in range(len(values))], [charts.Series("x", values)]
            ),
            charts.horizontal_bars(
                "b",
                "B",
                [f"S{i}" for i in range(len(values))],
                [
                    charts.Series("x", values),
                    charts.Series("y", [None] * len(values)),
                ],
                stacked=False,
            ),
        ]
    for svg in svgs:
        figures = [t for t in _texts(svg) if "%" in t]
        assert figures
        for text in figures:
            assert re.fullmatch(r"\d+(,\d)?\xa0%", text), text


def test_a_hidden_figure_is_a_dash_in_the_chart_and_draws_no_bar():
    with translation.override("sv"):
        svg = charts.horizontal_bars(
            "c",
            "C",
            ["Norrskolan", "Söderskolan"],
            [charts.Series("10 % eller mer", [40.0, None])],
            stacked=False,
        )
    assert _texts(svg).count("–") == 1
    assert "40,0\xa0%" in _texts(svg)
    assert svg.count("<rect ") == 2  # one bar and the legend's swatch


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(min_value=0.01, max_value=100, allow_nan=False))
def test_an_axis_runs_in_round_steps_past_the_longest_bar(peak):
    with translation.override("sv"):
        svg = charts.stacked_bars("a", "A", ["x"], [charts.Series("x", [peak])])
    ticks = [
        float(t.removesuffix("\xa0%").replace(",", ".")) for t in _texts(svg) if t.endswith("%")
    ]
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0
    assert 2 <= len(ticks) <= 7
    assert ticks[-1] >= peak - 0.05
    # 1, 2 or 5 times a power of ten: 0, 5, 10, 15 %, never 6,3 %.
    assert round(step / 10 ** math.floor(math.log10(step) + 1e-9), 6) in (1, 2, 5)
    assert all(abs(b - a - step) < 1e-6 for a, b in itertools.pairwise(ticks))


def test_an_axis_to_25_percent_has_ticks_every_5():
    with translation.override("sv"):
        svg = charts.horizontal_bars("b", "B", ["S"], [charts.Series("x", [25.0])])
    assert [t for t in _texts(svg) if t.endswith("%") and t != "25,0\xa0%"] == [
        f"{n}\xa0%" for n in (0, 5, 10, 15, 20, 25)
    ]
