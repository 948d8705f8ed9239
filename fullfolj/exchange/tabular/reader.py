"""Reading the files Swedish school systems export: semicolon-separated text in UTF-8 (with or
without a byte-order mark) or Windows-1252, or an Excel workbook (.xlsx).

Rows come out as dictionaries by header, with their line number in the file, so every problem
can be reported where the person who exported the file will find it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"
# Bytes Windows-1252 leaves undefined: a file holding them is in some other encoding.
_NOT_1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")


class FileRejected(Exception):
    """The file as a whole cannot be read (format, encoding, columns); nothing was imported."""


@dataclass(frozen=True)
class Row:
    line: int  # in the file, the header being line 1 (the sheet's row in a workbook)
    values: dict[str, Any]


def _header(name: object) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().casefold()


def decode(raw: bytes) -> str:
    """The text of a CSV file: UTF-8 (a BOM or not), else Windows-1252."""
    if b"\x00" in raw:
        raise FileRejected(_("The file is not a text file (CSV) or an Excel workbook (.xlsx)."))
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start + 3].count(b"\n") + 1
            raise FileRejected(
                _("The file says it is UTF-8, but line %(line)s is not.") % {"line": line}
            ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _NOT_1252.intersection(raw):
        raise FileRejected(
            _("The file's encoding is unknown: save it as UTF-8 or Windows-1252 (ANSI).")
        )
    return raw.decode("cp1252")


def read(raw: bytes, name: str = "") -> tuple[list[str], Iterator[Row]]:
    """The headers (as written, trimmed) and the rows of a CSV file or a workbook's first sheet."""
    if raw.startswith(XLSX_MAGIC) or name.lower().endswith(".xlsx"):
        return _read_xlsx(raw)
    text = decode(raw)
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first else "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = [str(h).strip() for h in next(reader)]
    except StopIteration:
        raise FileRejected(_("The file is empty.")) from None
    except csv.Error as error:
        raise FileRejected(_("The file is not valid CSV: %(error)s") % {"error": error}) from None

    def rows() -> Iterator[Row]:
        line = reader.line_num
        try:
            for cells in reader:
                start, line = line + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                yield Row(
                    start,
                    dict(zip(map(_header, headers), cells, strict=False))
                    | {"__width__": len(cells)},
                )
        except csv.Error as error:
            raise FileRejected(
                _("Line %(line)s is not valid CSV: %(error)s") % {"line": line + 1, "error": error}
            ) from None

    return headers, rows()


def _read_xlsx(raw: bytes) -> tuple[list[str], Iterator[Row]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FileRejected(
            _("The file is not an Excel workbook (.xlsx) that can be read: %(error)s")
            % {"error": error}
        ) from None
    sheet = book.worksheets[0]
    found = sheet.iter_rows(values_only=True)
    try:
        headers = [str(h).strip() if h is not None else "" for h in next(found)]
    except StopIteration:
        raise FileRejected(_("The file is empty.")) from None

    def rows() -> Iterator[Row]:
        for number, cells in enumerate(found, start=2):
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                continue
            values = dict(zip(map(_header, headers), cells, strict=False))
            yield Row(number, values | {"__width__": len(headers)})

    return headers, rows()


# --- values -------------------------------------------------------------------------------------

_DATE_FORMATS = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[./](\d{1,2})[./ ](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})/(\d{1,2}) (\d{4})$"), ("d", "m", "y")),
]


class BadValue(ValueError):
    """A cell that cannot be read; the message says why, for the row's report."""


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps numbers, e.g. a personnummer without its dash
    return str(value).strip()


def date(value: Any) -> dt.date:
    """A date as Swedish files write it: 2026-03-18, 20260318, 18/3 2026, 18.3.2026, or an
    Excel date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value)
    for pattern, order in _DATE_FORMATS:
        match = pattern.match(raw)
        if match:
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise BadValue(
                    _("“%(value)s” is a date that does not exist.") % {"value": raw}
                ) from None
    raise BadValue(_("“%(value)s” is not a date such as 2026-03-18.") % {"value": raw})


def clock(value: Any) -> dt.time:
    """A time of day: 08:15, 8.15, 0815, or an Excel time."""
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    raw = text(value)
    match = re.match(r"^(\d{1,2})[:.]?(\d{2})(?::\d{2})?$", raw)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise BadValue(_("“%(value)s” is not a time of day such as 08:15.") % {"value": raw})


def whole(value: Any, *, low: int = 0, high: int = 32767) -> int:
    raw = text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif re.fullmatch(r"-?\d+", raw):
        number = int(raw)
    else:
        raise BadValue(_("“%(value)s” is not a whole number.") % {"value": raw})
    if number != int(number) or not low <= number <= high:
        raise BadValue(
            _("%(value)s is outside %(low)s–%(high)s.") % {"value": raw, "low": low, "high": high}
        )
    return int(number)


_YES = {"ja", "j", "yes", "y", "1", "x", "true", "sant"}
_NO = {"nej", "n", "no", "0", "false", "falskt"}


def yes_no(value: Any) -> bool | None:
    """ja/nej (and their kin); empty: not said."""
    if isinstance(value, bool):
        return value
    raw = text(value).casefold()
    if raw == "":
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise BadValue(_("“%(value)s” is neither “ja” nor “nej”.") % {"value": text(value)})
