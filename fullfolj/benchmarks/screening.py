"""`fullfolj bench screening`: screening every pupil at region scale (issue 5, "Speed").

One run times, over the simulator's data (`cache_dir()/region-{pupils}-s{seed}`, generated with
`fullfolj.simulation.parquet.write` when missing):

- `full`: the attendance indicators of every pupil at the as-of date (the last school day in the
  data) and the flags of the default attendance rules, by the product's engine
  (`fullfolj.screening.engine.compute_indicators` + `screen`) over the kept per-pupil, per-day
  aggregate (PupilDay's rows from the first day a window reaches to the as-of date, as a nightly
  job reads them, in memory in the unique index's order: pupil, then date);
- `rebuild`: building that aggregate from the lesson records (read from Parquet, the columns
  needed only, summed per pupil and day by `fullfolj.attendance.columnar.read_pupil_days`),
  and screening;
- `incremental`: the nightly job's step: the day's lesson records summed per pupil and added
  to the previous school day's kept window sums
  (`fullfolj.screening.nightly.NightlyIndicators.add_lessons`; the state is built before
  timing, as the job keeps it from one night to the next), then screening every pupil;
- `pandas`: the same indicators with an idiomatic pandas groupby over the lesson records;
- `postgres`: the same indicators as SQL over the lesson table in PostgreSQL (loaded once with
  COPY into `fullfolj_screenbench`, kept between runs, checked by row count and a marker table);
- `floor`: numpy's sum of the absence minutes of every lesson record held in memory.

Every path's per-pupil figures (integer minutes, day counts, runs per window) are compared with
`full`'s, and the engine's flags with the rules recomputed in numpy from those figures; any
mismatch is printed and fails the run. The kept aggregate is cached as Parquet
(`pupil_days_by_pupil.parquet` in the data set's folder) in PupilDay's columns.

Each timing also shows this process's CPU time, and the run prints the load average: on a
machine shared with other work the wall times say more about the neighbours than about us.
`peak_memory_ours` is the peak before the baselines load the lesson records; `peak_memory` is
the whole run's (pandas holds the term's records several times over).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from fullfolj.attendance import columnar
from fullfolj.attendance.columnar import LESSON_COLUMNS
from fullfolj.benchmarks import Options, Report, cache_dir, peak_rss_mb

DEFAULT_PUPILS = 120_000
SEED = 1
YEARS = 1
SLOW_BASELINE_PUPILS = 20_000  # from this size pandas and postgres are timed once
PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
PG_DATABASE = "fullfolj_screenbench"

EPOCH = dt.date(1970, 1, 1)
FIGURES = (
    "days",
    "scheduled",
    "absent",
    "valid",
    "invalid",
    "unknown",
    "late_count",
    "late_minutes",
    "whole_days",
    "skip_days",
    "skipped_lessons",
    "longest_run",
)
RECORD_COLUMNS = LESSON_COLUMNS
PATHS = ("full", "rebuild", "incremental", "pandas", "postgres", "floor")


def _epoch(day: dt.date) -> int:
    return (day - EPOCH).days


def _date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


# --- The data set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The simulated region on disk and the screening date chosen in it."""

    root: Path
    key: str
    dates: np.ndarray  # every school day with lesson records, epoch days, sorted (int32)
    pupils: int  # max pupil_id + 1
    as_of: dt.date  # the last school day in the data
    term_start: dt.date
    records: int

    def files(self, table: str = "attendance") -> list[Path]:
        return sorted((self.root / table).glob("part-*.parquet"))

    @property
    def pupil_days_path(self) -> Path:
        return self.root / "pupil_days_by_pupil.parquet"


def dataset(pupils: int, seed: int, report: Report) -> Dataset:
    """The region of `pupils` pupils, generated into the cache when missing (or incomplete)."""
    key = f"region-{pupils}-s{seed}"
    root = cache_dir() / key
    if not any((root / "truth").glob("part-*.parquet")):  # truth is written last
        from fullfolj.simulation import engine, parquet

        report.say(f"  generating {key} (simulator, {YEARS} school year) into {root} …")
        started = time.perf_counter()
        today = _today()
        first_year = (today.year if today.month >= 8 else today.year - 1) - YEARS
        params = engine.Parameters(
            pupils=pupils, years=YEARS, seed=seed, first_school_year=first_year
        )
        counts = parquet.write(params, root)
        (root / "pupil_days_by_pupil.parquet").unlink(missing_ok=True)
        report.say(
            f"  generated {counts.get('attendance', 0):,} lesson records in "
            f"{time.perf_counter() - started:.1f} s"
        )
    scan = pl.scan_parquet([str(p) for p in sorted((root / "attendance").glob("part-*.parquet"))])
    per_day = scan.group_by("date").agg(pl.len()).sort("date").collect()
    stats = scan.select(pl.col("pupil_id").max(), pl.len()).collect()
    dates = per_day["date"].cast(pl.Int32).to_numpy().astype(np.int32)
    as_of = per_day["date"][-1]
    terms = pl.read_parquet(root / "terms").filter(
        (pl.col("start") <= as_of) & (pl.col("end") >= as_of)
    )
    if terms.height != 1:
        raise RuntimeError(f"{key}: no term holds the last school day {as_of}.")
    return Dataset(
        root=root,
        key=key,
        dates=dates,
        pupils=int(stats["pupil_id"][0]) + 1,
        as_of=as_of,
        term_start=terms["start"][0],
        records=int(stats["len"][0]),
    )


def term_of(data: Dataset, day: dt.date) -> dt.date:
    """The first day of the term that holds `day`."""
    terms = pl.read_parquet(data.root / "terms").filter(
        (pl.col("start") <= day) & (pl.col("end") >= day)
    )
    return terms["start"][0]


def _today() -> dt.date:
    try:
        from fullfolj.lib import clock

        return clock.today()
    except Exception:
        return dt.datetime.now(tz=dt.UTC).date()


# --- The kept aggregate -----------------------------------------------------------------------


def lesson_records(path: Path, first: dt.date | None = None, last: dt.date | None = None):
    """One school week's lesson records (the columns the aggregate needs), lazily."""
    scan = pl.scan_parquet(path).select(LESSON_COLUMNS)
    if first is None and last is None:
        return scan
    return scan.filter(pl.col("date").is_between(first or dt.date.min, last or dt.date.max))


def build_aggregate(data: Dataset) -> pl.DataFrame:
    """PupilDay's rows from every lesson record in (pupil, date) order, as Fullfölj re-imports
    a year (`fullfolj.attendance.columnar.read_pupil_days`)."""
    return columnar.read_pupil_days(data.files())


def kept_aggregate(data: Dataset, report: Report) -> pl.DataFrame:
    """The kept aggregate in PupilDay's long form and (pupil, date) order, from the cache
    (built once when missing)."""
    path = data.pupil_days_path
    if not path.exists():
        started = time.perf_counter()
        frame = build_aggregate(data)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        frame.write_parquet(partial, compression="zstd")
        partial.replace(path)
        report.say(
            f"  kept aggregate: built {frame.height:,} pupil days in "
            f"{time.perf_counter() - started:.1f} s → {path}"
        )
        return frame
    return pl.read_parquet(path)


# --- Windows and rules ------------------------------------------------------------------------


def screening_setup(data: Dataset) -> tuple[dict[str, tuple[dt.date, dt.date]], tuple]:
    """The windows the default rules need (term, 4 weeks, the 4 weeks before, the last 20 and
    the 120 school days before those) and the default rules whose indicators are attendance
    figures (the grade rules need grades). School-day windows count the data's school days."""
    from fullfolj.screening.engine import default_rules, windows_for

    rules = default_rules()
    windows = windows_for(rules)
    school_days = data.dates.astype(np.int64)
    bounds = {w.key: w.bounds(data.as_of, data.term_start, school_days) for w in windows}
    attendance_rules = tuple(
        r for r in rules if all(c.indicator in _SUPPORTED for c in (r, *r.also))
    )
    return bounds, attendance_rules


_SUPPORTED = {
    "absence_total": "absent",
    "absence_valid": "valid",
    "absence_invalid": "invalid",
    "absence_unknown": "unknown",
    "absence_trend": "absent",
    "invalid_trend": "invalid",
    "whole_day_run": "longest_run",
    "whole_days": "whole_days",
    "skip_days": "skip_days",
    "skipped_lessons": "skipped_lessons",
    "late_count": "late_count",
    "late_skip_trend": "late_count",  # and skipped_lessons: see _late_skip
}


def flag_rules(figures: Mapping[str, np.ndarray], rules: Sequence) -> dict[str, np.ndarray]:
    """Pupil ids flagged by each rule, in integer arithmetic as the engine compares them."""
    flags: dict[str, np.ndarray] = {}
    for one in rules:
        fires = np.ones(len(figures["pupil_id"]), bool)
        for condition in (one, *one.also):
            num, den = _fraction(figures, condition)
            p, q = Decimal(condition.threshold).as_integer_ratio()
            left, right = num * q, den * p
            holds = {
                ">=": left >= right,
                ">": left > right,
                "<=": left <= right,
                "<": left < right,
            }[condition.comparison]
            fires &= holds & (den > 0)
        flags[one.id] = figures["pupil_id"][fires]
    return flags


def _fraction(figures: Mapping[str, np.ndarray], condition) -> tuple[np.ndarray, np.ndarray]:
    key = condition.window.key
    part = _SUPPORTED[condition.indicator]
    if condition.indicator == "late_skip_trend":
        return _late_skip(figures, key, (condition.baseline or condition.window.before).key)
    if condition.indicator.endswith("_trend"):
        before = (condition.baseline or condition.window.before).key
        a1, s1 = figures[f"{key}_{part}"], figures[f"{key}_scheduled"]
        a0, s0 = figures[f"{before}_{part}"], figures[f"{before}_scheduled"]
        return 100 * (a1 * s0 - a0 * s1), s1 * s0
    if condition.indicator.startswith("absence_"):
        return 100 * figures[f"{key}_{part}"], figures[f"{key}_scheduled"]
    return figures[f"{key}_{part}"], np.ones_like(figures[f"{key}_{part}"])


def _late_skip(
    figures: Mapping[str, np.ndarray], key: str, before: str
) -> tuple[np.ndarray, np.ndarray]:
    """`engine.late_skip_score` in numpy, in the same order of float operations, so the
    hundredths agree to the bit; undefined (den 0) below the baseline's minimum of days."""
    from fullfolj.screening.engine import RISE_FIGURES, RISE_MIN_BASELINE_DAYS, RISE_PRIOR_DAYS

    total = np.zeros(len(figures["pupil_id"]))
    with np.errstate(invalid="ignore", divide="ignore"):  # no school days: undefined, below
        for figure in RISE_FIGURES:
            rate = (figures[f"{before}_{figure}"] + 1) / (
                figures[f"{before}_days"] + RISE_PRIOR_DAYS
            )
            expected = rate * figures[f"{key}_days"]
            total = total + (figures[f"{key}_{figure}"] - expected) / np.sqrt(expected)
        defined = (figures[f"{before}_days"] >= RISE_MIN_BASELINE_DAYS) & (
            figures[f"{key}_days"] > 0
        )
        num = np.where(defined, np.floor(100 * total + 0.5), 0).astype(np.int64)
    return num, np.where(defined, 100, 0)


# --- Our path: the product's screening engine ------------------------------------------------


def screen_product(
    days: pl.DataFrame | None,
    data: Dataset,
    bounds: Mapping[str, object],
    rules: Sequence,
    nightly=None,  # a NightlyIndicators at data.as_of instead of the days
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """`fullfolj.screening.engine` over the kept aggregate (or the nightly job's kept window
    sums): the figures and each rule's flags."""
    from fullfolj.screening.engine import Window, compute_indicators, screen

    if nightly is not None:
        indicators = nightly.indicators()
    else:
        indicators = compute_indicators(
            days,
            as_of=data.as_of,
            term_start=data.term_start,
            windows=[Window.from_key(key) for key in bounds],
        )
    flagged = screen(indicators, rules)
    flags = {
        r.id: np.sort(flagged.filter(pl.col("rule_id") == r.id)["pupil_id"].to_numpy())
        for r in rules
    }
    columns = ["pupil_id", *[f"{key}_{name}" for key in bounds for name in FIGURES]]
    return indicators.select([pl.col(c).cast(pl.Int64) for c in columns]), flags


# --- Baselines --------------------------------------------------------------------------------


def load_pandas(data: Dataset, first: dt.date, last: dt.date):  # -> pd.DataFrame
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
    lessons, as_of: dt.date, bounds: Mapping[str, tuple[dt.date, dt.date]]
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
    estimate = (2 * days["invalid"] * days["lessons"] + days["scheduled"]) // (2 * days["scheduled"])
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


def _pg_connect(database: str):
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
                count = conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]
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


def _pg_load(conn, data: Dataset, table: str, report: Report) -> None:
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


def postgres_query(table: str, as_of: dt.date, bounds: Mapping[str, tuple[dt.date, dt.date]]):
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
            ("skipped_lessons",
             "sum(greatest((2 * i * n + s) / (2 * s), 1)) FILTER (WHERE i > 0 AND NOT whole AND "
             "{inside})"),
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
        names = [d.name for d in cursor.description]
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pl.DataFrame(
        {
            name: pl.Series(name, values, pl.Int64)
            for name, values in zip(names, columns, strict=True)
        }
    )


# --- Checking ------------------------------------------------------------------------------


def compare(expected: pl.DataFrame, got: pl.DataFrame) -> tuple[int, list[str]]:
    """Mismatching values (pupils missing on either side count once per figure)."""
    columns = [c for c in expected.columns if c != "pupil_id"]
    joined = expected.join(got.select(expected.columns), on="pupil_id", how="full", suffix="_got")
    notes: list[str] = []
    total = 0
    only = joined.filter(pl.col("pupil_id").is_null() | pl.col("pupil_id_got").is_null()).height
    if only:
        notes.append(f"{only} pupils on one side only")
        total += only * len(columns)
    both = joined.filter(pl.col("pupil_id").is_not_null() & pl.col("pupil_id_got").is_not_null())
    for column in columns:
        wrong = both.filter(pl.col(column) != pl.col(f"{column}_got")).height
        if wrong:
            notes.append(f"{column}: {wrong}")
            total += wrong
    return total, notes


def compare_flags(expected: Mapping[str, np.ndarray], got: Mapping[str, np.ndarray]) -> int:
    wrong = 0
    for rule_id in set(expected) | set(got):
        a = set(np.asarray(expected.get(rule_id, []), np.int64).tolist())
        b = set(np.asarray(got.get(rule_id, []), np.int64).tolist())
        wrong += len(a ^ b)
    return wrong


# --- The benchmark --------------------------------------------------------------------------


def run(options: Options, report: Report) -> None:
    extra = options.extra
    seed = int(extra.get("seed", SEED))
    database = str(extra.get("pg_database", PG_DATABASE))
    skip = set(extra.get("skip", ()))  # e.g. {"postgres"}
    only = set(extra.get("only") or ())  # `--only rebuild,incremental`: full and floor always run
    if only:
        skip |= set(PATHS) - only - {"full", "floor"}
    repeat = max(1, options.repeat)
    slow_repeat = 1 if options.pupils >= SLOW_BASELINE_PUPILS else repeat
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    data = dataset(options.pupils, seed, report)
    bounds, rules = screening_setup(data)
    report.say(
        f"screening {data.key}: {data.records:,} lesson records, {len(data.dates)} school days, "
        f"as of {data.as_of} (term from {data.term_start}); windows "
        + ", ".join(f"{k} {a}..{b}" for k, (a, b) in bounds.items())
        + "; rules "
        + ", ".join(r.id for r in rules)
    )
    times: dict[str, float] = {}
    problems: list[str] = []
    mismatches = 0

    def check(name: str, expected: pl.DataFrame, got: pl.DataFrame) -> None:
        nonlocal mismatches
        wrong, notes = compare(expected, got)
        report.say(
            f"  check {name:<12} {got.height:,} pupils × {len(got.columns) - 1} figures: "
            f"{wrong} mismatches" + (f" ({'; '.join(notes[:8])})" if notes else "")
        )
        mismatches += wrong
        if wrong:
            problems.append(f"{name}: {wrong} mismatches")

    def check_flags(name: str, expected: Mapping, got: Mapping) -> None:
        nonlocal mismatches
        wrong = compare_flags(expected, got)
        counts = ", ".join(f"{k} {len(v)}" for k, v in got.items())
        report.say(f"  check {name:<12} flags ({counts}): {wrong} mismatches")
        mismatches += wrong
        if wrong:
            problems.append(f"{name} flags: {wrong} mismatches")

    # The kept aggregate, loaded before timing as a nightly job reads it from PupilDay: the
    # days its windows reach, in the unique index's (pupil, date) order.
    first = min(start for start, _ in bounds.values())
    days = kept_aggregate(data, report).filter(pl.col("date").is_between(first, data.as_of))
    report.say(
        f"  kept aggregate: {days.height:,} pupil days from {first} to {data.as_of} in "
        "(pupil, date) order"
    )

    times["full"], (expected, flags) = report.time(
        "full", lambda: screen_product(days, data, bounds, rules), repeat=repeat
    )
    # The rules once more, in numpy over the figures: the engine's flags must agree.
    figures = {c: expected[c].to_numpy() for c in expected.columns}
    check_flags("full", flag_rules(figures, rules), flags)

    # Re-importing the year: every lesson record into a new aggregate, then screening.
    def rebuild() -> tuple[pl.DataFrame, dict]:
        return screen_product(build_aggregate(data), data, bounds, rules)

    if "rebuild" not in skip:
        times["rebuild"], (rebuilt, rebuilt_flags) = report.time("rebuild", rebuild, repeat=repeat)
        check("rebuild", expected, rebuilt)
        check_flags("rebuild", flags, rebuilt_flags)
        del rebuilt
        gc.collect()

    # The nightly job: the day's lessons added to the previous school day's kept window sums
    # (built here, untimed, as the job keeps them from one night to the next), then screening.
    from fullfolj.screening.engine import Window
    from fullfolj.screening.nightly import NightlyIndicators

    if "incremental" not in skip:
        day_file = next(
            p
            for p in data.files()
            if lesson_records(p, data.as_of, data.as_of).select(pl.len()).collect().item()
        )
        day = lesson_records(day_file, data.as_of, data.as_of).collect()
        previous = _date(data.dates[-2])
        yesterday = NightlyIndicators.start(
            days.filter(pl.col("date") <= previous),
            as_of=previous,
            term_start=term_of(data, previous),
            windows=[Window.from_key(key) for key in bounds],
        )
        days = None

        def incremental() -> tuple[pl.DataFrame, dict]:
            today = yesterday.add_lessons(day, day=data.as_of, term_start=data.term_start)
            return screen_product(None, data, bounds, rules, nightly=today)

        times["incremental"], (after, after_flags) = report.time(
            "incremental", incremental, repeat=repeat
        )
        report.say(f"  (incremental added {day.height:,} lesson records of {data.as_of})")
        check("incremental", expected, after)
        check_flags("incremental", flags, after_flags)
        after = day = yesterday = None  # free memory before the next path
    days = None
    gc.collect()

    ours_peak = peak_rss_mb()  # before the baselines, which hold the lesson records
    # The floor: one pass over the absence minutes of every lesson record, in memory.
    absent = np.concatenate(
        [pq.read_table(p, columns=["absent_minutes"]).column(0).to_numpy() for p in data.files()]
    )
    times["floor"], _ = report.time("floor", lambda: absent.sum(), repeat=max(repeat, 5))
    absent = None
    gc.collect()

    if "pandas" not in skip:
        lessons = load_pandas(data, first, data.as_of)
        report.say(f"  (pandas holds {len(lessons):,} lesson records from {first} to {data.as_of})")
        times["pandas"], result = report.time(
            "pandas", lambda: screen_pandas(lessons, data.as_of, bounds), repeat=slow_repeat
        )
        check("pandas", expected, result)
        del lessons, result
        gc.collect()

    if "postgres" not in skip:
        table = postgres_table(data, database, report)
        times["postgres"], result = report.time(
            "postgres",
            lambda: screen_postgres(database, table, data.as_of, bounds),
            repeat=slow_repeat,
        )
        check("postgres", expected, result)

    report.say(f"  total wall time of the benchmark: {time.perf_counter() - started:.0f} s")
    report.say(
        f"  load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        f"end, on {os.cpu_count()} cores: with a busy machine wall times exceed CPU times"
    )
    report.say("  path           wall s     cpu s   wall/full  wall/floor")
    for name in ("full", "rebuild", "incremental", "pandas", "postgres", "floor"):
        if name in times:
            cpu = report.cpu.get(name, float("nan"))
            note = " (client only; the server's time is not counted)" if name == "postgres" else ""
            report.say(
                f"  {name:<12} {times[name]:8.3f}  {cpu:8.3f}  {times[name] / times['full']:9.1f}"
                f"  {times[name] / times['floor']:10.1f}{note}"
            )
    report.say(
        "  (full, rebuild and incremental are the product's paths: fullfolj.screening.engine over "
        "the kept aggregate, rebuilt by fullfolj.attendance.columnar; incremental carries the "
        "window sums with fullfolj.screening.nightly)"
    )
    for name in ("full", "rebuild", "incremental", "pandas", "postgres", "floor"):
        if name in times:
            report.figure(name, times[name], "s")
    for name in ("full", "rebuild", "incremental", "floor"):
        if name in report.cpu:
            report.figure(f"{name}_cpu", report.cpu[name], "s")
    ratios = (
        ("pandas_vs_full", "pandas", "full"),
        ("postgres_vs_full", "postgres", "full"),
        ("incremental_vs_floor", "incremental", "floor"),
    )
    for label, slow, fast in ratios:
        if slow in times and fast in times:
            ratio = times[slow] / times[fast]
            report.figure(label, round(ratio, 1) if ratio >= 100 else ratio, "x")
    report.figure("mismatches", mismatches, "values")
    report.figure("peak_memory_ours", round(ours_peak), "MB")
    if problems:
        report.finish()
        raise RuntimeError("screening: the paths disagree: " + "; ".join(problems))
