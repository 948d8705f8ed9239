"""Writes to attendance: the one way lesson rows and their per-day aggregates change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fullfolj.lib import clock
from fullfolj.notices import actions as notices
from fullfolj.notices import tasks as notice_tasks
from fullfolj.schools.models import Staff

from .bulk import insert_rows, mark_saved
from .models import (
    AbsenceReason,
    AttendanceChange,
    Lesson,
    LessonAttendance,
    PupilDay,
    PupilSubjectWeek,
)

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
    join = (f"JOIN LATERAL (SELECT subject_id FROM {lessons} "  # noqa: S608 - our table name
            "WHERE id = la.lesson_id OFFSET 0) l ON TRUE" if few and postgres
            else f"JOIN {lessons} l ON l.id = la.lesson_id")
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


@transaction.atomic
def rebuild_pupil_days(since: dt.date | None = None) -> int:
    """Recompute the per-day and per-subject-week aggregates from the lesson rows (bulk loads)."""
    with connection.cursor() as cursor:
        if since is None:
            PupilDay.objects.all().delete()
            cursor.execute(_aggregate_sql())
            PupilSubjectWeek.objects.all().delete()
            cursor.execute(_subject_week_sql())
        else:
            PupilDay.objects.filter(date__gte=since).delete()
            cursor.execute(_aggregate_sql("WHERE date >= %s"), [since])
            # Whole weeks: the week holding `since` is recomputed from its Monday.
            PupilSubjectWeek.objects.filter(week__gte=_monday(since)).delete()
            cursor.execute(_subject_week_sql("WHERE la.date >= %s"), [_monday(since)])
    return PupilDay.objects.count() if since is None else PupilDay.objects.filter(
        date__gte=since).count()


def _upsert(table: str, key: str, columns: str) -> str:
    """ON CONFLICT DO UPDATE of every non-key column (PostgreSQL and SQLite alike).

    Updating in place, not delete and insert: no new index entries and no foreign-key checks
    at commit for rows that already exist, which is most of a register's aggregates.
    """
    keys = {name.strip() for name in key.split(",")}
    sets = ", ".join(f"{name} = excluded.{name}" for name in
                     (c.strip() for c in columns.split(",")) if name not in keys)
    return f" ON CONFLICT ({key}) DO UPDATE SET {sets}"


def _in(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


Statement = tuple[str, list[object]]


def refresh_pupil_days(
    pairs: set[tuple[int, dt.date]], *, subjects: set[int] | None = None,
    rows_deleted: bool = True,
) -> None:
    """Recompute the aggregates for the (pupil, date) pairs whose lesson rows just changed.

    Runs inside the caller's transaction, so the aggregate never drifts from the lesson rows.
    Every pupil x date combination is recomputed: a harmless superset, the lesson rows rule.
    `subjects`: the subjects of the changed lessons, when the caller knows them (a register is
    one lesson): only those subject weeks are recomputed. `rows_deleted=False`: no lesson row
    of these pairs was deleted, so no aggregate can have lost all its rows (one query less).
    """
    run_together(_refresh_statements(pairs, subjects=subjects, rows_deleted=rows_deleted))


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
            cursor.execute("; ".join(sql for sql, _params in statements),
                           [value for _sql, params in statements for value in params])
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
        objects.append([qs.model.from_db(connection.alias, names, row)
                        for row in compiler.results_iter(results=[rows])])
    return objects


def _refresh_statements(
    pairs: set[tuple[int, dt.date]], *, subjects: set[int] | None, rows_deleted: bool,
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
        statements.append((
            f"DELETE FROM {day_table} WHERE pupil_id IN ({_in(pupils)}) "  # noqa: S608
            f"AND date IN ({_in(dates)}) AND NOT EXISTS (SELECT 1 FROM {rows_table} la "
            f"WHERE la.pupil_id = {day_table}.pupil_id AND la.date = {day_table}.date)",
            [*pupils, *dates]))
        statements.append((
            f"DELETE FROM {week_table} WHERE pupil_id IN ({_in(pupils)}) "  # noqa: S608
            f"AND week IN ({_in(weeks)}) AND NOT EXISTS (SELECT 1 FROM {rows_table} la "
            f"JOIN {lesson_table} l ON l.id = la.lesson_id "
            f"WHERE la.pupil_id = {week_table}.pupil_id AND la.date IN ({_in(week_days)}) "
            f"AND l.date IN ({_in(week_days)}) AND l.subject_id = {week_table}.subject_id "
            f"AND {_monday_sql('la.date')} = {week_table}.week)",
            [*pupils, *weeks, *week_days, *week_days]))
    where = f"WHERE pupil_id IN ({_in(pupils)}) AND date IN ({_in(dates)})"
    statements.append((
        _aggregate_sql(where) + _upsert(day_table, "pupil_id, date", _AGGREGATE_COLUMNS),
        [*pupils, *dates]))
    # The subject weeks holding those dates, recomputed from every day of each week.
    where = f"WHERE la.pupil_id IN ({_in(pupils)}) AND la.date IN ({_in(week_days)})"
    params: list[object] = [*pupils, *week_days]
    if subjects is not None:
        where += f" AND l.subject_id IN ({_in(sorted(subjects))})"
        params += sorted(subjects)
    statements.append((
        _subject_week_sql(where, few=True)
        + _upsert(week_table, "pupil_id, subject_id, week", _SUBJECT_WEEK_COLUMNS),
        params))
    return statements


PRESENT: dict[str, Any] = {
    "absent_minutes": 0, "late_minutes": 0, "is_valid": None, "reason": None, "reason_name": None,
}


@dataclass(frozen=True)
class Mark:
    """A teacher's mark for one pupil at one lesson, as the register form gives it."""

    pupil_id: int
    absent_minutes: int = 0
    late_minutes: int = 0
    is_valid: bool | None = None
    reason: AbsenceReason | None = None

    def as_fields(self) -> dict[str, Any]:
        absent = self.absent_minutes > 0  # validity and reason describe an absence only
        return {
            "absent_minutes": self.absent_minutes,
            "late_minutes": self.late_minutes,
            "is_valid": self.is_valid if absent else None,
            "reason": self.reason if absent else None,
        }


class StaleRegister(Exception):
    """The register was saved by someone else after this form was loaded."""

    def __init__(self, lesson: Lesson, changes: list[AttendanceChange]) -> None:
        super().__init__(f"lesson {lesson.pk} is at version {lesson.version}")
        self.lesson = lesson
        self.changes = changes


def changes_since(lesson: Lesson, version: int) -> list[AttendanceChange]:
    """The history rows written after `version` of the lesson's register, oldest first."""
    return list(
        AttendanceChange.objects.filter(lesson=lesson, version__gt=version)
        .select_related("attendance__pupil", "changed_by")
        .order_by("changed_at", "pk")
    )


_MARK_COLUMNS = (("lesson_id", "bigint"), ("pupil_id", "bigint"), ("organiser_id", "bigint"),
                 ("date", "date"), ("scheduled_minutes", "smallint"),
                 ("absent_minutes", "smallint"), ("late_minutes", "smallint"),
                 ("is_valid", "boolean"), ("reason_id", "bigint"))
_CHANGE_COLUMNS = (("attendance_id", "bigint"), ("lesson_id", "bigint"), ("version", "integer"),
                   ("changed_by_id", "bigint"), ("changed_at", "timestamptz"),
                   ("old", "jsonb"), ("new", "jsonb"))


Swap = tuple[dt.datetime, Staff, int]  # registered at, by, the version expected


def _marks_statement(created: list[LessonAttendance], updated: list[LessonAttendance],
                     history: list[AttendanceChange], *, lesson: Lesson,
                     swap: Swap | None = None) -> Statement:
    """PostgreSQL: new marks, changed marks and their history rows in one statement (data-
    modifying WITH), returning ("m", id, pupil) per new mark and ("h", id, mark id) per
    history row. A history row of a new mark finds its id by the pupil (one mark per pupil).

    `swap`: the lesson's version is bumped first (as _bump) if still the expected one, which
    returns ("b", lesson id, 0); if not, nothing is written. Row locks are taken in the same
    order as a _bump before the statement: the lesson first."""
    marks, changes = LessonAttendance._meta.db_table, AttendanceChange._meta.db_table
    day, when = connection.ops.adapt_datefield_value, connection.ops.adapt_datetimefield_value
    new = [(r.lesson_id, r.pupil_id, r.organiser_id, day(r.date), r.scheduled_minutes,
            r.absent_minutes, r.late_minutes, r.is_valid, r.reason_id) for r in created]
    changed = [(r.pk, r.absent_minutes, r.late_minutes, r.is_valid, r.reason_id) for r in updated]
    kept = [(c.attendance.pupil_id, c.attendance.pk, c.lesson_id, c.version, c.changed_by_id,
             when(c.changed_at), _as_json(c.old), _as_json(c.new)) for c in history]
    names = ", ".join(name for name, _kind in _MARK_COLUMNS)

    def arrays(kinds: Sequence[str]) -> str:
        return ", ".join(f"%s::{kind}[]" for kind in kinds)

    def columns(rows: list[tuple], width: int) -> list[list[object]]:
        return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width

    bump, where, also, bumped, first = "", "", "", "", []
    if swap is not None:
        at, by, expected = swap
        bump = (f"bump AS (UPDATE {Lesson._meta.db_table} SET version = version + 1, "  # noqa: S608
                "registered_at = %s, registered_by_id = %s WHERE id = %s AND version = %s "
                "RETURNING id), ")
        first = [when(at), by.pk, lesson.pk, expected]
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
        f"{bumped}")
    return sql, [*first, *columns(new, len(_MARK_COLUMNS)), *columns(changed, 5),
                 *columns(kept, 8)]


def _mark_written(created: list[LessonAttendance], history: list[AttendanceChange],
                  rows: list[tuple]) -> None:
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
    ids = insert_rows(LessonAttendance, _MARK_COLUMNS, [
        (row.lesson_id, row.pupil_id, row.organiser_id, day(row.date), row.scheduled_minutes,
         row.absent_minutes, row.late_minutes, row.is_valid, row.reason_id) for row in rows
    ], returning="pupil_id")
    for row in rows:  # one row per pupil and lesson (a unique constraint)
        mark_saved(row, ids[row.pupil_id])


def _insert_history(changes: list[AttendanceChange]) -> None:
    """The register's history rows in one statement (one per changed mark)."""
    if not changes:
        return
    when = connection.ops.adapt_datetimefield_value
    ids = insert_rows(AttendanceChange, _CHANGE_COLUMNS, [
        (c.attendance.pk, c.lesson_id, c.version, c.changed_by_id, when(c.changed_at),
         _as_json(c.old), _as_json(c.new)) for c in changes
    ], returning="attendance_id")
    for change in changes:
        change.attendance_id = change.attendance.pk
        mark_saved(change, ids[change.attendance_id])


def _bump(lesson: Lesson, now: dt.datetime, by: Staff, expected: int | None) -> bool:
    """Count a save of the register: version + 1, if it is still at `expected` (None: any)."""
    sql = (f"UPDATE {Lesson._meta.db_table} SET version = version + 1, "  # noqa: S608
           "registered_at = %s, registered_by_id = %s WHERE id = %s")
    params = [connection.ops.adapt_datetimefield_value(now), by.pk, lesson.pk]
    if expected is not None:
        sql += " AND version = %s"
        params.append(expected)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


@dataclass(frozen=True)
class Loaded:
    """What the caller read of a lesson's register just before saving it, in this request: its
    marks by pupil and the organiser of each pupil who may get a new mark (the group's members
    that day). register_lesson uses it only when its swap proves it current (see there)."""

    rows: dict[int, LessonAttendance]
    organisers: dict[int, int]


@transaction.atomic
def register_lesson(
    lesson: Lesson, marks: Sequence[Mark], *, by: Staff, expected_version: int | None = None,
    loaded: Loaded | None = None,
) -> list[AttendanceChange]:
    """Save a teacher's register for the whole group at once; return the history rows written.

    A lesson is registered once it has started. Each pupil must be in the group on the lesson's
    date (or already have a mark). With `expected_version` (the version the form was loaded at),
    a save is refused with StaleRegister when someone else changed marks meanwhile; a save by
    someone else that changed no mark does not conflict. Every changed mark is kept as history
    (who, when, old, new) and the per-day aggregates follow in the same transaction, as do the
    guardian notices of the pupils whose marks changed (Skollagen 7 kap. 17 §; fullfolj.notices):
    the outbox rows commit with the marks, and a worker is woken after commit.

    `loaded` (with `expected_version`) spares reading the marks again: every change of a mark
    goes through here and bumps the version, so when the swap from `expected_version` holds,
    nothing was saved since the page was loaded, nor since the caller read `loaded` after that.
    """
    now = clock.now()
    if lesson.start > now:
        raise ValidationError(
            _("The lesson has not started yet (it starts %(start)s).")
            % {"start": date_format(timezone.localtime(lesson.start), "j F H:i")}
        )
    by_pupil = {mark.pupil_id: mark for mark in marks}
    if loaded is not None and expected_version is not None and connection.vendor == "postgresql":
        # Planned from the caller's read, then swap and writes in one round trip: the writes
        # happen only if the swap holds, which proves that read current (see above).
        try:
            plan = _plan(lesson, by_pupil, loaded.rows,
                         _organisers(lesson, by_pupil, loaded.rows, loaded),
                         by=by, now=now, version=expected_version + 1)
        except ValidationError:
            plan = None  # refused below as without `loaded`, after the swap
        if plan is not None:
            held, invalid = _write(lesson, plan, swap=(now, by, expected_version))
            if held:
                lesson.version, lesson.registered_at, lesson.registered_by = (
                    expected_version + 1, now, by)
                return _tell_guardians(plan, invalid)
        loaded = None  # the swap lost, and wrote nothing: read the marks again below
    swapped = _bump(lesson, now, by, expected_version)
    if not swapped or expected_version is None:
        loaded = None
    if not swapped:
        # The compare-and-swap above lost: someone saved in between. Refuse only if they
        # changed a mark; their save merely confirming what this form showed is no conflict.
        conflicting = changes_since(lesson, expected_version or 0)
        if conflicting:
            lesson.refresh_from_db(fields=["version", "registered_at", "registered_by"])
            raise StaleRegister(lesson, conflicting)
        _bump(lesson, now, by, None)
        lesson.refresh_from_db(fields=["version", "registered_at", "registered_by"])
        if expected_version is not None and lesson.version <= expected_version:
            # A version the register never had (no history can be after it): refused, or
            # it would pass every change since the form was loaded. The bump rolls back.
            raise ValidationError(_("The form names a version this register never had. "
                                    "Reload the page and enter the register again."))
    elif expected_version is None:
        lesson.refresh_from_db(fields=["version", "registered_at", "registered_by"])
    else:  # the swap held the row at expected_version and bumped it once: no need to read it
        lesson.version, lesson.registered_at, lesson.registered_by = expected_version + 1, now, by

    if loaded is not None:
        existing = loaded.rows
    else:
        existing = {row.pupil_id: row for row in
                    LessonAttendance.objects.filter(lesson=lesson).select_related("reason")}
    plan = _plan(lesson, by_pupil, existing, _organisers(lesson, by_pupil, existing, loaded),
                 by=by, now=now, version=lesson.version)
    _held, invalid = _write(lesson, plan, swap=None)
    return _tell_guardians(plan, invalid)


def _organisers(lesson: Lesson, by_pupil: dict[int, Mark], existing: dict[int, LessonAttendance],
                loaded: Loaded | None) -> dict[int, int]:
    """The organiser of each marked pupil without a mark yet, who must be in the group that
    day (one query finds them, unless `loaded` knows them); ValidationError names the others."""
    strangers = set(by_pupil) - set(existing)
    if loaded is not None:
        organisers = {p: loaded.organisers[p] for p in strangers if p in loaded.organisers}
    elif strangers:
        organisers = dict(
            lesson.members().filter(pk__in=strangers).values_list("pk", "organiser_id"))
    else:
        organisers = {}
    strangers -= set(organisers)
    if strangers:
        raise ValidationError(
            _("Pupil %(ids)s is not in group %(group)s on %(date)s.")
            % {"ids": ", ".join(map(str, sorted(strangers))), "group": lesson.group,
               "date": date_format(lesson.date)}
        )
    return organisers


@dataclass
class _Plan:
    """What a save writes: new and changed marks, their history, the (pupil, day)s to tell."""

    lesson: Lesson
    created: list[LessonAttendance]
    updated: list[LessonAttendance]
    history: list[AttendanceChange]
    told: set[tuple[int, dt.date]]


def _plan(lesson: Lesson, by_pupil: dict[int, Mark], existing: dict[int, LessonAttendance],
          organisers: dict[int, int], *, by: Staff, now: dt.datetime, version: int) -> _Plan:
    """The marks' rows set to the new values and checked; history rows at `version`."""
    created, updated, history = [], [], []
    for pupil_id, mark in by_pupil.items():
        row = existing.get(pupil_id)
        old = row.snapshot() if row else None
        if row is None:
            row = LessonAttendance(lesson=lesson, pupil_id=pupil_id, date=lesson.date,
                                   organiser_id=organisers[pupil_id],
                                   scheduled_minutes=lesson.minutes)
        for field, value in mark.as_fields().items():
            setattr(row, field, value)
        if mark.absent_minutes or mark.late_minutes:  # a present mark fits any lesson
            # Field checks and clean() per row; the database constraints guard the rest.
            row.full_clean(exclude=["lesson", "pupil", "organiser", "reason"],
                           validate_unique=False, validate_constraints=False)
        new = row.snapshot()
        if old == new:
            continue
        (updated if row.pk else created).append(row)
        if (old or PRESENT) != new:
            history.append(AttendanceChange(attendance=row, lesson=lesson,
                                            version=version, changed_by=by,
                                            changed_at=now, old=old, new=new))
    told = {(change.attendance.pupil_id, lesson.date) for change in history
            if notices.is_invalid(change.old) or notices.is_invalid(change.new)}
    return _Plan(lesson, created, updated, history, told)


def _write(lesson: Lesson, plan: _Plan, *,
           swap: Swap | None) -> tuple[bool, list[tuple] | None]:
    """Write the plan's marks, history and aggregates. Whether it was written, and the told
    pairs' invalid lessons, read with the writes on PostgreSQL (None: not read).

    `swap` (PostgreSQL only): bump the lesson's version from the expected one in the same
    statement; if it is no longer that, nothing is written (False)."""
    created, updated, history = plan.created, plan.updated, plan.history
    refresh = _refresh_statements({(row.pupil_id, row.date) for row in (*created, *updated)},
                                  subjects={lesson.subject_id}, rows_deleted=False)
    if connection.vendor == "postgresql":
        # Marks, history, aggregates and the day's invalid lessons: one round trip.
        invalid = notices.invalid_lessons_statement(plan.told) if plan.told else None
        results = run_together([_marks_statement(created, updated, history, lesson=lesson,
                                                 swap=swap),
                                *refresh, *([invalid] if invalid else [])])
        if swap is not None and not any(kind == "b" for kind, *_rest in results[0]):
            return False, None  # the aggregates were recomputed, unchanged; nothing else ran
        _mark_written(created, history, results[0])
        return True, notices.invalid_lessons_rows(results[-1]) if invalid else []
    if swap is not None:
        raise ValueError("a swap with the writes needs PostgreSQL")
    _insert_marks(created)
    LessonAttendance.objects.bulk_update(
        updated, ["absent_minutes", "late_minutes", "is_valid", "reason"]
    )
    _insert_history(history)
    run_together(refresh)
    return True, None


def _tell_guardians(plan: _Plan, invalid: list[tuple] | None) -> list[AttendanceChange]:
    """Schedule the told pairs' guardian notices, a worker woken after commit; the history."""
    send_times = notices.schedule_for_days(plan.told, invalid=invalid)
    if send_times:
        transaction.on_commit(lambda: notice_tasks.wake_deliverer(min(send_times)))
    return plan.history


@dataclass(frozen=True)
class Settlement:
    """A mentor's decision on one absence whose validity was not yet known (Att avgöra)."""

    attendance_id: int
    expected_version: int  # the lesson's version when the page was loaded
    is_valid: bool
    reason: AbsenceReason | None = None


class StaleSettlement(Exception):
    """Some of the absences were changed by someone else after the page was loaded."""

    def __init__(self, changes: list[AttendanceChange]) -> None:
        super().__init__(f"{len(changes)} absences changed meanwhile")
        self.changes = changes


@transaction.atomic
def settle_absences(
    settlements: Sequence[Settlement], *, by: Staff
) -> list[AttendanceChange]:
    """Mark absences valid or invalid for the whole page at once; return the history rows.

    The caller has checked access. The rows are locked, and if any mark changed after the page
    was loaded (settled by someone else, minutes corrected) nothing is saved: StaleSettlement
    carries what changed. Each lesson's mark goes through register_lesson, so history,
    per-day aggregates and guardian notices follow exactly as for a teacher's correction.
    """
    wanted = {s.attendance_id: s for s in settlements}
    rows = list(
        LessonAttendance.objects.select_for_update()
        .filter(pk__in=wanted).select_related("lesson").order_by("pk")
    )
    conflicts = [
        change
        for row in rows
        for change in AttendanceChange.objects.filter(
            attendance=row, version__gt=wanted[row.pk].expected_version
        ).select_related("attendance__pupil", "lesson__subject", "changed_by")
    ]
    conflicts += [  # settled without a history row (an import), or by another path
        change for row in rows if row.is_valid is not None
        for change in [AttendanceChange(attendance=row, lesson=row.lesson,
                                        version=row.lesson.version, changed_at=clock.now(),
                                        old=None, new=row.snapshot())]
        if not any(c.attendance_id == row.pk for c in conflicts)
    ]
    if conflicts:
        raise StaleSettlement(conflicts)
    history: list[AttendanceChange] = []
    by_lesson: dict[int, list[LessonAttendance]] = {}
    for row in rows:
        by_lesson.setdefault(row.lesson_id, []).append(row)
    for lesson_rows in by_lesson.values():
        lesson = lesson_rows[0].lesson
        marks = [
            Mark(pupil_id=row.pupil_id, absent_minutes=row.absent_minutes,
                 late_minutes=row.late_minutes, is_valid=wanted[row.pk].is_valid,
                 reason=wanted[row.pk].reason)
            for row in lesson_rows
        ]
        history += register_lesson(lesson, marks, by=by)
    return history
