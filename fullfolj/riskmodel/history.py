"""Read a pupil history CSV (one row per pupil) into model inputs and a 0/1 outcome.

Pure Python and pandas, no Django. Every refusal is a `HistoryFileError` whose message names
the file, column or line, so a school administrator can fix the file without reading code.
Line numbers count the header as line 1, like a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEPARATORS = (";", ",", "\t", "|")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
COMPARISON = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class HistoryFileError(ValueError):
    """The history file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class History:
    """A history file ready for modelling: inputs, outcome and the audit-only columns."""

    X: pd.DataFrame  # inputs; numeric columns as float, the rest as str
    y: np.ndarray  # 1 = the positive (at-risk) outcome
    audit: pd.DataFrame  # protected attributes, never inputs, as str
    target: str
    positive: str
    separator: str


def read_history_csv(
    path: str | Path,
    *,
    target: str,
    positive: str,
    drop: Sequence[str] = (),
    audit: Sequence[str] = (),
) -> History:
    """Read `path`, binarise `target` by `positive` and keep every other column as an input.

    `positive` is either a value (`Dropout`: equal means positive) or a comparison with a number
    (`<10`, `>=10`) for a numeric target. `drop` columns are ignored; `audit` columns are kept
    apart for fairness figures and are never inputs.
    """
    path = Path(path)
    text = _read_text(path)
    separator = detect_separator(text)
    header, rows = _parse_rows(text, separator, path)
    columns = [name.strip() for name in header]
    _check_columns(columns, target=target, drop=drop, audit=audit, path=path)

    values = {name: [row[i].strip() for _, row in rows] for i, name in enumerate(columns)}
    lines = [line for line, _ in rows]
    y = _binarise(values[target], lines, target=target, positive=positive)

    left_out = {target, *drop, *audit}
    inputs = [name for name in columns if name not in left_out]
    if not inputs:
        raise HistoryFileError(f"{path.name}: no input columns left after --drop and --audit")
    decimal_comma = separator != ","
    X = pd.DataFrame(
        {name: _column(values[name], lines, name, decimal_comma) for name in inputs},
        index=pd.RangeIndex(len(rows)),
    )
    audit_frame = pd.DataFrame({name: values[name] for name in audit}, dtype=str)
    return History(
        X=X, y=y, audit=audit_frame, target=target, positive=positive, separator=separator
    )


def detect_separator(text: str) -> str:
    """Pick the separator that splits the first lines into the most, equally many, fields.

    Quotes are honoured, so a tab inside a quoted header cell (the dropout set) is no separator.
    """
    sample = text.splitlines()[:20]
    best, best_fields = ",", 1
    for candidate in SEPARATORS:
        counts = [len(row) for row in csv.reader(sample, delimiter=candidate) if row]
        if not counts:
            continue
        consistent = all(count == counts[0] for count in counts)
        if consistent and counts[0] > best_fields:
            best, best_fields = candidate, counts[0]
    return best


def parse_positive(spec: str) -> Callable[[str], bool]:
    """Turn `--positive` into a test of one raw target value (see `read_history_csv`)."""
    match = COMPARISON.match(spec)
    if match:
        op, number = match.groups()
        threshold = _number(number, decimal_comma=True)
        if threshold is None:
            raise HistoryFileError(f"--positive '{spec}': '{number}' is not a number")
        compare = OPERATORS[op]

        def test_comparison(value: str) -> bool:
            parsed = _number(value, decimal_comma=True)
            return parsed is not None and compare(parsed, threshold)

        return test_comparison

    wanted = spec.strip()
    wanted_number = _number(wanted, decimal_comma=False)

    def test_equal(value: str) -> bool:
        if value == wanted:
            return True
        # "1" and "1.0" are the same outcome code.
        return wanted_number is not None and _number(value, decimal_comma=False) == wanted_number

    return test_equal


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise HistoryFileError(f"file not found: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Swedish spreadsheet exports are often Windows-1252.
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise HistoryFileError(f"{path.name} is empty")
    return text


def _parse_rows(
    text: str, separator: str, path: Path
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) for each non-blank data row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = cells
            continue
        if len(cells) != len(header):
            raise HistoryFileError(
                f"{path.name}, line {reader.line_num}: {len(cells)} fields, "
                f"the header has {len(header)} (separator '{separator}')"
            )
        rows.append((reader.line_num, cells))
    if header is None:
        raise HistoryFileError(f"{path.name} is empty")
    if not rows:
        raise HistoryFileError(f"{path.name} has a header but no rows")
    return header, rows


def _check_columns(
    columns: list[str], *, target: str, drop: Sequence[str], audit: Sequence[str], path: Path
) -> None:
    available = ", ".join(columns)
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise HistoryFileError(f"{path.name}: column names occur twice: {', '.join(duplicates)}")
    if target not in columns:
        raise HistoryFileError(
            f"{path.name}: target column '{target}' not found; columns are: {available}"
        )
    for option, names in (("--drop", drop), ("--audit", audit)):
        for name in names:
            if name not in columns:
                raise HistoryFileError(
                    f"{path.name}: {option} column '{name}' not found; columns are: {available}"
                )
            if name == target:
                raise HistoryFileError(f"{option} '{name}' is the target column")


def _binarise(values: list[str], lines: list[int], *, target: str, positive: str) -> np.ndarray:
    for value, line in zip(values, lines, strict=True):
        if value.lower() in MISSING:
            raise HistoryFileError(f"line {line}: the target column '{target}' is empty")
    distinct = sorted(set(values))
    if len(distinct) < 2:
        raise HistoryFileError(
            f"target column '{target}' has a single outcome ('{distinct[0]}'); "
            "a model needs at least two"
        )
    is_positive = parse_positive(positive)
    if COMPARISON.match(positive):
        for value, line in zip(values, lines, strict=True):
            if _number(value, decimal_comma=True) is None:
                raise HistoryFileError(
                    f"column '{target}', line {line}: '{value}' is not a number, "
                    f"so --positive '{positive}' cannot compare it"
                )
    y = np.array([is_positive(value) for value in values], dtype=np.int8)
    if not y.any():
        shown = ", ".join(distinct[:12]) + (", ..." if len(distinct) > 12 else "")
        raise HistoryFileError(
            f"--positive '{positive}' never occurs in column '{target}'; its values are: {shown}"
        )
    if y.all():
        raise HistoryFileError(
            f"--positive '{positive}' holds for every row of '{target}': a single outcome class"
        )
    return y


def _column(values: list[str], lines: list[int], name: str, decimal_comma: bool) -> pd.Series:
    """A numeric column as float (missing = NaN); a text column as str.

    A column is numeric when most of its filled cells are numbers; then any other cell is
    a typing error we refuse rather than guess at.
    """
    filled = [
        (value, line)
        for value, line in zip(values, lines, strict=True)
        if value.lower() not in MISSING
    ]
    numbers = [_number(value, decimal_comma) for value, _ in filled]
    numeric_count = sum(number is not None for number in numbers)
    if not filled or numeric_count * 2 <= len(filled):
        return pd.Series(values, dtype=str)
    for (value, line), number in zip(filled, numbers, strict=True):
        if number is None:
            raise HistoryFileError(
                f"column '{name}', line {line}: '{value}' is not a number "
                "(the column's other values are numbers)"
            )
    parsed = [
        np.nan if value.lower() in MISSING else _number(value, decimal_comma) for value in values
    ]
    return pd.Series(parsed, dtype=float)


def _number(value: str, decimal_comma: bool) -> float | None:
    value = value.strip()
    if decimal_comma and value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    return float(value) if NUMBER.match(value) else None
