"""What every kind of file import shares: its columns, a row's cells read with the column
named when one fails, the report of bad rows, and the counts of a result (docs/exchange.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from fullfolj.lib import personnummer
from fullfolj.schools import models as s

from . import reader as r


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]  # the headers accepted (case and spacing aside)
    required: bool = True
    shown: str = ""  # the header as the file writes it

    @property
    def label(self) -> str:
        return self.shown or self.names[0]


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return _("Line %(line)s, column “%(column)s”: %(reason)s") % {
            "line": self.line,
            "column": self.column,
            "reason": self.reason,
        }


class Rejected(Exception):
    """The file was not imported; `problems` holds every bad row."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Result:
    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    lines: list[str] = field(default_factory=list)


class Cells:
    """A row's cells by column key; each read names its column when it fails."""

    def __init__(self, row: r.Row, columns: dict[str, Column], problems: list[Problem]) -> None:
        self.line = row.line
        self._values = row.values
        self._columns = columns
        self._problems = problems
        self.ok = True

    def get(self, key: str, read: Callable[[Any], Any] = r.text) -> Any:
        column = self._columns[key]
        value = next((self._values[n] for n in column.names if n in self._values), None)
        if r.text(value) == "":
            if column.required:
                self.fail(key, _("is empty."))
            return None
        try:
            return read(value)
        except r.BadValue as error:
            self.fail(key, str(error))
            return None

    def fail(self, key: str, reason: str) -> None:
        self._problems.append(Problem(self.line, self._columns[key].label, reason))
        self.ok = False


def find_columns(headers: list[str], columns: Iterable[Column]) -> dict[str, Column]:
    """The columns by key, each with its header as the file writes it; a missing required
    column rejects the file."""
    written = {" ".join(h.split()).casefold(): h for h in headers}
    missing = [c.label for c in columns if c.required and not written.keys() & set(c.names)]
    if missing:
        raise r.FileRejected(
            _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    found = {}
    for column in columns:
        shown = next((written[n] for n in column.names if n in written), column.names[0])
        found[column.key] = dataclasses.replace(column, shown=shown)
    return found


def mapped(columns: Iterable[Column], headers: dict[str, str]) -> tuple[Column, ...]:
    """The columns with the file's own header for each that `headers` maps (a preset): that
    header first, the usual names still accepted."""
    out = []
    for column in columns:
        header = " ".join(str(headers.get(column.key) or "").split()).casefold()
        if header:
            column = dataclasses.replace(column, names=(header, *column.names))
        out.append(column)
    return tuple(out)


def pnr(value: Any) -> str:
    try:
        return personnummer.parse(r.text(value)).normalized
    except personnummer.InvalidPersonnummer as error:
        raise r.BadValue(str(error)) from None


def school_year_of(day: dt.date) -> s.SchoolYear | None:
    return s.SchoolYear.objects.filter(start__lte=day, end__gte=day).first()


def schools_of(organiser: s.Organiser | None) -> dict[str, s.School]:
    """The school units a file may name: the organiser's own when one imports it."""
    found = s.School.objects.all() if organiser is None else organiser.schools.all()
    return {school.unit_code: school for school in found}
