"""The correlation and its interval, computed by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fullfolj.reports.stats import correlation, pearson, strength


def test_pearson_and_the_fisher_interval_by_hand():
    xs = [-10.0, -4.0, 0.0, 2.0, 6.0, 12.0]
    ys = [-2.0, -1.0, 0.0, 1.0, 0.0, 2.0]
    # means 1 and 0; deviations of x: -11 -5 -1 1 5 11
    # sxy = 22+5+0+1+0+22 = 50; sxx = 121+25+1+1+25+121 = 294; syy = 4+1+0+1+0+4 = 10
    r = 50 / math.sqrt(294 * 10)
    assert pearson(xs, ys) == pytest.approx(r)
    found = correlation(xs, ys)
    z, half = math.atanh(r), 1.959963984540054 / math.sqrt(6 - 3)
    assert found.n == 6 and found.r == pytest.approx(0.9221, abs=1e-4)
    assert found.low == pytest.approx(math.tanh(z - half))
    assert found.high == pytest.approx(math.tanh(z + half))
    assert found.low == pytest.approx(0.4394, abs=1e-3) and found.is_clear


def test_too_few_pupils_or_no_spread_give_no_figure():
    assert correlation([1, 2, 3, 4], [1, 2, 3, 5]).r is None
    assert correlation([1, 1, 1, 1, 1], [1, 2, 3, 4, 5]).r is None
    with pytest.raises(ValueError):
        pearson([1, 2], [1])


def test_a_perfect_line_has_no_width():
    found = correlation([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert found.r == 1.0 and found.low == found.high == 1.0 and found.is_clear


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(-5, 5)), min_size=5, max_size=40))
def test_the_interval_holds_r_and_stays_within_minus_one_and_one(pairs):
    found = correlation([p[0] for p in pairs], [p[1] for p in pairs])
    if found.r is not None:
        assert -1 <= found.low <= found.r + 1e-12 <= found.high + 2e-12 <= 1 + 2e-12
        assert strength(found.r) in {"weak", "moderate", "strong"}
