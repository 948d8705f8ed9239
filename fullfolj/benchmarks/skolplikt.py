"""`fullfolj bench skolplikt`: the compulsory-school match on a region-size register.

A generated register of 1,000,000 residents (120,000 of compulsory-school age; `--pupils` sets
that number and the rest scales with it) and about 130,000 placements, with every kind of
mismatch, cached as Parquet under $FULLFOLJ_CACHE. Timed in the same run: the Polars engine
(compulsory/engine.py, reading the Parquet files included) and its plain-SQL reference
(compulsory/reference.py) over the same rows loaded by COPY into PostgreSQL (`--pg-database`,
default fullfolj_skolpliktbench). The two must find the same children. Target: under 5 s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fullfolj.access.gate import compulsory_school_birth_years
from fullfolj.compulsory import engine, reference

from . import Options, Report, cache_dir

DEFAULT_PUPILS = 120_000
RESIDENTS_PER_PUPIL = 1_000_000 / 120_000
HOME = "1480"
DAY = dt.date(2026, 3, 18)
SINCE = DAY - dt.timedelta(days=60)
PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
PG_DATABASE = "fullfolj_skolpliktbench"
WEIGHTS = np.array([2, 1, 2, 1, 2, 1, 2, 1, 2])


def _pnr(born: np.ndarray, serial: np.ndarray) -> pl.Series:
    """Valid personnummer (Luhn check digit) for birth dates and serials, vectorised."""
    days = born.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(int) + 1970
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    mday = (days - days.astype("datetime64[M]")).astype(int) + 1
    yy = years % 100
    digits = np.stack(
        [
            yy // 10,
            yy % 10,
            months // 10,
            months % 10,
            mday // 10,
            mday % 10,
            serial // 100,
            serial // 10 % 10,
            serial % 10,
        ],
        axis=1,
    )
    products = digits * WEIGHTS
    total = (products - 9 * (products > 9)).sum(axis=1)
    check = (10 - total % 10) % 10
    frame = pl.DataFrame({"y": years, "m": months, "d": mday, "s": serial, "c": check})
    return frame.select(
        pl.format(
            "{}{}{}-{}{}",
            pl.col("y"),
            pl.col("m").cast(pl.String).str.zfill(2),
            pl.col("d").cast(pl.String).str.zfill(2),
            pl.col("s").cast(pl.String).str.zfill(3),
            pl.col("c"),
        )
    ).to_series()


def generate(pupils: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The register and the placements, with each kind of mismatch in known shares."""
    rng = np.random.default_rng(seed)
    total = round(pupils * RESIDENTS_PER_PUPIL)
    first, last = compulsory_school_birth_years(DAY)
    school_age = np.datetime64(f"{first}-01-01") + rng.integers(
        0,
        (np.datetime64(f"{last}-12-31") - np.datetime64(f"{first}-01-01")).astype(int) + 1,
        pupils,
    ).astype("timedelta64[D]")
    others = np.datetime64("1930-01-01") + rng.integers(
        0,
        (np.datetime64(f"{first}-01-01") - np.datetime64("1930-01-01")).astype(int),
        total - pupils,
    ).astype("timedelta64[D]")
    younger = rng.random(total - pupils) < 0.08  # children not yet of school age
    others[younger] = np.datetime64(f"{last + 1}-01-01") + rng.integers(
        0, 6 * 365, int(younger.sum())
    ).astype("timedelta64[D]")
    born = np.concatenate([school_age, others])
    frame = pl.DataFrame({"born": born.astype("datetime64[D]")}).with_columns(
        pl.int_range(pl.len()).over("born").alias("serial")
    )
    pnr = _pnr(frame["born"].to_numpy(), frame["serial"].to_numpy() % 1000)
    n = total
    code = np.full(n, HOME, dtype=object)
    moved_in = np.full(n, None, dtype=object)
    moved_out = np.full(n, None, dtype=object)
    away = rng.random(n) < 0.03
    code[away] = "1401"
    recent_out = away & (rng.random(n) < 0.1)
    moved_out[recent_out] = DAY - dt.timedelta(days=30)
    recent_in = ~away & (rng.random(n) < 0.01)
    moved_in[recent_in] = DAY - dt.timedelta(days=20)
    residents = pl.DataFrame(
        {
            "pnr": pnr,
            "birth_date": born.astype("datetime64[D]"),
            "municipality_code": code.astype(str),
            "moved_in": pl.Series(moved_in.tolist(), dtype=pl.Date),
            "moved_out": pl.Series(moved_out.tolist(), dtype=pl.Date),
        }
    )
    # Placements: most school-age children one running placement; some two, some ended,
    # some none; pupils from elsewhere at our schools.
    kids = np.arange(pupils)
    roll = rng.random(pupils)
    placed = kids[roll < 0.975]
    two = kids[(roll >= 0.975) & (roll < 0.98)]
    ended = kids[(roll >= 0.98) & (roll < 0.99)]
    start = dt.date(2025, 8, 18)
    rows: list[pl.DataFrame] = []

    def add(
        index: np.ndarray, school: np.ndarray, own: bool, begin: dt.date, end: dt.date | None
    ) -> None:
        rows.append(
            pl.DataFrame(
                {
                    "pnr": pnr.gather(index),
                    "school": pl.Series(school.astype(str)),
                    "own": pl.repeat(own, len(index), eager=True),
                    "start": pl.repeat(begin, len(index), eager=True),
                    "end": pl.Series([end] * len(index), dtype=pl.Date),
                }
            )
        )

    add(placed, 10000000 + rng.integers(0, 600, len(placed)), True, start, None)
    add(two, 10000000 + rng.integers(0, 600, len(two)), True, start, None)
    add(two, 20000000 + rng.integers(0, 80, len(two)), False, dt.date(2026, 1, 8), None)
    add(ended, 20000000 + rng.integers(0, 80, len(ended)), False, start, dt.date(2026, 1, 31))
    outside = np.flatnonzero(away & (np.arange(n) >= pupils))[: pupils // 12]
    add(outside, 10000000 + rng.integers(0, 600, len(outside)), True, start, None)
    placements = pl.concat(rows)
    return residents, placements


def _cached(pupils: int, report: Report) -> tuple[Path, Path]:
    folder = cache_dir() / f"skolplikt-{pupils}-2"
    residents, placements = folder / "residents.parquet", folder / "placements.parquet"
    if not placements.exists():
        report.say(f"  generating the register for {pupils:,} children of school age …")
        folder.mkdir(parents=True, exist_ok=True)
        res, plc = generate(pupils)
        res.write_parquet(residents)
        plc.write_parquet(placements)
    return residents, placements


def _polars(residents: Path, placements: Path) -> dict[str, list[str]]:
    found = engine.match(
        pl.scan_parquet(residents),
        pl.scan_parquet(placements),
        day=DAY,
        home_code=HOME,
        birth_years=compulsory_school_birth_years(DAY),
        since=SINCE,
    )
    return {kind: frame["pnr"].to_list() for kind, frame in found.items()}


def _pg_load(database: str, residents: Path, placements: Path, report: Report) -> Any:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_DSN} dbname=postgres", autocommit=True, connect_timeout=5) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    conn = psycopg.connect(f"{PG_DSN} dbname={database}", autocommit=True, connect_timeout=5)
    key = f"{residents.parent.name}"
    conn.execute("CREATE TABLE IF NOT EXISTS bench_marker (key text PRIMARY KEY)")
    if conn.execute("SELECT 1 FROM bench_marker WHERE key = %s", [key]).fetchone():
        return conn
    report.say("  loading the register into PostgreSQL by COPY …")
    with conn.transaction():
        conn.execute("DROP TABLE IF EXISTS residents, placements")
        conn.execute("DELETE FROM bench_marker")
        conn.execute(
            "CREATE UNLOGGED TABLE residents (pnr text PRIMARY KEY, birth_date date, "
            "municipality_code text, moved_in date, moved_out date)"
        )
        conn.execute(
            'CREATE UNLOGGED TABLE placements (pnr text, school text, own boolean, start date, "end" date)'
        )
        for table, path in (("residents", residents), ("placements", placements)):
            buffer = io.BytesIO()
            pl.read_parquet(path).write_csv(buffer, include_header=False)
            with conn.cursor().copy(
                sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(sql.Identifier(table))
            ) as copy:
                copy.write(buffer.getvalue())
        conn.execute("CREATE INDEX ON placements (pnr)")
        conn.execute("INSERT INTO bench_marker VALUES (%s)", [key])
    conn.execute("ANALYZE residents")
    conn.execute("ANALYZE placements")
    return conn


def run(options: Options, report: Report) -> None:
    residents, placements = _cached(options.pupils, report)
    rows = pl.scan_parquet(residents).select(pl.len()).collect().item()
    plc = pl.scan_parquet(placements).select(pl.len()).collect().item()
    report.say(f"  register {rows:,} residents, {plc:,} placements")
    seconds, ours = report.time(
        "polars", lambda: _polars(residents, placements), repeat=options.repeat
    )
    report.figure("polars", seconds, "s")
    database = options.extra.get("pg_database") or PG_DATABASE
    conn = _pg_load(database, residents, placements, report)
    with conn:
        cursor = conn.cursor()
        pg_seconds, theirs = report.time(
            "postgres_sql",
            lambda: reference.lists(
                cursor,
                "residents",
                "placements",
                day=DAY,
                home_code=HOME,
                birth_years=compulsory_school_birth_years(DAY),
                since=SINCE,
            ),
            repeat=options.repeat,
        )
    report.figure("postgres_sql", pg_seconds, "s")
    agree = {k: sorted(v) for k, v in ours.items()} == theirs
    report.say("  found per list: " + ", ".join(f"{k} {len(v):,}" for k, v in theirs.items()))
    report.say(f"  the two agree: {'yes' if agree else 'NO'}")
    report.figure("residents", rows, "rows")
    report.figure("placements", plc, "rows")
    report.figure("agree", int(agree), "")
