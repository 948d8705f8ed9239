"""Writes to attendance: the one way lesson rows and their per-day aggregates change."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from .models import LessonAttendance, PupilDay

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
        f"INSERT INTO {PupilDay._meta.db_table} ({_AGGREGATE_COLUMNS}) "  # noqa: S608
        + _AGGREGATE_SELECT.format(
            true=true, false=false, source=LessonAttendance._meta.db_table, where=where
        )
    )


@transaction.atomic
def rebuild_pupil_days(since: dt.date | None = None) -> int:
    """Recompute the per-day aggregates from the lesson rows (after a bulk load or import)."""
    with connection.cursor() as cursor:
        if since is None:
            PupilDay.objects.all().delete()
            cursor.execute(_aggregate_sql())
        else:
            PupilDay.objects.filter(date__gte=since).delete()
            cursor.execute(_aggregate_sql("WHERE date >= %s"), [since])
    return PupilDay.objects.count() if since is None else PupilDay.objects.filter(
        date__gte=since).count()


def refresh_pupil_days(pairs: set[tuple[int, dt.date]]) -> None:
    """Recompute the aggregates for the (pupil, date) pairs whose lesson rows just changed.

    Runs inside the caller's transaction, so the aggregate never drifts from the lesson rows.
    Every pupil x date combination is recomputed: a harmless superset, the lesson rows rule.
    """
    if not pairs:
        return
    pupils = sorted({pupil for pupil, _day in pairs})
    dates = sorted({day for _pupil, day in pairs})
    PupilDay.objects.filter(pupil_id__in=pupils, date__in=dates).delete()
    where = "WHERE pupil_id IN ({}) AND date IN ({})".format(
        ", ".join(["%s"] * len(pupils)), ", ".join(["%s"] * len(dates))
    )
    with connection.cursor() as cursor:
        cursor.execute(_aggregate_sql(where), [*pupils, *dates])
