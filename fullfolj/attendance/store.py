"""How a lesson's register is stored: marks, their history, the lesson's version and the
per-day, per-week, per-month and per-subject-week aggregates, all in the caller's transaction.

TUNED is what the app runs: statements of our own, on PostgreSQL a whole save (the version's
compare-and-swap, marks, history, aggregates and the listeners' reads) in one round trip.
REFERENCE does the same in plain ORM code, a query per step: it says what the SQL means, and
tests/test_store.py holds the two to identical rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from fullfolj.schools.models import Staff

from .bulk import insert_rows, mark_saved
from .columnar import DAY_COLUMNS  # the kept periods' figures too, each their days' sum
from .models import (
    AttendanceChange,
    Lesson,
    LessonAttendance,
    PupilDay,
    PupilMonth,
    PupilSubjectWeek,
    PupilWeek,
)

Statement = tuple[str, list[Any]]
Pair = tuple[int, dt.date]  # a pupil and a day
Swap = tuple[dt.datetime, Staff, int]  # registered at, by, the version expected


@dataclass
class Writes:
    """What one save of a register writes: new and changed marks, and their history rows."""

    lesson: Lesson
    created: list[LessonAttendance]
    updated: list[LessonAttendance]
    history: list[AttendanceChange]

    def pairs(self) -> set[Pair]:
        return {(row.pupil_id, row.date) for row in (*self.created, *self.updated)}


class Store(Protocol):
    def bump(self, lesson: Lesson, *, at: dt.datetime, by: Staff, expected: int | None) -> bool:
        """Count a save of the register: version + 1, if still at `expected` (None: any)."""

    def write(
        self, writes: Writes, *, swap: Swap | None = None, reads: Sequence[Statement] = ()
    ) -> list[list[tuple]] | None:
        """Write marks, history and aggregates, then run `reads`; their rows, in order.

        `swap`: bump the version first, from the expected one; if it is no longer that,
        nothing is written or read (None)."""

    def refresh(
        self, pairs: set[Pair], *, subjects: set[int] | None = None, rows_deleted: bool = True
    ) -> None:
        """Recompute the aggregates of these (pupil, day) pairs from their lesson rows.

        `subjects`: only these subjects' weeks (a register is one lesson). `rows_deleted=False`:
        no lesson row of these pairs was deleted, so no aggregate lost all its rows."""


_AGGREGATE_SELECT = """
    SELECT pupil_id, MIN(organiser_id), date, COUNT(*),
           SUM(scheduled_minutes), SUM(absent_minutes),
           SUM(CASE WHEN is_valid = {true} THEN absent_minutes ELSE 0 END),
           SUM(CASE WHEN is_valid = {false} THEN absent_minutes ELSE 0 END),
           SUM(CASE WHEN is_valid IS NULL THEN absent_minutes ELSE 0 END),
           SUM(late_minutes),
           SUM(CASE WHEN late_minutes > 0 THEN 1 ELSE 0 END)
    FROM {source} {where}
    GROUP BY pupil_id, date
"""
_AGGREGATE_COLUMNS = (
    "pupil_id, organiser_id, date, lessons, scheduled_minutes, absent_minutes, valid_minutes, "
    "invalid_minutes, unknown_minutes, late_minutes, late_count"
)


def _aggregate_sql(where: str = "") -> str:
    true, false = ("TRUE", "FALSE") if connection.vendor == "postgresql" else ("1", "0")
    return (
        f"INSERT INTO {PupilDay._meta.db_table} ({_AGGREGATE_COLUMNS}) "
        + _AGGREGATE_SELECT.format(
            true=true, false=false, source=LessonAttendance._meta.db_table, where=where
        )
    )


_SUBJECT_WEEK_COLUMNS = (
    "pupil_id, organiser_id, subject_id, week, scheduled_minutes, absent_minutes, invalid_minutes"
)


def _monday_sql(column: str) -> str:
    """The ISO week's Monday of a date column, in the database's own dialect."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('week', {column}) AS date)"
    return f"date({column}, 'weekday 0', '-6 days')"


def _subject_week_sql(where: str = "", *, few: bool = False) -> str:
    """INSERT…SELECT of the per-pupil, per-subject, per-week sums; `where` filters la.* rows.

    `few`: `where` picks a few hundred lesson rows; on PostgreSQL their lessons are then looked
    up one by one (LATERAL), not hashed from every lesson of the week.
    """
    postgres = connection.vendor == "postgresql"
    false = "FALSE" if postgres else "0"
    week = _monday_sql("la.date")
    lessons = Lesson._meta.db_table
    join = (
        f"JOIN LATERAL (SELECT subject_id FROM {lessons} "  # noqa: S608 - our table name
        "WHERE id = la.lesson_id OFFSET 0) l ON TRUE"
        if few and postgres
        else f"JOIN {lessons} l ON l.id = la.lesson_id"
    )
    # Table names and fragments are ours, never user input.
    return (
        f"INSERT INTO {PupilSubjectWeek._meta.db_table} ({_SUBJECT_WEEK_COLUMNS}) "  # noqa: S608
        f"SELECT la.pupil_id, MIN(la.organiser_id), l.subject_id, {week}, "
        "SUM(la.scheduled_minutes), SUM(la.absent_minutes), "
        f"SUM(CASE WHEN la.is_valid = {false} THEN la.absent_minutes ELSE 0 END) "
        f"FROM {LessonAttendance._meta.db_table} la {join} {where} "
        f"GROUP BY la.pupil_id, l.subject_id, {week}"
    )


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _month_sql(column: str) -> str:
    """The first day of a date column's month, in the database's own dialect (on PostgreSQL
    through a plain timestamp: a date is no point in time, so no time zone)."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', CAST({column} AS timestamp)) AS date)"
    return f"date({column}, 'start of month')"


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def next_monday(day: dt.date) -> dt.date:
    return _monday(day) + dt.timedelta(days=7)


@dataclass(frozen=True)
class Period:
    """A kept sum of PupilDay over a longer period: its model, the column naming the period by
    its first day, and where a date's period starts and the next one begins."""

    model: type[PupilMonth] | type[PupilWeek]
    key: str
    start_sql: Callable[[str], str]
    start: Callable[[dt.date], dt.date]
    following: Callable[[dt.date], dt.date]

    @property
    def columns(self) -> tuple[str, ...]:
        return ("pupil_id", "organiser_id", self.key, "days", *DAY_COLUMNS)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def sums_sql(self, where: str, *, join: str = "") -> str:
        """INSERT…SELECT of PupilDay's rows summed per pupil and period; `where` filters d.*."""
        period = self.start_sql("d.date")
        # Table names and fragments are ours, never user input.
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) "  # noqa: S608
            f"SELECT d.pupil_id, MIN(d.organiser_id), {period}, COUNT(*), SUM(d.lessons), "
            "SUM(d.scheduled_minutes), SUM(d.absent_minutes), SUM(d.valid_minutes), "
            "SUM(d.invalid_minutes), SUM(d.unknown_minutes), SUM(d.late_minutes), "
            f"SUM(d.late_count) FROM {PupilDay._meta.db_table} d {join} {where} "
            f"GROUP BY d.pupil_id, {period}"
        )

    def upsert(self) -> str:
        return _upsert(self.table, f"pupil_id, {self.key}", ", ".join(self.columns))


MONTHS = Period(PupilMonth, "month", _month_sql, month_of, next_month)
WEEKS = Period(PupilWeek, "week", _monday_sql, _monday, next_monday)
PERIODS = (MONTHS, WEEKS)


def refresh_pupil_periods(
    since: dt.date | None = None, until: dt.date | None = None, *, touched: str | None = None
) -> None:
    """Recompute the kept periods (PERIODS) from PupilDay for those holding `since` to `until`
    (open ends: every one), after PupilDay was rewritten in bulk (a load, an import, retention).

    `touched`: the name of a table of (pupil_id, date) pairs whose PupilDay rows were rewritten
    (an import's); then only those pupils' periods holding those dates are recomputed, in
    place. Without it, every pupil's periods in the range are deleted and summed again.
    """
    with connection.cursor() as cursor:
        if touched is not None:
            cursor.execute(f"SELECT MIN(date), MAX(date) FROM {touched}")  # noqa: S608
            low, high = cursor.fetchone()
            if low is None:
                return
            if isinstance(low, str):  # SQLite hands back dates as text
                low, high = dt.date.fromisoformat(low), dt.date.fromisoformat(high)
            low, high = max(low, since or low), min(high, until or high)
            for period in PERIODS:
                # Upserted only: an import removes no mark, so no period loses all its days.
                cursor.execute(
                    period.sums_sql(
                        "WHERE d.date >= %s AND d.date < %s",
                        join=f"JOIN (SELECT DISTINCT pupil_id, {period.start_sql('date')} "  # noqa: S608
                        f"AS first FROM {touched}) t ON t.pupil_id = d.pupil_id "
                        f"AND t.first = {period.start_sql('d.date')}",
                    )
                    + period.upsert(),
                    [period.start(low), period.following(high)],
                )
            return
        for period in PERIODS:
            where, params = [], []
            if since is not None:
                where.append("{column} >= %s")
                params.append(period.start(since))
            if until is not None:
                where.append("{column} < %s")
                params.append(period.following(until))
            clause = ("WHERE " + " AND ".join(where)) if where else ""
            cursor.execute(
                f"DELETE FROM {period.table} " + clause.format(column=period.key),  # noqa: S608
                params,
            )
            cursor.execute(period.sums_sql(clause.format(column="d.date")), params)


def rebuild(since: dt.date | None = None) -> None:
    """Recompute every aggregate from the lesson rows (bulk loads), or those from `since` on."""
    with connection.cursor() as cursor:
        if since is None:
            PupilDay.objects.all().delete()
            cursor.execute(_aggregate_sql())
            PupilSubjectWeek.objects.all().delete()
            cursor.execute(_subject_week_sql())
            refresh_pupil_periods()
        else:
            PupilDay.objects.filter(date__gte=since).delete()
            cursor.execute(_aggregate_sql("WHERE date >= %s"), [since])
            # Whole weeks: the week holding `since` is recomputed from its Monday.
            PupilSubjectWeek.objects.filter(week__gte=_monday(since)).delete()
            cursor.execute(_subject_week_sql("WHERE la.date >= %s"), [_monday(since)])
            refresh_pupil_periods(since)


def _upsert(table: str, key: str, columns: str) -> str:
    """ON CONFLICT DO UPDATE of every non-key column (PostgreSQL and SQLite alike).

    Updating in place, not delete and insert: no new index entries and no foreign-key checks
    at commit for rows that already exist, which is most of a register's aggregates.
    """
    keys = {name.strip() for name in key.split(",")}
    sets = ", ".join(
        f"{name} = excluded.{name}"
        for name in (c.strip() for c in columns.split(","))
        if name not in keys
    )
    return f" ON CONFLICT ({key}) DO UPDATE SET {sets}"


def _in(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def run_together(statements: list[Statement]) -> list[list[tuple]]:
    """Run the statements in order; each one's rows (empty for writes).

    On PostgreSQL they go in one round trip (the driver binds the values client-side, and the
    server runs them one after the other, each seeing the ones before): a save's writes then
    wait once for the database, not once each.
    """
    results: list[list[tuple]] = []
    if not statements:
        return results
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            cursor.execute(
                "; ".join(sql for sql, _params in statements),
                [value for _sql, params in statements for value in params],
            )
            while True:
                results.append(cursor.fetchall() if cursor.description else [])
                if not cursor.cursor.nextset():
                    break
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else [])
    return results


def fetch_together(querysets: Sequence[QuerySet[Any]]) -> list[list[Any]]:
    """Each queryset's objects, the querysets read in one round trip (run_together).

    Plain querysets only (no select_related, annotations or values): each row is the model's
    own columns, converted as the ORM converts them.
    """
    compilers = [qs.query.get_compiler(connection=connection) for qs in querysets]
    results = run_together([compiler.as_sql() for compiler in compilers])
    objects = []
    for qs, compiler, rows in zip(querysets, compilers, results, strict=True):
        names = [field.attname for field in qs.model._meta.concrete_fields]
        objects.append(
            [
                qs.model.from_db(connection.alias, names, row)
                for row in compiler.results_iter(results=[rows])
            ]
        )
    return objects


def _refresh_statements(
    pairs: set[tuple[int, dt.date]],
    *,
    subjects: set[int] | None,
    rows_deleted: bool,
) -> list[Statement]:
    if not pairs:
        return []
    pupils = sorted({pupil for pupil, _day in pairs})
    dates = sorted({day for _pupil, day in pairs})
    weeks = sorted({_monday(day) for day in dates})
    week_days = [week + dt.timedelta(days=n) for week in weeks for n in range(7)]
    day_table, week_table = PupilDay._meta.db_table, PupilSubjectWeek._meta.db_table
    lesson_table, rows_table = Lesson._meta.db_table, LessonAttendance._meta.db_table
    statements: list[Statement] = []
    if rows_deleted:
        # Aggregates whose lesson rows are all gone; the upserts below keep the others.
        statements.append(
            (
                f"DELETE FROM {day_table} WHERE pupil_id IN ({_in(pupils)}) "  # noqa: S608
                f"AND date IN ({_in(dates)}) AND NOT EXISTS (SELECT 1 FROM {rows_table} la "
                f"WHERE la.pupil_id = {day_table}.pupil_id AND la.date = {day_table}.date)",
                [*pupils, *dates],
            )
        )
        statements.append(
            (
                f"DELETE FROM {week_table} WHERE pupil_id IN ({_in(pupils)}) "  # noqa: S608
                f"AND week IN ({_in(weeks)}) AND NOT EXISTS (SELECT 1 FROM {rows_table} la "
                f"JOIN {lesson_table} l ON l.id = la.lesson_id "
                f"WHERE la.pupil_id = {week_table}.pupil_id AND la.date IN ({_in(week_days)}) "
                f"AND l.date IN ({_in(week_days)}) AND l.subject_id = {week_table}.subject_id "
                f"AND {_monday_sql('la.date')} = {week_table}.week)",
                [*pupils, *weeks, *week_days, *week_days],
            )
        )
    where = f"WHERE pupil_id IN ({_in(pupils)}) AND date IN ({_in(dates)})"
    statements.append(
        (
            _aggregate_sql(where) + _upsert(day_table, "pupil_id, date", _AGGREGATE_COLUMNS),
            [*pupils, *dates],
        )
    )
    # The months and weeks holding those dates, summed again from their days (after theirs).
    for period in PERIODS:
        low, high = period.start(dates[0]), period.following(dates[-1])
        table, first = period.table, period.start_sql("d.date")
        if rows_deleted:
            statements.append(
                (
                    f"DELETE FROM {table} WHERE pupil_id IN ({_in(pupils)}) "  # noqa: S608
                    f"AND {period.key} >= %s AND {period.key} < %s AND NOT EXISTS (SELECT 1 "
                    f"FROM {day_table} d WHERE d.pupil_id = {table}.pupil_id AND d.date >= %s "
                    f"AND d.date < %s AND {first} = {table}.{period.key})",
                    [*pupils, low, high, low, high],
                )
            )
        statements.append(
            (
                period.sums_sql(
                    f"WHERE d.pupil_id IN ({_in(pupils)}) AND d.date >= %s AND d.date < %s"
                )
                + period.upsert(),
                [*pupils, low, high],
            )
        )
    # The subject weeks holding those dates, recomputed from every day of each week.
    where = f"WHERE la.pupil_id IN ({_in(pupils)}) AND la.date IN ({_in(week_days)})"
    params: list[object] = [*pupils, *week_days]
    if subjects is not None:
        where += f" AND l.subject_id IN ({_in(sorted(subjects))})"
        params += sorted(subjects)
    statements.append(
        (
            _subject_week_sql(where, few=True)
            + _upsert(week_table, "pupil_id, subject_id, week", _SUBJECT_WEEK_COLUMNS),
            params,
        )
    )
    return statements


PRESENT: dict[str, Any] = {
    "absent_minutes": 0,
    "late_minutes": 0,
    "is_valid": None,
    "reason": None,
    "reason_name": None,
}

_MARK_COLUMNS = (
    ("lesson_id", "bigint"),
    ("pupil_id", "bigint"),
    ("organiser_id", "bigint"),
    ("date", "date"),
    ("scheduled_minutes", "smallint"),
    ("absent_minutes", "smallint"),
    ("late_minutes", "smallint"),
    ("is_valid", "boolean"),
    ("reason_id", "bigint"),
)
_CHANGE_COLUMNS = (
    ("attendance_id", "bigint"),
    ("lesson_id", "bigint"),
    ("version", "integer"),
    ("changed_by_id", "bigint"),
    ("changed_at", "timestamptz"),
    ("old", "jsonb"),
    ("new", "jsonb"),
)


def _marks_statement(
    created: list[LessonAttendance],
    updated: list[LessonAttendance],
    history: list[AttendanceChange],
    *,
    lesson: Lesson,
    swap: Swap | None = None,
) -> Statement:
    """PostgreSQL: new marks, changed marks and their history rows in one statement (data-
    modifying WITH), returning ("m", id, pupil) per new mark and ("h", id, mark id) per
    history row. A history row of a new mark finds its id by the pupil (one mark per pupil).

    `swap`: the lesson's version is bumped first (as _bump) if still the expected one, which
    returns ("b", lesson id, 0); if not, nothing is written. Row locks are taken in the same
    order as a _bump before the statement: the lesson first."""
    marks, changes = LessonAttendance._meta.db_table, AttendanceChange._meta.db_table
    day, when = connection.ops.adapt_datefield_value, connection.ops.adapt_datetimefield_value
    new = [
        (
            r.lesson_id,
            r.pupil_id,
            r.organiser_id,
            day(r.date),
            r.scheduled_minutes,
            r.absent_minutes,
            r.late_minutes,
            r.is_valid,
            r.reason_id,
        )
        for r in created
    ]
    changed = [(r.pk, r.absent_minutes, r.late_minutes, r.is_valid, r.reason_id) for r in updated]
    kept = [
        (
            c.attendance.pupil_id,
            c.attendance.pk,
            c.lesson_id,
            c.version,
            c.changed_by_id,
            when(c.changed_at),
            _as_json(c.old),
            _as_json(c.new),
        )
        for c in history
    ]
    names = ", ".join(name for name, _kind in _MARK_COLUMNS)

    def arrays(kinds: Sequence[str]) -> str:
        return ", ".join(f"%s::{kind}[]" for kind in kinds)

    def columns(rows: list[tuple], width: int) -> list[list[object]]:
        return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width

    bump, where, also, bumped, first = "", "", "", "", []
    if swap is not None:
        at, by, expected = swap
        bump = (
            f"bump AS (UPDATE {Lesson._meta.db_table} SET version = version + 1, "  # noqa: S608
            "first_registered_at = COALESCE(first_registered_at, registered_at, %s), "
            "registered_at = %s, registered_by_id = %s WHERE id = %s AND version = %s "
            "RETURNING id), "
        )
        first = [when(at), when(at), by.pk, lesson.pk, expected]
        where, also = " WHERE EXISTS (SELECT 1 FROM bump)", " AND EXISTS (SELECT 1 FROM bump)"
        bumped = " UNION ALL SELECT 'b', id, 0 FROM bump"
    # Only our table and column names and placeholders are formatted in.
    sql = (
        f"WITH {bump}new AS (INSERT INTO {marks} ({names}) "  # noqa: S608
        f"SELECT * FROM UNNEST({arrays([kind for _name, kind in _MARK_COLUMNS])}){where} "
        "RETURNING id, pupil_id), "
        f"changed AS (UPDATE {marks} la SET absent_minutes = u.absent, late_minutes = u.late, "
        "is_valid = u.is_valid, reason_id = u.reason_id "
        f"FROM UNNEST({arrays(['bigint', 'smallint', 'smallint', 'boolean', 'bigint'])}) "
        f"AS u(id, absent, late, is_valid, reason_id) WHERE la.id = u.id{also} RETURNING la.id), "
        f"kept AS (INSERT INTO {changes} (attendance_id, lesson_id, version, changed_by_id, "
        "changed_at, old, new) SELECT COALESCE(h.mark, new.id), h.lesson, h.version, h.by, "
        "h.at, h.old, h.new FROM UNNEST("
        f"{arrays(['bigint', 'bigint', 'bigint', 'integer', 'bigint', 'timestamptz', 'jsonb', 'jsonb'])}) "
        "AS h(pupil, mark, lesson, version, by, at, old, new) "
        f"LEFT JOIN new ON h.mark IS NULL AND new.pupil_id = h.pupil{where} "
        "RETURNING id, attendance_id) "
        f"SELECT 'm', id, pupil_id FROM new UNION ALL SELECT 'h', id, attendance_id FROM kept"
        f"{bumped}"
    )
    return sql, [*first, *columns(new, len(_MARK_COLUMNS)), *columns(changed, 5), *columns(kept, 8)]


def _mark_written(
    created: list[LessonAttendance], history: list[AttendanceChange], rows: list[tuple]
) -> None:
    """The ids _marks_statement read back, set on the objects as bulk_create would."""
    marks = {pupil: pk for kind, pk, pupil in rows if kind == "m"}
    for row in created:
        mark_saved(row, marks[row.pupil_id])
    kept = {mark: pk for kind, pk, mark in rows if kind == "h"}
    for change in history:
        change.attendance_id = change.attendance.pk
        mark_saved(change, kept[change.attendance_id])


def _as_json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value)  # None: SQL NULL, as the ORM writes


def _insert_marks(rows: list[LessonAttendance]) -> None:
    """The register's new marks, checked by the caller, in one statement."""
    if not rows:
        return
    day = connection.ops.adapt_datefield_value
    ids = insert_rows(
        LessonAttendance,
        _MARK_COLUMNS,
        [
            (
                row.lesson_id,
                row.pupil_id,
                row.organiser_id,
                day(row.date),
                row.scheduled_minutes,
                row.absent_minutes,
                row.late_minutes,
                row.is_valid,
                row.reason_id,
            )
            for row in rows
        ],
        returning="pupil_id",
    )
    for row in rows:  # one row per pupil and lesson (a unique constraint)
        mark_saved(row, ids[row.pupil_id])


def _insert_history(changes: list[AttendanceChange]) -> None:
    """The register's history rows in one statement (one per changed mark)."""
    if not changes:
        return
    when = connection.ops.adapt_datetimefield_value
    ids = insert_rows(
        AttendanceChange,
        _CHANGE_COLUMNS,
        [
            (
                c.attendance.pk,
                c.lesson_id,
                c.version,
                c.changed_by_id,
                when(c.changed_at),
                _as_json(c.old),
                _as_json(c.new),
            )
            for c in changes
        ],
        returning="attendance_id",
    )
    for change in changes:
        change.attendance_id = change.attendance.pk
        mark_saved(change, ids[change.attendance_id])


def _bump(lesson: Lesson, now: dt.datetime, by: Staff, expected: int | None) -> bool:
    """Count a save of the register: version + 1, if it is still at `expected` (None: any)."""
    sql = (
        f"UPDATE {Lesson._meta.db_table} SET version = version + 1, "  # noqa: S608
        "first_registered_at = COALESCE(first_registered_at, registered_at, %s), "
        "registered_at = %s, registered_by_id = %s WHERE id = %s"
    )
    at = connection.ops.adapt_datetimefield_value(now)
    params = [at, at, by.pk, lesson.pk]
    if expected is not None:
        sql += " AND version = %s"
        params.append(expected)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)


class _Tuned:
    """Statements of our own; on PostgreSQL a save is one round trip."""

    def bump(self, lesson: Lesson, *, at: dt.datetime, by: Staff, expected: int | None) -> bool:
        return _bump(lesson, at, by, expected)

    def write(
        self, writes: Writes, *, swap: Swap | None = None, reads: Sequence[Statement] = ()
    ) -> list[list[tuple]] | None:
        created, updated, history = writes.created, writes.updated, writes.history
        refresh = _refresh_statements(
            writes.pairs(), subjects={writes.lesson.subject_id}, rows_deleted=False
        )
        if connection.vendor == "postgresql":
            results = run_together(
                [
                    _marks_statement(created, updated, history, lesson=writes.lesson, swap=swap),
                    *refresh,
                    *reads,
                ]
            )
            if swap is not None and not any(kind == "b" for kind, *_rest in results[0]):
                return None  # the aggregates were recomputed, unchanged; nothing else ran
            _mark_written(created, history, results[0])
            return results[len(results) - len(reads) :]
        if swap is not None and not self.bump(
            writes.lesson, at=swap[0], by=swap[1], expected=swap[2]
        ):
            return None
        _insert_marks(created)
        LessonAttendance.objects.bulk_update(
            updated, ["absent_minutes", "late_minutes", "is_valid", "reason"]
        )
        _insert_history(history)
        results = run_together([*refresh, *reads])
        return results[len(results) - len(reads) :]

    def refresh(
        self, pairs: set[Pair], *, subjects: set[int] | None = None, rows_deleted: bool = True
    ) -> None:
        run_together(_refresh_statements(pairs, subjects=subjects, rows_deleted=rows_deleted))


def _sums(rows: QuerySet[Any], **sums: Any) -> dict[str, Any]:
    # Aliased, then named as the aggregate's columns: an alias may not shadow a field it sums.
    found = rows.aggregate(**{f"sum_{name}": value for name, value in sums.items()})
    return {name: found[f"sum_{name}"] for name in sums}


def _day_sums(rows: QuerySet[LessonAttendance]) -> dict[str, Any]:
    return _sums(
        rows,
        organiser_id=Min("organiser_id"),
        lessons=Count("pk"),
        scheduled_minutes=Sum("scheduled_minutes"),
        absent_minutes=Sum("absent_minutes"),
        valid_minutes=Sum("absent_minutes", filter=Q(is_valid=True), default=0),
        invalid_minutes=Sum("absent_minutes", filter=Q(is_valid=False), default=0),
        unknown_minutes=Sum("absent_minutes", filter=Q(is_valid__isnull=True), default=0),
        late_minutes=Sum("late_minutes"),
        late_count=Count("pk", filter=Q(late_minutes__gt=0)),
    )


def _week_sums(rows: QuerySet[LessonAttendance]) -> dict[str, Any]:
    return _sums(
        rows,
        organiser_id=Min("organiser_id"),
        scheduled_minutes=Sum("scheduled_minutes"),
        absent_minutes=Sum("absent_minutes"),
        invalid_minutes=Sum("absent_minutes", filter=Q(is_valid=False), default=0),
    )


class _Reference:
    """The same writes in plain ORM code, a query or more per row: the meaning of _Tuned."""

    def bump(self, lesson: Lesson, *, at: dt.datetime, by: Staff, expected: int | None) -> bool:
        same = Q() if expected is None else Q(version=expected)
        return (
            Lesson.objects.filter(same, pk=lesson.pk).update(
                version=F("version") + 1,
                first_registered_at=Coalesce("first_registered_at", "registered_at", Value(at)),
                registered_at=at,
                registered_by=by,
            )
            == 1
        )

    def write(
        self, writes: Writes, *, swap: Swap | None = None, reads: Sequence[Statement] = ()
    ) -> list[list[tuple]] | None:
        if swap is not None and not self.bump(
            writes.lesson, at=swap[0], by=swap[1], expected=swap[2]
        ):
            return None
        LessonAttendance.objects.bulk_create(writes.created)
        LessonAttendance.objects.bulk_update(
            writes.updated, ["absent_minutes", "late_minutes", "is_valid", "reason"]
        )
        AttendanceChange.objects.bulk_create(writes.history)
        self.refresh(writes.pairs(), subjects={writes.lesson.subject_id}, rows_deleted=False)
        results = []
        with connection.cursor() as cursor:
            for sql, params in reads:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
        return results

    def refresh(
        self, pairs: set[Pair], *, subjects: set[int] | None = None, rows_deleted: bool = True
    ) -> None:
        for pupil, day in pairs:
            rows = LessonAttendance.objects.filter(pupil_id=pupil, date=day)
            sums = _day_sums(rows)
            if sums["lessons"]:
                PupilDay.objects.update_or_create(pupil_id=pupil, date=day, defaults=sums)
            else:
                PupilDay.objects.filter(pupil_id=pupil, date=day).delete()
        for period in PERIODS:
            for pupil, first in {(pupil, period.start(day)) for pupil, day in pairs}:
                days = PupilDay.objects.filter(
                    pupil_id=pupil, date__gte=first, date__lt=period.following(first)
                )
                sums = _sums(
                    days,
                    organiser_id=Min("organiser_id"),
                    days=Count("pk"),
                    **{name: Sum(name) for name in DAY_COLUMNS},
                )
                lookup: dict[str, Any] = {"pupil_id": pupil, period.key: first}
                if sums["days"]:
                    period.model.objects.update_or_create(defaults=sums, **lookup)
                else:
                    period.model.objects.filter(**lookup).delete()
        for pupil, week in {(pupil, _monday(day)) for pupil, day in pairs}:
            rows = LessonAttendance.objects.filter(
                pupil_id=pupil, date__gte=week, date__lt=week + dt.timedelta(days=7)
            )
            kept = PupilSubjectWeek.objects.filter(pupil_id=pupil, week=week)
            weeks = (
                set(subjects)
                if subjects is not None
                else (
                    set(rows.values_list("lesson__subject_id", flat=True))
                    | set(kept.values_list("subject_id", flat=True))
                )
            )
            for subject in weeks:
                sums = _week_sums(rows.filter(lesson__subject_id=subject))
                if sums["organiser_id"] is not None:
                    PupilSubjectWeek.objects.update_or_create(
                        pupil_id=pupil, subject_id=subject, week=week, defaults=sums
                    )
                else:
                    kept.filter(subject_id=subject).delete()


TUNED: Store = _Tuned()
REFERENCE: Store = _Reference()
