"""Charts drawn on the server as SVG, so the same chart goes into a page and a PDF report.

Every chart has a title and description for screen readers; pages also show its numbers as a
table. Colours meet WCAG 2.1 AA contrast against white (3:1 for graphics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5fa8", "#b3261e", "#6b4f00", "#2e7d32")  # blue, red, brown, green


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


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
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = max([*totals, 1e-9])
    y_max = _nice_ceiling(peak)
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
    for tick in range(5):
        value = y_max * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d0d0d0" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333">{_fmt(value)}{escape(unit)}</text>'
        )
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        base: float = top + plot_h
        for colour, s in zip(PALETTE, series, strict=False):
            h = plot_h * s.values[i] / y_max
            if h > 0:
                base -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(category)}: {escape(s.label)} '
                    f"{_fmt(s.values[i])}{escape(unit)}</title></rect>"
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


def _nice_ceiling(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if value <= step:
            return float(step)
    return float(int(value) + 1)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _describe(categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    if not categories:
        return "No data."
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top = max(range(len(categories)), key=lambda i: totals[i])
    return (
        f"{len(categories)} bars, {', '.join(s.label for s in series)} stacked. "
        f"Highest: {categories[top]} at {_fmt(totals[top])}{unit}."
    )
