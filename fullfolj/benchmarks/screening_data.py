"""The screening benchmark's data set: the simulated region on disk (generated into the cache
when missing), the screening date chosen in it, and the kept per-pupil, per-day aggregate."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from fullfolj.attendance import columnar
from fullfolj.attendance.columnar import LESSON_COLUMNS
from fullfolj.benchmarks import Report, cache_dir

YEARS = 1
EPOCH = dt.date(1970, 1, 1)


def date_of(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


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
    start: dt.date = terms["start"][0]
    return start


def _today() -> dt.date:
    try:
        from fullfolj.lib import clock

        return clock.today()
    except Exception:
        return dt.datetime.now(tz=dt.UTC).date()


# --- The kept aggregate -----------------------------------------------------------------------


def lesson_records(
    path: Path, first: dt.date | None = None, last: dt.date | None = None
) -> pl.LazyFrame:
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
