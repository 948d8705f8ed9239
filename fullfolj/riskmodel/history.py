"""Read a pupil history CSV (one row per pupil) into model inputs and a 0/1 outcome.

Pure Python, Polars and pandas, no Django. Every refusal is a `HistoryFileError` whose message
names the file, column or line, so a school administrator can fix the file without reading
code. Line numbers count the header as line 1, like a spreadsheet.

Files of any size: the file is read in chunks of whole lines, first for the outcome column
alone (and a check that every line has the header's number of fields), then for the rows
kept, which Polars parses. Above `max_rows` rows a stratified sample (the same share with the outcome, a fixed
seed) is kept, so a file of millions of rows is checked in minutes and in a few hundred MB;
`History.total_rows` says how many the file had.

Columns that look protected (gender, country of birth: `looks_protected`) are never inputs
unless asked for (`use_protected`); they are kept apart for the fairness audit.
"""

from __future__ import annotations

import codecs
import csv
import operator
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

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
# Above this many rows the check runs on a stratified sample (`read_history_csv`).
MAX_ROWS = 50_000
# Words in a column name that mark a protected attribute (whole words, any case).
PROTECTED_WORDS = frozenset(
    {
        "kön",
        "kon",
        "gender",
        "sex",
        "födelseland",
        "fodelseland",
        "nationality",
        "nacionality",
        "nationalitet",
        "medborgarskap",
        "citizenship",
        "ethnicity",
        "etnicitet",
    }
)
CHUNK_BYTES = 1 << 23


class HistoryFileError(ValueError):
    """The history file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class History:
    """A history file ready for modelling: inputs, outcome and the audit-only columns."""

    X: pd.DataFrame  # inputs; numeric columns as float, the rest as str
    y: np.ndarray  # 1 = the positive (at-risk) outcome
    audit: pd.DataFrame  # protected attributes, as str; inputs only if in `use_protected`
    target: str
    positive: str
    separator: str
    total_rows: int = 0  # rows in the file (more than len(y) when sampled)
    total_positives: int = 0
    protected: list[str] = field(default_factory=list)  # found by name, kept out of inputs
    used_protected: list[str] = field(default_factory=list)  # protected but inputs on request

    @property
    def sampled(self) -> bool:
        return self.total_rows > len(self.y)


def looks_protected(name: str, extra: Sequence[str] = ()) -> bool:
    """True for a column named like a protected attribute ("Gender", "kön", "Nacionality").

    `extra` are names an administrator listed (matched whole, any case).
    """
    lowered = name.strip().casefold()
    if lowered in {item.strip().casefold() for item in extra}:
        return True
    return any(word in PROTECTED_WORDS for word in re.split(r"[\W_]+", lowered))


def read_history_csv(
    path: str | Path,
    *,
    target: str,
    positive: str,
    drop: Sequence[str] = (),
    audit: Sequence[str] = (),
    categorical: Sequence[str] = (),
    protected: Sequence[str] = (),
    use_protected: Sequence[str] = (),
    max_rows: int | None = MAX_ROWS,
    seed: int = 0,
) -> History:
    """Read `path`, binarise `target` by `positive` and keep every other column as an input.

    `positive` is either a value (`Dropout`: equal means positive) or a comparison with a number
    (`<10`, `>=10`) for a numeric target. `drop` columns are ignored; `audit` columns, and those
    that look protected (by name, or listed in `protected`), are kept apart for fairness figures
    and are inputs only if named in `use_protected`. `categorical` columns are text even when
    they hold numbers (codes). Above `max_rows` rows a stratified sample of that many is kept.
    """
    path = Path(path)
    with _utf8_file(path) as readable:
        separator = detect_separator(_head(readable))
        columns, start, header_line = _header(readable, separator, path)
        _check_columns(
            columns,
            target=target,
            options={
                "--drop": drop,
                "--audit": audit,
                "--categorical": categorical,
                "--use-protected": use_protected,
            },
            path=path,
        )
        outcome, line_numbers = _read_outcome(
            readable, start, header_line, separator, columns, columns.index(target), path
        )
        y_all = _binarise(outcome, line_numbers, target=target, positive=positive)
        keep = stratified_sample(y_all, max_rows, seed=seed)
        frame = _read_rows(readable, start, separator, columns, keep)
    y = y_all[keep]
    lines = line_numbers[keep].tolist()

    found = [
        name
        for name in columns
        if name != target and name not in drop and looks_protected(name, protected)
    ]
    audited = list(dict.fromkeys([*audit, *found]))
    left_out = {target, *drop, *(name for name in audited if name not in use_protected)}
    inputs = [name for name in columns if name not in left_out]
    if not inputs:
        raise HistoryFileError(f"{path.name}: no input columns left after --drop and --audit")
    decimal_comma = separator != ","
    values = {
        name: [value.strip() for value in frame[name].to_list()]
        for name in dict.fromkeys([*inputs, *audited])
    }
    X = pd.DataFrame(
        {
            name: (
                pd.Series(values[name], dtype=str)
                if name in categorical
                else _column(values[name], lines, name, decimal_comma)
            )
            for name in inputs
        },
        index=pd.RangeIndex(len(y)),
    )
    audit_frame = pd.DataFrame({name: values[name] for name in audited}, dtype=str)
    return History(
        X=X,
        y=y,
        audit=audit_frame,
        target=target,
        positive=positive,
        separator=separator,
        total_rows=len(y_all),
        total_positives=int(y_all.sum()),
        protected=[name for name in found if name not in audit],
        used_protected=[name for name in audited if name in use_protected],
    )


def stratified_sample(y: np.ndarray, max_rows: int | None, *, seed: int) -> np.ndarray:
    """Row positions to keep: all of them, or `max_rows` with each outcome's share kept."""
    y = np.asarray(y)
    if max_rows is None or len(y) <= max_rows:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(y == 1)
    others = np.flatnonzero(y != 1)
    want = round(max_rows * len(positives) / len(y))
    want = min(max(want, 1), len(positives), max_rows - 1)
    chosen = np.concatenate(
        [
            rng.choice(positives, size=want, replace=False),
            rng.choice(others, size=max_rows - want, replace=False),
        ]
    )
    return np.sort(chosen)


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


@contextmanager
def _utf8_file(path: Path) -> Iterator[Path]:
    """The file itself if it is UTF-8, else a UTF-8 copy of it (Swedish exports: Windows-1252)."""
    if not path.is_file():
        raise HistoryFileError(f"file not found: {path}")
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as raw:
        try:
            while chunk := raw.read(1 << 23):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            yield path
            return
    with tempfile.TemporaryDirectory(prefix="fullfolj-history-") as folder:
        copy = Path(folder) / path.name
        with path.open("rb") as raw, copy.open("w", encoding="utf-8", newline="") as out:
            while chunk := raw.read(1 << 23):  # one byte per character: chunks split cleanly
                out.write(chunk.decode("cp1252", errors="replace"))
        yield copy


def _head(path: Path, size: int = 1 << 16) -> str:
    """The first whole lines of the file (enough to find the separator and the header)."""
    with path.open("rb") as raw:
        data = raw.read(size)
        more = bool(raw.read(1))
    if more and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    text = data.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise HistoryFileError(f"{path.name} is empty")
    return text


def _header(path: Path, separator: str, shown: Path) -> tuple[list[str], int, int]:
    """The column names, the byte offset of the first data line and the header's line number."""
    with path.open("rb") as raw:
        offset = 0
        for number, line in enumerate(raw, start=1):
            offset += len(line)
            text = line.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace")
            if text.strip():
                cells = next(csv.reader([text], delimiter=separator), [])
                return [name.strip() for name in cells], offset, number
    raise HistoryFileError(f"{shown.name} is empty")


def _chunks(path: Path, start: int) -> Iterator[list[bytes]]:
    """The file's lines from byte `start` on, a few MB of whole lines at a time (no line ends)."""
    with path.open("rb") as raw:
        raw.seek(start)
        rest = b""
        while True:
            data = raw.read(CHUNK_BYTES)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1 :]
            yield [line.rstrip(b"\r") for line in data[:cut].split(b"\n")]
        if rest:
            yield [rest.rstrip(b"\r")]


def _fields(line: bytes, separator: bytes) -> list[bytes] | None:
    """A line's cells when it has no quotes (the common case, split fast), else None."""
    return None if b'"' in line else line.split(separator)


def _read_outcome(
    path: Path,
    start: int,
    header_line: int,
    separator: str,
    columns: list[str],
    target: int,
    shown: Path,
) -> tuple[pl.Series, np.ndarray]:
    """The target cell of every non-blank row and its line number; refuses a ragged line.

    One pass in chunks: memory stays a few MB above the outcome column itself, whatever the
    file's size. (A quoted cell with a line break inside is not supported.)
    """
    expected = len(columns)
    separator_bytes = separator.encode()
    parts: list[pl.Series] = []
    numbers: list[np.ndarray] = []
    line = header_line
    for chunk in _chunks(path, start):
        values: list[str] = []
        found: list[int] = []
        for raw in chunk:
            line += 1
            if not raw.strip():
                continue
            cells = _fields(raw, separator_bytes)
            if cells is None:
                text = raw.decode("utf-8", errors="replace")
                cells = [cell.encode() for cell in next(csv.reader([text], delimiter=separator))]
            if len(cells) != expected:
                raise HistoryFileError(
                    f"{shown.name}, line {line}: {len(cells)} fields, "
                    f"the header has {expected} (separator '{separator}')"
                )
            values.append(cells[target].decode("utf-8", errors="replace"))
            found.append(line)
        parts.append(pl.Series(values, dtype=pl.String))
        numbers.append(np.asarray(found, dtype=np.int64))
    if not any(len(part) for part in parts):
        raise HistoryFileError(f"{shown.name} has a header but no rows")
    return pl.concat(parts), np.concatenate(numbers)


def _read_rows(
    path: Path, start: int, separator: str, columns: list[str], keep: np.ndarray
) -> pl.DataFrame:
    """The non-blank rows at positions `keep` (sorted), every cell as text ("" where empty)."""
    wanted = np.zeros(int(keep[-1]) + 1 if len(keep) else 0, dtype=bool)
    wanted[keep] = True
    chosen: list[bytes] = []
    row = 0
    for chunk in _chunks(path, start):
        for raw in chunk:
            if not raw.strip():
                continue
            if row < len(wanted) and wanted[row]:
                chosen.append(raw)
            row += 1
        if row >= len(wanted):
            break
    return pl.read_csv(
        b"\n".join(chosen) + b"\n",
        has_header=False,
        new_columns=columns,
        separator=separator,
        infer_schema=False,
        empty_string_is_null=False,
    )


def _check_columns(
    columns: list[str],
    *,
    target: str,
    options: dict[str, Sequence[str]],
    path: Path,
) -> None:
    available = ", ".join(columns)
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise HistoryFileError(f"{path.name}: column names occur twice: {', '.join(duplicates)}")
    if target not in columns:
        raise HistoryFileError(
            f"{path.name}: target column '{target}' not found; columns are: {available}"
        )
    for option, names in options.items():
        for name in names:
            if name not in columns:
                raise HistoryFileError(
                    f"{path.name}: {option} column '{name}' not found; columns are: {available}"
                )
            if name == target:
                raise HistoryFileError(f"{option} '{name}' is the target column")


def _numbers(values: pl.Series, decimal_comma: bool) -> pl.Series:
    """`_number` on a whole column: floats, null where a cell is not a number."""
    text = values.str.strip_chars()
    if decimal_comma:
        one_comma = (text.str.count_matches(",", literal=True) == 1) & ~text.str.contains(
            ".", literal=True
        )
        text = pl.select(
            pl.when(one_comma).then(text.str.replace(",", ".", literal=True)).otherwise(text)
        ).to_series()
    pattern = NUMBER.pattern.replace("\\d", "[0-9]")
    return pl.select(
        pl.when(text.str.contains(pattern)).then(text).cast(pl.Float64, strict=False)
    ).to_series()


def _binarise(values: pl.Series, lines: np.ndarray, *, target: str, positive: str) -> np.ndarray:
    values = values.str.strip_chars()
    empty = values.str.to_lowercase().is_in(sorted(MISSING))
    if empty.any():
        line = int(lines[int(empty.arg_true()[0])])
        raise HistoryFileError(f"line {line}: the target column '{target}' is empty")
    distinct = sorted(values.unique().to_list())
    if len(distinct) < 2:
        raise HistoryFileError(
            f"target column '{target}' has a single outcome ('{distinct[0]}'); "
            "a model needs at least two"
        )
    match = COMPARISON.match(positive)
    if match:
        op, number = match.groups()
        threshold = _number(number, decimal_comma=True)
        if threshold is None:
            raise HistoryFileError(f"--positive '{positive}': '{number}' is not a number")
        parsed = _numbers(values, decimal_comma=True)
        if parsed.null_count():
            at = int(parsed.is_null().arg_true()[0])
            raise HistoryFileError(
                f"column '{target}', line {int(lines[at])}: '{values[at]}' is not a number, "
                f"so --positive '{positive}' cannot compare it"
            )
        matches = np.asarray(OPERATORS[op](parsed.to_numpy(), threshold))  # type: ignore[arg-type]
    else:
        wanted = positive.strip()
        wanted_number = _number(wanted, decimal_comma=False)
        equal = (values == wanted).to_numpy()
        if wanted_number is not None:
            # "1" and "1.0" are the same outcome code.
            equal |= (
                (_numbers(values, decimal_comma=False) == wanted_number).fill_null(False).to_numpy()
            )
        matches = equal
    y: np.ndarray = np.asarray(matches, dtype=np.int8)
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
