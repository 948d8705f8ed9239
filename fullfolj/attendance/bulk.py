"""Bulk inserts of our own for the hot write paths (a register's save, the daily ladder run).

Django's bulk_create prepares each field of each object in Python and compiles a statement
naming every value: for a register's 30 marks or a ladder run's thousands of tasks that costs
more CPU than the database spends. Here the values are given ready (dates and datetimes as
the connection takes them) and, on PostgreSQL, sent as one array per column (UNNEST), so the
statement stays short and the driver parses it once per process.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

SQLITE_ROWS = 500  # rows per statement on SQLite, well inside its limit on parameters


def _chunks(rows: list[tuple], size: int) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_rows(
    model: type[Any],
    columns: Sequence[tuple[str, str]],
    rows: list[tuple],
    *,
    returning: str | None = None,
    ignore_conflicts: bool = False,
) -> dict[Any, int]:
    """INSERT `rows` (values in `columns` order; each column named with its PostgreSQL type).

    With `returning`, the new ids by that column's value (it must be unique among the rows).
    `ignore_conflicts`: rows that break a unique constraint are left out, as bulk_create's.
    """
    if not rows:
        return {}
    table, names = model._meta.db_table, ", ".join(name for name, _kind in columns)
    tail = (" ON CONFLICT DO NOTHING" if ignore_conflicts else "") + (
        f" RETURNING id, {returning}" if returning else ""
    )
    ids: dict[Any, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for _name, kind in columns)
            # Only our table and column names and placeholders are formatted in.
            sql = f"INSERT INTO {table} ({names}) SELECT * FROM UNNEST({arrays}){tail}"  # noqa: S608
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
            batches = [cursor.fetchall() if returning else []]
        else:
            one = "(" + ", ".join(["%s"] * len(columns)) + ")"
            batches = []
            for chunk in _chunks(rows, SQLITE_ROWS):
                values = ", ".join([one] * len(chunk))
                sql = f"INSERT INTO {table} ({names}) VALUES {values}{tail}"  # noqa: S608
                cursor.execute(sql, [value for row in chunk for value in row])
                batches.append(cursor.fetchall() if returning else [])
    for batch in batches:
        ids.update((value, pk) for pk, value in batch)
    return ids


def mark_saved(obj: Any, pk: int | None) -> None:
    """The object as bulk_create leaves it: saved, with its id when known."""
    obj.pk = pk
    obj._state.adding, obj._state.db = False, connection.alias
