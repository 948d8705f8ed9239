"""Charts drawn on the server as SVG, so the same chart goes into a page and a PDF report.

Every chart has a title and description for screen readers; pages also show its numbers as a
table. Colours meet WCAG 2.1 AA contrast against white (3:1 for graphics). Numbers are written
as in the page's tables ("6,2 %" in Swedish), in the active language.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import formatting

PALETTE = ("#1f5fa8", "#b3261e", "#6b4f00", "#2e7d32")  # blue, red, brown, green


@dataclass(frozen=True)
class Series:
    """One colour of a chart; a value of None is a figure hidden (a small group) or missing."""

    label: str
    values: Sequence[float | None]


def stacked_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "%",
    width: int = 720,
    height: int = 240,
    label_every: int = 1,
    description: str = "",
) -> str:
    """A stacked bar chart: one bar per category, one colour per series, with a legend."""
    left, right, top, bottom = 44, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    y_max, ticks = _axis(max(totals, default=0))
    n = max(len(categories), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.75, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'class="chart" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or _describe(categories, series, unit))}</desc>',
    ]
    for tick in range(ticks + 1):
        value = y_max * tick / ticks
        y = top + plot_h - plot_h * tick / ticks
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d0d0d0" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333">{escape(_tick(value, unit))}</text>'
        )
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        base: float = top + plot_h
        for colour, s in zip(PALETTE, series, strict=False):
            value = s.values[i] or 0
            h = plot_h * value / y_max
            if h > 0:
                base -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(category)}: {escape(s.label)} '
                    f"{escape(_value(value, unit))}</title></rect>"
                )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                f'font-size="10" fill="#333">{escape(category)}</text>'
            )
    legend_x = left
    for colour, s in zip(PALETTE, series, strict=False):
        parts.append(
            f'<rect x="{legend_x}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="16" font-size="12" fill="#222">{escape(s.label)}</text>'
        )
        legend_x += 24 + 7 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = True,
    unit: str = "%",
    width: int = 720,
    description: str = "",
    ticks: int | None = None,
    axis_end: float | None = None,
) -> str:
    """One row per category (a school), long names readable: the series stacked into one bar
    or side by side. Each bar ends in its figure; a hidden figure (None) shows as "–".
    `axis_end` and `ticks`: a fixed scale and its intervals (5 on 1–5, with 5 ticks for whole
    numbers); without them the axis ends at a round figure past the longest bar."""
    label_w, right, top, bottom = 170, 64, 30, 24
    lanes = 1 if stacked else max(len(series), 1)
    lane_h = 18 if stacked else 12
    row_h = lane_h * lanes + 12
    plot_w = width - label_w - right
    height = top + row_h * max(len(categories), 1) + bottom
    if stacked:
        peaks = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    else:
        peaks = [v or 0 for s in series for v in s.values]
    if axis_end is None or ticks is None:
        x_max, ticks = _axis(max(peaks, default=0))
    else:
        x_max = axis_end
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'class="chart" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or title)}</desc>',
    ]
    plot_bottom = top + row_h * len(categories)
    for tick in range(ticks + 1):
        value = x_max * tick / ticks
        x = label_w + plot_w * tick / ticks
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{plot_bottom}" '
            f'stroke="#d0d0d0" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{plot_bottom + 16}" text-anchor="middle" font-size="11" '
            f'fill="#333">{escape(_tick(value, unit))}</text>'
        )
    for i, category in enumerate(categories):
        y0 = top + i * row_h + 6
        parts.append(
            f'<text x="{label_w - 8}" y="{y0 + lane_h * lanes / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="#222">{escape(_shorten(category, 24))}</text>'
        )
        x = float(label_w)
        for lane, (colour, s) in enumerate(zip(PALETTE, series, strict=False)):
            y = y0 if stacked else y0 + lane * lane_h
            figure = s.values[i]
            if not stacked:
                x = float(label_w)
            if figure is None:
                if not stacked:
                    parts.append(_end_label(x + 4, y + lane_h - 3, "–", lane_h))
                continue
            w = plot_w * figure / x_max
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{lane_h - 2}" '
                    f'fill="{colour}"><title>{escape(category)}: {escape(s.label)} '
                    f"{escape(_value(figure, unit))}</title></rect>"
                )
            x += w
            if not stacked:
                parts.append(_end_label(x + 4, y + lane_h - 3, _value(figure, unit), lane_h))
        if stacked:
            known = [s.values[i] for s in series if s.values[i] is not None]
            text = _value(sum(v or 0 for v in known), unit) if known else "–"
            parts.append(_end_label(x + 4, y0 + lane_h - 4, text, lane_h))
    legend_x = label_w
    for colour, s in zip(PALETTE, series, strict=False):
        parts.append(
            f'<rect x="{legend_x}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="18" font-size="12" fill="#222">{escape(s.label)}</text>'
        )
        legend_x += 28 + 7 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)


def _end_label(x: float, y: float, text: str, lane_h: int) -> str:
    size = 11 if lane_h >= 16 else 10
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="#222">{escape(text)}</text>'


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _axis(peak: float, most: int = 6) -> tuple[float, int]:
    """An axis's end and number of intervals: round steps (1, 2 or 5 times a power of ten, so
    0, 5, 10, 15 %), at most `most` of them, the last at or past `peak`."""
    if peak <= 0:
        return 1.0, 1  # nothing to draw: an axis of 0 to 1
    for power in range(-1, 10):
        for multiple in (1, 2, 5):
            step = multiple * 10.0**power
            count = max(math.ceil(peak / step - 1e-9), 1)
            if count <= most:
                return step * count, count
    return peak, 1


def _tick(value: float, unit: str) -> str:
    """An axis tick: whole numbers without decimals ("5 %", "2,5 %")."""
    return _value(value, unit, 0 if abs(value - round(value)) < 0.05 else 1)


def _value(value: float, unit: str, decimals: int = 1) -> str:
    """A figure with its unit as the tables write it: "6,2 %", "12,0 min"."""
    if unit == "%":
        return formatting.percent(value, decimals)
    text = formatting.number(value, decimals)
    return f"{text}{formatting.NBSP}{unit}" if unit else text


def _describe(categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    if not categories:
        return _("No data.")
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    top = max(range(len(categories)), key=lambda i: totals[i])
    return ngettext(
        "%(count)s bar, %(series)s stacked. Highest: %(category)s at %(value)s.",
        "%(count)s bars, %(series)s stacked. Highest: %(category)s at %(value)s.",
        len(categories),
    ) % {
        "count": len(categories),
        "series": ", ".join(s.label for s in series),
        "category": categories[top],
        "value": _value(totals[top], unit),
    }
