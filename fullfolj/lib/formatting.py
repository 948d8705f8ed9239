"""Numbers, shares and periods written the Swedish way, in pages, charts and exports.

The active language decides (Swedish unless the user chose English): "14,3 %" with a
non-breaking space before the sign, so it never wraps onto a line of its own, and periods as
"17 aug.–5 dec. 2026" (the year once when both ends share it).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats

NBSP = "\xa0"


def number(value: float | int | None, decimals: int = 1) -> str:
    """A number in the active language, grouped by thousands ("1 234,5"); "–" for none."""
    if value is None:
        return "–"
    # Half up, as the templates' floatformat rounds: a table and its chart show the same figure.
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0,0"
    return formats.number_format(rounded, decimals, use_l10n=True, force_grouping=True)


def percent(value: float | int | None, decimals: int = 1) -> str:
    """A share already in per cent (14.25 -> "14,3 %"); "–" for none."""
    if value is None:
        return "–"
    return f"{number(value, decimals)}{NBSP}%"


def period(start: dt.date, end: dt.date) -> str:
    """A date range in text: "17 aug.–5 dec. 2026", "3–7 dec. 2026", "5 dec. 2026"."""
    if start == end:
        return formats.date_format(start)
    if start.year != end.year:
        first = formats.date_format(start)
    elif start.month != end.month or not str(formats.get_format("DATE_FORMAT")).startswith("j"):
        # the day alone only where the day comes first ("3–5 dec."), not "3–Dec. 5"
        first = formats.date_format(start, "MONTH_DAY_FORMAT")
    else:
        first = str(start.day)
    return f"{first}–{formats.date_format(end)}"
