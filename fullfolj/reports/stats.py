"""The correlation between two figures per pupil, its 95 % confidence interval, and the words a
principal reads for it. Pure Python, no Django.

Pearson's r with the interval from Fisher's z transformation: z = atanh(r) is close to normal with
standard error 1 / sqrt(n - 3), so the interval is tanh(z ± 1.96 / sqrt(n - 3)). Seed 001 (Åmål)
found no relation between attendance change and change in passed subjects; the report states the
measured figure and its uncertainty rather than a guess (docs/reports.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the normal distribution's 97.5th percentile
MINIMUM_PAIRS = 5  # fewer pupils than this: no correlation is stated (and the count is hidden)


@dataclass(frozen=True)
class Correlation:
    n: int
    r: float | None  # None: too few pupils, or one of the figures did not vary
    low: float | None
    high: float | None

    @property
    def is_clear(self) -> bool:
        """The interval leaves out zero: the data say the relation has a direction."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation coefficient, or None where either figure has no spread."""
    n = len(xs)
    if n != len(ys):
        raise ValueError("Both figures are needed for every pupil.")
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def correlation(xs: Sequence[float], ys: Sequence[float]) -> Correlation:
    """r with its 95 % interval (Fisher z), for at least MINIMUM_PAIRS pupils."""
    n = len(xs)
    r = pearson(xs, ys) if n >= MINIMUM_PAIRS else None
    if r is None:
        return Correlation(n=n, r=None, low=None, high=None)
    if abs(r) == 1.0:
        return Correlation(n=n, r=r, low=r, high=r)
    z = math.atanh(r)
    half = Z_95 / math.sqrt(n - 3)
    return Correlation(n=n, r=r, low=math.tanh(z - half), high=math.tanh(z + half))


def strength(r: float) -> str:
    """Cohen's usual words for |r|: weak below 0.3, moderate below 0.5, strong above."""
    size = abs(r)
    if size < 0.3:
        return "weak"
    if size < 0.5:
        return "moderate"
    return "strong"
