"""Template filters for Swedish numbers and periods, built into every template (settings)."""

from __future__ import annotations

import datetime as dt

from django import template

from . import formatting

register = template.Library()


@register.filter
def percent(value: float | int | str | None, decimals: int = 1) -> str:
    """{{ rate|percent }} -> "14,3 %" (non-breaking space); {{ rate|percent:0 }} -> "14 %"."""
    if value is None or value == "":
        return "–"
    return formatting.percent(float(value), int(decimals))


@register.filter
def number(value: float | int | str | None, decimals: int = 1) -> str:
    """{{ value|number }} -> "1 234,5"."""
    if value is None or value == "":
        return "–"
    return formatting.number(float(value), int(decimals))


@register.filter
def period(start: dt.date, end: dt.date) -> str:
    """{{ start|period:end }} -> "17 aug.–5 dec. 2026"."""
    return formatting.period(start, end)
