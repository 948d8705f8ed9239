"""Large lesson-attendance files on PostgreSQL: checked with Polars, written with COPY and SQL.

The meaning is load.py's (docs/exchange.md): every row checked before anything is written, a
report of every bad row, all or nothing, the same file twice changing nothing, history rows
for changed marks and the aggregates recomputed in the same transaction. Only the speed differs:

- A cell is read by the same functions as load.py's, but once per distinct value in its
  column (a file of a million marks has a few thousand pupils, dates and times), and the
  rows are checked column by column. A row that fails any check is handed, with the file's
  other suspect rows, to load.py's own planner, so the report is word for word the same.
- The good rows go into a temporary table by COPY; lessons are created, marks upserted
  (INSERT … ON CONFLICT), history written and the touched days and weeks recomputed by a few
  statements, in the caller's transaction.

Files this reader does not take on (quoted cells, blank lines, repeated headers, a workbook)
go the row-by-row way of load.py, which is also the way on SQLite.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fullfolj.attendance import store
from fullfolj.attendance.columnar import DAY_COLUMNS
from fullfolj.attendance.models import (
    AbsenceReason,
    AttendanceChange,
    Lesson,
    LessonAttendance,
    PupilDay,
    PupilSubjectWeek,
)
from fullfolj.lib import clock
from fullfolj.schools import models as s

from . import common, load
from . import reader as r

BAD: Any = object()  # a cell that cannot be read (load.py reports why)
COPY_CHUNK = 8 << 20


def usable(raw: bytes, name: str) -> bool:
    """Whether the fast path may take this file: PostgreSQL, and CSV rather than a workbook."""
    return connection.vendor == "postgresql" and not (
        raw.startswith(r.XLSX_MAGIC) or name.lower().endswith(".xlsx")
    )


def _cell(value: Any, read: Callable[[Any], Any], *, required: bool) -> Any:
    """common.Cells.get's reading of one cell: its value, None when empty, BAD when it fails."""
    if r.text(value) == "":
        return BAD if required else None
    try:
        return read(value)
    except r.BadValue:
        return BAD


def _utf8(raw: bytes) -> bytes:
    """The file as UTF-8 bytes, read as load.py reads it (UTF-8 with or without a BOM, else
    Windows-1252); a UTF-8 file is only checked, not copied into text and back."""
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    check = codecs.getincrementaldecoder("utf-8")()
    try:  # checked a piece at a time: the file is never held as text
        for start in range(0, len(body), 1 << 20):
            check.decode(body[start : start + (1 << 20)])
        check.decode(b"", final=True)
    except UnicodeDecodeError:
        return r.decode(raw).encode()  # refuses an unknown encoding as load.py does
    if b"\x00" in body:
        r.decode(raw)  # raises load.py's FileRejected
    return body


def _frame(data: bytes) -> tuple[list[str], pl.DataFrame] | None:
    """The headers and the rows (all text, one column per header), or None for a file with
    quoting, blank lines or repeated headers (load.py reads those)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if b'"' in data or b"\r" in data:
        return None
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode()
    body_start = len(data) if end < 0 else end + 1
    tail = data.rstrip(b"\n")
    body = memoryview(data)[body_start : len(tail)]
    if len(tail) <= body_start or data.startswith(b"\n", body_start):
        return None
    if data.find(b"\n\n", body_start, len(tail)) >= 0:
        return None
    delimiter = ";" if ";" in first else "\t" if "\t" in first else ","
    headers = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    written = [r._header(h) for h in headers]
    if len(set(written)) != len(written):
        return None
    frame = pl.read_csv(
        io.BytesIO(body),
        has_header=False,
        schema={f"c{n}": pl.String for n in range(len(headers))},
        separator=delimiter,
        quote_char=None,
        truncate_ragged_lines=True,
    )
    blank = pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
    if frame.select(blank.any()).item():
        return None  # load.py skips such rows, keeping its line numbers
    return headers, frame


def _mapped(
    frame: pl.DataFrame, name: str | None, read: Callable[[Any], Any], dtype: pl.DataType
) -> pl.Expr:
    """The column read cell by cell, each distinct value once; None for BAD or empty."""
    if name is None:
        return pl.lit(None, dtype=dtype)
    values = frame.get_column(name).unique().to_list()
    mapping = {value: read(value) for value in values}
    known = {k: v for k, v in mapping.items() if k is not None}
    column = pl.col(name).replace_strict(known, default=None, return_dtype=dtype)
    empty = read(None)  # a missing cell reads as an empty one
    return column if empty is None else column.fill_null(empty)


def import_attendance(
    raw: bytes,
    *,
    dry_run: bool = False,
    organiser: s.Organiser | None = None,
    columns: tuple[load.Column, ...] = load.ATTENDANCE_COLUMNS,
) -> load.Result | None:
    """Import a lesson-attendance file as load.import_file does; None if the file is one this
    path leaves to load.py. Raises FileRejected or Rejected as load.import_file does."""
    read = _frame(_utf8(raw))
    if read is None:
        return None
    headers, frame = read
    found = common.find_columns(headers, columns)
    written = [r._header(h) for h in headers]
    names: dict[str, str | None] = {
        key: next((f"c{written.index(n)}" for n in column.names if n in written), None)
        for key, column in found.items()
    }
    try:
        good, suspect = _check(frame, names, organiser)
        if suspect is not None:
            raise load.Rejected(_report(frame, suspect, found, written, organiser))
    except _Unsure:
        return None
    result = load.Result(rows=good.height)
    if good.height == 0:
        return result
    try:
        with transaction.atomic():
            problems = _write(good, result)
            if problems:
                raise load.Rejected(problems)
            if dry_run:
                raise load._DryRun
    except load._DryRun:
        pass
    return result


def _check(
    frame: pl.DataFrame, names: dict[str, str | None], organiser: s.Organiser | None
) -> tuple[pl.DataFrame, list[int] | None]:
    """The good rows ready to write; or, if any row is bad, the lines to report."""
    schools = load._schools(organiser)
    subjects: dict[str, int] = {}
    for known in s.Subject.objects.all():
        subjects[known.code.casefold()] = subjects[known.name.casefold()] = known.pk
    terms = list(s.Term.objects.all())
    years = list(s.SchoolYear.objects.all())
    groups = {
        (g.school_id, g.name.casefold(), g.school_year_id): g.pk
        for g in s.TeachingGroup.objects.all()
    }
    zone = timezone.get_current_timezone()

    # Pupils: the distinct personnummer read once, looked up in chunks.
    pnr_column = names["pnr"] or ""  # required: _columns refused a file without it
    raw_pnrs = frame.get_column(pnr_column).unique().to_list()
    normal = {value: _cell(value, load._pnr, required=True) for value in raw_pnrs}
    wanted = sorted({v for v in normal.values() if v is not BAD})
    pupils: dict[str, tuple[int, int]] = {}
    for start in range(0, len(wanted), 5000):
        held = s.Pupil.objects.filter(personnummer__in=wanted[start : start + 5000])
        if organiser is not None:
            held = held.filter(organiser=organiser)
        for pk, pnr, keeper in held.values_list("pk", "personnummer", "organiser_id"):
            pupils[pnr] = (pk, keeper)

    def pupil(value: Any) -> int | None:
        known = normal.get(value, BAD)
        found = pupils.get(known) if known is not BAD else None
        return found[0] if found else None

    def holder(value: Any) -> int | None:
        known = normal.get(value, BAD)
        found = pupils.get(known) if known is not BAD else None
        return found[1] if found else None

    def school(value: Any) -> int | None:
        code = _cell(value, r.text, required=True)
        found = schools.get(code) if code is not BAD else None
        return found.pk if found else None

    def subject(value: Any) -> int | None:
        name = _cell(value, r.text, required=True)
        return subjects.get(name.casefold()) if name is not BAD else None

    def whole(low: int, required: bool) -> Callable[[Any], int | None]:
        def read(value: Any) -> int | None:
            number = _cell(value, lambda v: r.whole(v, low=low, high=300), required=required)
            return -1 if number is BAD else (number if number is not None else 0)

        return read

    def valid(value: Any) -> int:  # 0 no, 1 yes, 2 not said, -1 bad
        said = _cell(value, r.yes_no, required=False)
        return -1 if said is BAD else 2 if said is None else int(said)

    i64, i16 = pl.Int64(), pl.Int16()
    cells = frame.with_row_index("line", offset=2).select(
        "line",
        _mapped(frame, pnr_column, pupil, i64).alias("pupil_id"),
        _mapped(frame, pnr_column, holder, i64).alias("organiser_id"),
        _mapped(frame, names["school"], school, i64).alias("school"),
        _mapped(frame, names["subject"], subject, i64).alias("subject_id"),
        _mapped(frame, names["minutes"], whole(1, True), i16).alias("minutes"),
        _mapped(frame, names["absent"], whole(0, False), i16).fill_null(0).alias("absent"),
        _mapped(frame, names["late"], whole(0, False), i16).fill_null(0).alias("late"),
        _mapped(frame, names["valid"], valid, pl.Int8()).fill_null(2).alias("valid"),
        pl.col(names["date"] or "c0").alias("raw_date"),
        pl.col(names["time"] or "c0").alias("raw_time"),
        pl.col(names["group"] or "c0").alias("raw_group"),
    )

    # Dates, times and groups by their distinct combinations.
    when: dict[tuple[Any, Any], tuple[str, str, int, int] | None] = {}
    for day_raw, time_raw in cells.select("raw_date", "raw_time").unique().iter_rows():
        day = _cell(day_raw, r.date, required=True)
        at = _cell(time_raw, r.clock, required=True)
        term = next((t for t in terms if day is not BAD and t.start <= day <= t.end), None)
        if day is BAD or at is BAD or term is None:
            when[(day_raw, time_raw)] = None
            continue
        year = next((y for y in years if y.start <= day <= y.end), None)
        moment = dt.datetime.combine(day, at, zone)
        when[(day_raw, time_raw)] = (
            moment.isoformat(),
            day.isoformat(),
            term.pk,
            year.pk if year else 0,
        )
    moments = pl.DataFrame(
        [(d, t, *(v or (None, None, None, None))) for (d, t), v in when.items()],
        schema={
            "raw_date": pl.String,
            "raw_time": pl.String,
            "start": pl.String,
            "date": pl.String,
            "term_id": pl.Int64,
            "year": pl.Int64,
        },
        orient="row",
    )
    cells = cells.join(
        moments, on=["raw_date", "raw_time"], how="left", nulls_equal=True, maintain_order="left"
    )
    teaching: dict[tuple[Any, Any, Any], int | None] = {}
    for school_pk, group_raw, year_pk in (
        cells.select("school", "raw_group", "year").unique().iter_rows()
    ):
        name = _cell(group_raw, r.text, required=True)
        teaching[(school_pk, group_raw, year_pk)] = (
            groups.get((school_pk, name.casefold(), year_pk))
            if name is not BAD and school_pk is not None and year_pk is not None
            else None
        )
    cells = cells.join(
        pl.DataFrame(
            [(a, b, c, v) for (a, b, c), v in teaching.items()],
            schema={
                "school": pl.Int64,
                "raw_group": pl.String,
                "year": pl.Int64,
                "group_id": pl.Int64,
            },
            orient="row",
        ),
        on=["school", "raw_group", "year"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).drop("raw_date", "raw_time", "raw_group")

    fine = (
        pl.all_horizontal(
            pl.col("pupil_id", "school", "subject_id", "group_id", "start").is_not_null()
        )
        & (pl.col("minutes") > 0)
        & (pl.col("absent") >= 0)
        & (pl.col("late") >= 0)
        & (pl.col("valid") >= 0)
        & (pl.col("absent") <= pl.col("minutes"))
        & (pl.col("absent") + pl.col("late") <= pl.col("minutes"))
    )
    cells = cells.with_columns(fine.alias("fine"))
    # A pupil at the same lesson twice: every such row goes to the report (the first as the
    # line the others name).
    twice = pl.col("fine") & (pl.col("fine").sum().over("pupil_id", "group_id", "start") > 1)
    suspect = cells.filter(~pl.col("fine") | twice)
    if suspect.height:
        return cells.clear(), suspect.get_column("line").to_list()
    good = cells.select(
        "line",
        "pupil_id",
        "organiser_id",
        "group_id",
        "subject_id",
        "term_id",
        "start",
        "date",
        "minutes",
        "absent",
        "late",
        pl.when(pl.col("absent") > 0)
        .then(pl.col("valid").replace_strict({0: False, 1: True, 2: None}, return_dtype=pl.Boolean))
        .otherwise(None)
        .alias("is_valid"),
    )
    return good, None


def _report(
    frame: pl.DataFrame,
    lines: list[int],
    columns: dict[str, load.Column],
    written: list[str],
    organiser: s.Organiser | None,
) -> list[load.Problem]:
    """load.py's planner over the suspect rows: the same problems, word for word."""
    rows = [r.Row(line, dict(zip(written, frame.row(line - 2), strict=True))) for line in lines]
    _plans, problems = load._plan_marks(rows, columns, organiser)
    if not problems:  # a check here stricter than load.py's: let load.py import the file
        raise _Unsure
    return problems


class _Unsure(Exception):
    """The fast checks refused a row that load.py takes."""


# --- writing --------------------------------------------------------------------------------

_STAGE = """
DROP TABLE IF EXISTS import_rows, import_lessons, import_marks, import_days, import_weeks,
    import_subject_weeks, import_sums;
CREATE TEMP TABLE import_rows (
    line integer, pupil_id bigint, organiser_id bigint, group_id bigint, subject_id bigint,
    term_id bigint, start timestamptz, date date, minutes smallint, absent smallint,
    late smallint, is_valid boolean
) ON COMMIT DROP
"""


def _copy(good: pl.DataFrame) -> None:
    buffer = io.BytesIO()
    good.write_csv(buffer, include_header=False)
    view = buffer.getbuffer()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy("COPY import_rows FROM STDIN (FORMAT csv)") as copy,
    ):
        for start in range(0, len(view), COPY_CHUNK):
            copy.write(view[start : start + COPY_CHUNK])


def _write(good: pl.DataFrame, result: load.Result) -> list[load.Problem]:
    lessons, marks = Lesson._meta.db_table, LessonAttendance._meta.db_table
    changes, reasons = AttendanceChange._meta.db_table, AbsenceReason._meta.db_table
    now = clock.now()
    with connection.cursor() as cursor:
        # Room to hash a big file's rows in memory; no JIT for statements run once.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        for statement in _STAGE.split(";"):
            cursor.execute(statement)
    _copy(good)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE import_rows")
        # Lessons not yet held: created as the file's first row of each gives them.
        cursor.execute(
            f"INSERT INTO {lessons} (group_id, subject_id, term_id, date, start, minutes, "  # noqa: S608
            "version, registered_at, first_registered_at) "
            "SELECT DISTINCT ON (s.group_id, s.subject_id, s.start) s.group_id, s.subject_id, "
            "s.term_id, s.date, s.start, s.minutes, 0, %s, %s FROM import_rows s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {lessons} l WHERE l.group_id = s.group_id "
            "AND l.subject_id = s.subject_id AND l.start = s.start) "
            "ORDER BY s.group_id, s.subject_id, s.start, s.line",
            [now, now],
        )
        cursor.execute(
            "CREATE TEMP TABLE import_lessons ON COMMIT DROP AS "  # noqa: S608
            "SELECT DISTINCT ON (l.group_id, l.subject_id, l.start) l.group_id, l.subject_id, "
            f"l.start, l.id, l.minutes, l.version FROM {lessons} l "
            "WHERE l.group_id IN (SELECT DISTINCT group_id FROM import_rows) "
            "AND l.start BETWEEN (SELECT min(start) FROM import_rows) "
            "AND (SELECT max(start) FROM import_rows) "
            "ORDER BY l.group_id, l.subject_id, l.start, l.id"
        )
        cursor.execute("ANALYZE import_lessons")
        cursor.execute(
            "SELECT s.line, k.minutes FROM import_rows s JOIN import_lessons k "
            "USING (group_id, subject_id, start) WHERE k.minutes <> s.minutes ORDER BY s.line"
        )
        clashes = cursor.fetchall()
        if clashes:
            return [
                load.Problem(
                    line,
                    "Minuter",
                    _("The lesson at that time lasts %(minutes)s minutes.") % {"minutes": minutes},
                )
                for line, minutes in clashes
            ]
        # The marks that are new or change: with what they were, for the history.
        cursor.execute(
            "CREATE TEMP TABLE import_marks ON COMMIT DROP AS "  # noqa: S608
            "SELECT s.line, k.id AS lesson_id, k.version, s.pupil_id, s.organiser_id, s.date, "
            "s.subject_id, "
            "k.minutes AS scheduled, s.absent, s.late, s.is_valid, la.id AS mark_id, "
            "la.absent_minutes AS old_absent, la.late_minutes AS old_late, "
            "la.is_valid AS old_valid, r.code AS old_code, r.name AS old_name, "
            "CASE WHEN r.is_valid IS NOT DISTINCT FROM s.is_valid THEN r.id END AS reason_id "
            "FROM import_rows s JOIN import_lessons k USING (group_id, subject_id, start) "
            f"LEFT JOIN {marks} la ON la.lesson_id = k.id AND la.pupil_id = s.pupil_id "
            f"LEFT JOIN {reasons} r ON r.id = la.reason_id "
            "WHERE la.id IS NULL OR la.absent_minutes <> s.absent OR la.late_minutes <> s.late "
            "OR (CASE WHEN la.absent_minutes > 0 THEN la.is_valid END) "
            "IS DISTINCT FROM (CASE WHEN s.absent > 0 THEN s.is_valid END) "
            "OR (r.id IS NOT NULL AND r.is_valid IS DISTINCT FROM s.is_valid)"
        )
        cursor.execute(
            "SELECT count(*) FILTER (WHERE mark_id IS NULL), "
            "count(*) FILTER (WHERE mark_id IS NOT NULL) FROM import_marks"
        )
        created, changed = cursor.fetchone()
        result.created, result.changed = created, changed
        result.unchanged = result.rows - created - changed
        if not created and not changed:
            return []
        cursor.execute("ANALYZE import_marks")
        cursor.execute(
            f"INSERT INTO {marks} (lesson_id, pupil_id, organiser_id, date, "  # noqa: S608
            "scheduled_minutes, absent_minutes, late_minutes, is_valid, reason_id) "
            "SELECT lesson_id, pupil_id, organiser_id, date, scheduled, absent, late, "
            # In the order of the pupil-and-day index (the aggregates likewise by their keys):
            # neighbouring rows go to neighbouring index pages, still in the cache (measured:
            # a tenth less of the database's CPU).
            "is_valid, reason_id FROM import_marks ORDER BY pupil_id, date, lesson_id "
            "ON CONFLICT (lesson_id, pupil_id) DO UPDATE SET "
            "absent_minutes = excluded.absent_minutes, late_minutes = excluded.late_minutes, "
            "is_valid = excluded.is_valid, reason_id = excluded.reason_id"
        )
        # History: every changed mark, and each new one that is not plain "present".
        snapshot = (
            "jsonb_build_object('absent_minutes', {a}, 'late_minutes', {l}, "
            "'is_valid', CASE WHEN {a} > 0 THEN {v} END, 'reason', {c}, 'reason_name', {n})"
        )
        new = snapshot.format(
            a="m.absent",
            l="m.late",
            v="m.is_valid",
            c="CASE WHEN m.reason_id IS NOT NULL THEN m.old_code END",
            n="CASE WHEN m.reason_id IS NOT NULL THEN m.old_name END",
        )
        old = snapshot.format(
            a="m.old_absent", l="m.old_late", v="m.old_valid", c="m.old_code", n="m.old_name"
        )
        cursor.execute(
            f"INSERT INTO {changes} (attendance_id, lesson_id, version, changed_by_id, "  # noqa: S608
            f"changed_at, old, new) SELECT la.id, m.lesson_id, m.version, NULL, %s, "
            f"CASE WHEN m.mark_id IS NULL THEN NULL ELSE {old} END, {new} "
            f"FROM import_marks m JOIN {marks} la ON la.lesson_id = m.lesson_id "
            "AND la.pupil_id = m.pupil_id "
            "WHERE m.mark_id IS NOT NULL OR m.absent > 0 OR m.late > 0",
            [now],
        )
        _refresh_aggregates(cursor)
        # Registered in the school system: not lessons for our teachers to register.
        cursor.execute(
            f"UPDATE {lessons} SET registered_at = %s, first_registered_at = %s "  # noqa: S608
            "WHERE id IN (SELECT id FROM import_lessons) AND registered_at IS NULL",
            [now, now],
        )
    return []


# --- the kept aggregates --------------------------------------------------------------------

_WEEK_SUMS = ("scheduled_minutes", "absent_minutes", "invalid_minutes")


def _changed(columns: tuple[str, ...]) -> str:
    """An upsert's update of `columns` (and the organiser) that skips a row already right: a
    changed mark can leave its day's or week's sums as they were (a late arrival is not in the
    week's), and a row not rewritten costs no new row version and no index entries."""
    kept = ("organiser_id", *columns)
    return (
        ", ".join(f"{c} = excluded.{c}" for c in kept)
        + f" WHERE ({', '.join(f'kept.{c}' for c in kept)}) "
        + f"IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in kept)})"
    )


def _refresh_aggregates(cursor: Any) -> None:
    """The per-day and per-subject-week sums the new and changed marks (import_marks) touch,
    recomputed from their lesson rows, as the register's save does (attendance/store.py).

    One pass over the lesson rows of the touched pupils' weeks, summed per pupil, day and
    subject; the days and the subject weeks are both summed from that. An import removes no
    mark, so no aggregate loses all its rows and an upsert is enough."""
    lessons, marks = Lesson._meta.db_table, LessonAttendance._meta.db_table
    cursor.execute(
        "CREATE TEMP TABLE import_days ON COMMIT DROP AS "
        "SELECT DISTINCT pupil_id, date FROM import_marks"
    )
    cursor.execute(
        "CREATE TEMP TABLE import_subject_weeks ON COMMIT DROP AS "
        "SELECT DISTINCT pupil_id, subject_id, CAST(date_trunc('week', date) AS date) AS week "
        "FROM import_marks"
    )
    cursor.execute(
        "CREATE TEMP TABLE import_weeks ON COMMIT DROP AS "
        "SELECT DISTINCT w.pupil_id, CAST(w.week + n AS date) AS date "
        "FROM import_subject_weeks w, generate_series(0, 6) n"
    )
    for table in ("import_days", "import_subject_weeks", "import_weeks"):
        cursor.execute(f"ANALYZE {table}")
    cursor.execute("SELECT min(date), max(date) FROM import_weeks")
    low, high = cursor.fetchone()
    cursor.execute(
        "CREATE TEMP TABLE import_sums ON COMMIT DROP AS "  # noqa: S608
        "SELECT la.pupil_id, la.date, l.subject_id, MIN(la.organiser_id) AS organiser_id, "
        "COUNT(*) AS lessons, SUM(la.scheduled_minutes) AS scheduled, "
        "SUM(la.absent_minutes) AS absent, "
        "SUM(CASE WHEN la.is_valid THEN la.absent_minutes ELSE 0 END) AS valid, "
        "SUM(CASE WHEN NOT la.is_valid THEN la.absent_minutes ELSE 0 END) AS invalid, "
        "SUM(CASE WHEN la.is_valid IS NULL THEN la.absent_minutes ELSE 0 END) AS unknown, "
        "SUM(la.late_minutes) AS late, "
        "SUM(CASE WHEN la.late_minutes > 0 THEN 1 ELSE 0 END) AS late_count "
        f"FROM {marks} la JOIN import_weeks p ON la.pupil_id = p.pupil_id "
        f"AND la.date = p.date JOIN {lessons} l ON l.id = la.lesson_id "
        "WHERE la.date BETWEEN %s AND %s AND l.date BETWEEN %s AND %s "
        "GROUP BY la.pupil_id, la.date, l.subject_id",
        [low, high, low, high],
    )
    _rewrite_days(cursor)
    _rewrite_subject_weeks(cursor)


def _rewrite_days(cursor: Any) -> None:
    """PupilDay of every touched pupil-day, from import_sums: the one place an import writes
    the per-day aggregate, so whatever is kept from the days follows here."""
    days = PupilDay._meta.db_table
    cursor.execute(
        f"INSERT INTO {days} AS kept (pupil_id, organiser_id, date, {', '.join(DAY_COLUMNS)}) "  # noqa: S608
        "SELECT s.pupil_id, MIN(s.organiser_id), s.date, SUM(s.lessons), SUM(s.scheduled), "
        "SUM(s.absent), SUM(s.valid), SUM(s.invalid), SUM(s.unknown), SUM(s.late), "
        "SUM(s.late_count) FROM import_sums s JOIN import_days p "
        "ON s.pupil_id = p.pupil_id AND s.date = p.date GROUP BY s.pupil_id, s.date ORDER BY s.pupil_id, s.date "
        f"ON CONFLICT (pupil_id, date) DO UPDATE SET {_changed(DAY_COLUMNS)}"
    )
    store.refresh_pupil_periods(touched="import_days")


def _rewrite_subject_weeks(cursor: Any) -> None:
    """PupilSubjectWeek of every subject week with a new or changed mark, from import_sums."""
    weeks = PupilSubjectWeek._meta.db_table
    cursor.execute(
        f"INSERT INTO {weeks} AS kept (pupil_id, organiser_id, subject_id, week, "  # noqa: S608
        f"{', '.join(_WEEK_SUMS)}) "
        "SELECT s.pupil_id, MIN(s.organiser_id), s.subject_id, w.week, SUM(s.scheduled), "
        "SUM(s.absent), SUM(s.invalid) FROM import_sums s JOIN import_subject_weeks w "
        "ON s.pupil_id = w.pupil_id AND s.subject_id = w.subject_id "
        "AND s.date BETWEEN w.week AND w.week + 6 "
        "GROUP BY s.pupil_id, s.subject_id, w.week ORDER BY s.pupil_id, s.subject_id, w.week "
        f"ON CONFLICT (pupil_id, subject_id, week) DO UPDATE SET {_changed(_WEEK_SUMS)}"
    )
