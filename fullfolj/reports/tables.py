"""A report's tables, shown the same way in the page, the PDF and the Excel file.

A figure of None is hidden: "< 5" in a count column (a small group, or a figure that would give
one away), "–" elsewhere (a share or mean of a hidden group, or nothing to measure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings

from fullfolj.lib import formatting

from .suppression import Margins, Suppressed, suppress

Unit = Literal["count", "integer", "percent", "number", "text"]
Cell = int | float | str | None


def minimum() -> int:
    """The smallest group shown outside a pupil's record (settings, 5 unless changed)."""
    return int(getattr(settings, "FULLFOLJ_MIN_GROUP_SIZE", 5))


def small(count: int) -> bool:
    return 0 < count < minimum()


def hidden_text() -> str:
    """What a hidden count reads as: "< 5"."""
    return f"< {minimum()}"


def hide(cells: list[list[int]], margins: Margins) -> Suppressed:
    """`suppression.suppress` at the configured minimum."""
    return suppress(cells, margins, minimum())


@dataclass
class Table:
    key: str  # the sheet's name and the table's id in the page
    title: str
    header: list[str]  # the label column's header, then one per figure column
    units: list[Unit]  # one per figure column
    rows: Sequence[tuple[str, Sequence[Cell]]]
    note: str = ""
    chart: str = ""  # the SVG drawn from the same numbers, if any
    total_row: tuple[str, Sequence[Cell]] | None = None

    @property
    def all_rows(self) -> list[tuple[str, Sequence[Cell]]]:
        return [*self.rows, *([self.total_row] if self.total_row else [])]

    def shown(self, value: Cell, unit: Unit) -> str:
        """A figure as the page writes it ("count" is pupils, suppressed; "integer" anything else)."""
        if value is None:
            return hidden_text() if unit == "count" else "–"
        if isinstance(value, str):
            return value
        if unit == "percent":
            return formatting.percent(value)
        if unit in ("count", "integer"):
            return formatting.number(value, 0)
        return formatting.number(value)

    @property
    def display_rows(self) -> list[tuple[str, list[tuple[str, bool]]]]:
        """(label, [(text, is_number)]) for the templates."""
        return [
            (
                label,
                [(self.shown(v, u), u != "text") for v, u in zip(values, self.units, strict=True)],
            )
            for label, values in self.all_rows
        ]

    @property
    def has_total(self) -> bool:
        return self.total_row is not None


@dataclass
class Report:
    """A titled set of tables, with the messages shown instead of figures where data is missing."""

    title: str
    subtitle: str
    tables: list[Table] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # sentences in words (the correlation)

    @property
    def hidden_text(self) -> str:
        return hidden_text()

    @property
    def minimum(self) -> int:
        return minimum()


def share(part: float | None, whole: float | None) -> float | None:
    """part / whole in per cent, hidden where either is hidden or the whole is empty."""
    if part is None or whole is None or whole == 0:
        return None
    return 100.0 * part / whole
