"""The screening benchmark's baselines: the same indicators with pandas over the lesson
records, and as SQL over the lesson table in PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from fullfolj.attendance.columnar import LESSON_COLUMNS
from fullfolj.benchmarks import Report

from .screening_data import Dataset

if TYPE_CHECKING:  # imported where used: a run may skip the pandas or PostgreSQL baseline
    import pandas as pd
    import psycopg
    from psycopg import sql

PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
PG_DATABASE = "fullfolj_screenbench"
RECORD_COLUMNS = LESSON_COLUMNS


def load_pandas(data: Dataset, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The lesson records from `first` to `last` as pandas would hold them."""
    import pandas as pd

    parts = [
        pq.read_table(
            path,
            columns=list(RECORD_COLUMNS),
            filters=[("date", ">=", first), ("date", "<=", last)],
        )
        for path in data.files()
    ]
    table = pa.concat_tables([p for p in parts if p.num_rows])
    del parts
    frame = pd.DataFrame(
        {
            "pupil_id": table.column("pupil_id").to_numpy(),
            "date": table.column("date").to_numpy().astype("datetime64[s]"),
            "scheduled_minutes": table.column("scheduled_minutes").to_numpy(),
            "absent_minutes": table.column("absent_minutes").to_numpy(),
            "late_minutes": table.column("late_minutes").to_numpy(),
            "is_valid": pd.array(
                table.column("is_valid").to_numpy(zero_copy_only=False), dtype="boolean"
            ),
        }
    )
    return frame


def screen_pandas(
    lessons: pd.DataFrame, as_of: dt.date, bounds: Mapping[str, tuple[dt.date, dt.date]]
) -> pl.DataFrame:
    """The indicators with an idiomatic pandas groupby over lesson records."""
    import pandas as pd

    absent = lessons["absent_minutes"]
    per_lesson = pd.DataFrame(
        {
            "pupil_id": lessons["pupil_id"],
            "date": lessons["date"],
            "scheduled": lessons["scheduled_minutes"],
            "absent": absent,
            "valid": absent.where(lessons["is_valid"].eq(True).fillna(False), 0),
            "invalid": absent.where(lessons["is_valid"].eq(False).fillna(False), 0),
            "unknown": absent.where(lessons["is_valid"].isna(), 0),
            "late_minutes": lessons["late_minutes"],
            "late_count": (lessons["late_minutes"] > 0).astype("int16"),
            "lessons": np.ones(len(absent), "int16"),
        }
    )
    first = min(start for start, _ in bounds.values())
    per_lesson = per_lesson[per_lesson["date"].between(pd.Timestamp(first), pd.Timestamp(as_of))]
    days = per_lesson.groupby(["pupil_id", "date"], sort=True).sum().reset_index()
    del per_lesson
    days = days[days["scheduled"] > 0]
    days["whole"] = days["absent"] >= days["scheduled"]
    days["skipped"] = (days["invalid"] > 0) & ~days["whole"]
    # The engine's estimate from PupilDay's minutes: invalid minutes in the day's average lesson
    # length, rounded half up, at least one (engine.day_figures).
    estimate = (2 * days["invalid"] * days["lessons"] + days["scheduled"]) // (
        2 * days["scheduled"]
    )
    days["skipped_lessons"] = np.where(days["skipped"], np.maximum(estimate, 1), 0)
    days["row"] = np.arange(len(days))
    result = pd.DataFrame(index=pd.Index(np.unique(days["pupil_id"]), name="pupil_id"))
    for key, (start, end) in bounds.items():
        window = days[days["date"].between(pd.Timestamp(start), pd.Timestamp(end))]
        sums = window.groupby("pupil_id").agg(
            days=("scheduled", "size"),
            scheduled=("scheduled", "sum"),
            absent=("absent", "sum"),
            valid=("valid", "sum"),
            invalid=("invalid", "sum"),
            unknown=("unknown", "sum"),
            late_count=("late_count", "sum"),
            late_minutes=("late_minutes", "sum"),
            whole_days=("whole", "sum"),
            skip_days=("skipped", "sum"),
            skipped_lessons=("skipped_lessons", "sum"),
        )
        wholes = window[window["whole"]]
        run = wholes["row"] - wholes.groupby("pupil_id").cumcount()
        sums["longest_run"] = (
            wholes.groupby(["pupil_id", run]).size().groupby(level="pupil_id").max()
        )
        result = result.join(sums.add_prefix(f"{key}_"))
    result = result.fillna(0).astype("int64").reset_index()
    return pl.from_pandas(result)


def _pg_connect(database: str) -> psycopg.Connection[tuple[Any, ...]]:
    import psycopg

    return psycopg.connect(f"{PG_DSN} dbname={database}", autocommit=True, connect_timeout=5)


def postgres_table(data: Dataset, database: str, report: Report) -> str:
    """The lesson table of `data` in PostgreSQL, loaded with COPY unless already there.

    An UNLOGGED table per data set, a BRIN index on date (the rows arrive in date order), and a
    marker row (data set key, row count) written in the load's transaction; the table is
    reloaded when the marker or the row count does not match.
    """
    import psycopg
    from psycopg import sql

    with _pg_connect("postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    table = "attendance_" + data.key.replace("-", "_")
    with _pg_connect(database) as conn:
        conn.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_datasets "
            "(table_name text PRIMARY KEY, dataset_key text NOT NULL, records bigint NOT NULL)"
        )
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [table])
        try:
            marker = conn.execute(
                "SELECT dataset_key, records FROM bench_datasets WHERE table_name = %s", [table]
            ).fetchone()
            if marker == (data.key, data.records):
                started = time.perf_counter()
                count = (
                    conn.execute(
                        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                    ).fetchone()
                    or (0,)
                )[0]
                if count == data.records:
                    report.say(
                        f"  postgres: {table} holds {count:,} records (checked in "
                        f"{time.perf_counter() - started:.1f} s)"
                    )
                    return table
            _pg_load(conn, data, table, report)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [table])
    return table


def _pg_load(conn: psycopg.Connection[Any], data: Dataset, table: str, report: Report) -> None:
    import pyarrow.csv as pacsv
    from psycopg import sql

    started = time.perf_counter()
    name = sql.Identifier(table)
    with conn.transaction():
        conn.execute("DELETE FROM bench_datasets WHERE table_name = %s", [table])
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
        conn.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE {} (id bigint, lesson_id integer, pupil_id integer, "
                "date date, scheduled_minutes smallint, absent_minutes smallint, "
                "late_minutes smallint, is_valid boolean, reason_id smallint)"
            ).format(name)
        )
        rows = 0
        options = pacsv.WriteOptions(include_header=False)
        with (
            conn.cursor() as cursor,
            cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(name)) as copy,
        ):
            for path in data.files():
                for batch in pq.ParquetFile(path).iter_batches(batch_size=1_000_000):
                    buffer = io.BytesIO()
                    pacsv.write_csv(batch, buffer, options)
                    copy.write(buffer.getbuffer())
                    rows += batch.num_rows
        if rows != data.records:
            raise RuntimeError(f"postgres: copied {rows} records, expected {data.records}")
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING brin (date)").format(
                sql.Identifier(f"{table}_date_brin"), name
            )
        )
        conn.execute(
            "INSERT INTO bench_datasets VALUES (%s, %s, %s)", [table, data.key, data.records]
        )
    conn.execute(sql.SQL("ANALYZE {}").format(name))
    report.say(
        f"  postgres: loaded {rows:,} records into {table} with COPY in "
        f"{time.perf_counter() - started:.1f} s"
    )


def postgres_query(
    table: str, as_of: dt.date, bounds: Mapping[str, tuple[dt.date, dt.date]]
) -> sql.Composed:
    """The indicators as one SQL statement over the lesson table (psycopg.sql.Composed)."""
    from psycopg import sql

    first = min(start for start, _ in bounds.values())

    def between(start: dt.date, end: dt.date) -> sql.Composable:
        return sql.SQL("date BETWEEN {} AND {}").format(sql.Literal(start), sql.Literal(end))

    sums: list[sql.Composable] = []
    runs: list[sql.Composable] = []
    joins: list[sql.Composable] = []
    outputs: list[sql.Composable] = []
    for n, (key, (start, end)) in enumerate(bounds.items()):
        inside = between(start, end)
        for name, expr in (
            ("days", "count(*)"),
            ("scheduled", "sum(s)"),
            ("absent", "sum(a)"),
            ("valid", "sum(v)"),
            ("invalid", "sum(i)"),
            ("unknown", "sum(u)"),
            ("late_count", "sum(lc)"),
            ("late_minutes", "sum(lm)"),
            ("whole_days", "count(*) FILTER (WHERE whole AND {inside})"),
            ("skip_days", "count(*) FILTER (WHERE i > 0 AND NOT whole AND {inside})"),
            (
                "skipped_lessons",
                "sum(greatest((2 * i * n + s) / (2 * s), 1)) FILTER (WHERE i > 0 AND NOT whole AND "
                "{inside})",
            ),
        ):
            alias = sql.Identifier(f"{key}_{name}")
            if "FILTER" in expr:
                body = sql.SQL(expr).format(inside=inside)
            else:
                body = sql.SQL(expr.replace(")", ") FILTER (WHERE {inside})", 1)).format(
                    inside=inside
                )
            sums.append(sql.SQL("coalesce({}, 0)::bigint AS {}").format(body, alias))
            outputs.append(sql.SQL("sums.{}").format(alias))
        run = sql.Identifier(f"run{n}")
        runs.append(
            sql.SQL(
                "{run} AS (SELECT pupil_id, max(n) AS longest FROM ("
                " SELECT pupil_id, count(*) AS n FROM ("
                "  SELECT pupil_id, rn - row_number() OVER (PARTITION BY pupil_id ORDER BY date)"
                "  AS grp FROM numbered WHERE whole AND {inside}) x"
                " GROUP BY pupil_id, grp) y GROUP BY pupil_id)"
            ).format(run=run, inside=inside)
        )
        joins.append(sql.SQL("LEFT JOIN {run} USING (pupil_id)").format(run=run))
        outputs.append(
            sql.SQL("coalesce({run}.longest, 0)::bigint AS {alias}").format(
                run=run, alias=sql.Identifier(f"{key}_longest_run")
            )
        )
    return sql.SQL(
        "WITH days AS MATERIALIZED ("
        " SELECT pupil_id, date, sum(scheduled_minutes)::int AS s, sum(absent_minutes)::int AS a,"
        "  coalesce(sum(absent_minutes) FILTER (WHERE is_valid), 0)::int AS v,"
        "  coalesce(sum(absent_minutes) FILTER (WHERE NOT is_valid), 0)::int AS i,"
        "  coalesce(sum(absent_minutes) FILTER (WHERE is_valid IS NULL), 0)::int AS u,"
        "  sum(late_minutes)::int AS lm, count(*) FILTER (WHERE late_minutes > 0)::int AS lc,"
        "  count(*)::int AS n,"
        "  sum(absent_minutes) >= sum(scheduled_minutes) AS whole"
        " FROM {table} WHERE {range}"
        " GROUP BY pupil_id, date HAVING sum(scheduled_minutes) > 0),"
        " numbered AS MATERIALIZED (SELECT pupil_id, date, whole,"
        "  row_number() OVER (PARTITION BY pupil_id ORDER BY date) AS rn FROM days),"
        " sums AS (SELECT pupil_id, {sums} FROM days GROUP BY pupil_id),"
        " {runs}"
        " SELECT pupil_id, {outputs} FROM sums {joins} ORDER BY pupil_id"
    ).format(
        table=sql.Identifier(table),
        range=between(first, as_of),
        sums=sql.SQL(", ").join(sums),
        runs=sql.SQL(", ").join(runs),
        outputs=sql.SQL(", ").join(outputs),
        joins=sql.SQL(" ").join(joins),
    )


def screen_postgres(
    database: str, table: str, as_of: dt.date, bounds: Mapping[str, tuple[dt.date, dt.date]]
) -> pl.DataFrame:
    query = postgres_query(table, as_of, bounds)
    with _pg_connect(database) as conn:
        conn.execute("SET work_mem = '256MB'")
        cursor = conn.execute(query)
        names = [d.name for d in cursor.description or ()]  # a SELECT always describes
        rows = cursor.fetchall()
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pl.DataFrame(
        {
            name: pl.Series(name, values, pl.Int64)
            for name, values in zip(names, columns, strict=True)
        }
    )
