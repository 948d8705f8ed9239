"""The kept per-pupil, per-day aggregate (PupilDay's figures) from lesson records, in Polars.

The same figures as `actions._AGGREGATE_SELECT` computes in the database, for bulk work outside
it: re-importing a year of lesson records, and keeping a screening's in-memory copy of the
aggregate up to date one school day at a time. The screening engine reads the aggregate in
(pupil, date) order, the order of PupilDay's unique index, so these functions keep that order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

# PupilDay's figures, in its column order.
DAY_COLUMNS = (
    "lessons",
    "scheduled_minutes",
    "absent_minutes",
    "valid_minutes",
    "invalid_minutes",
    "unknown_minutes",
    "late_minutes",
    "late_count",
)
LESSON_SCHEMA = {
    "pupil_id": pl.Int32,
    "date": pl.Date,
    "scheduled_minutes": pl.Int16,
    "absent_minutes": pl.Int16,
    "late_minutes": pl.Int16,
    "is_valid": pl.Boolean,
}
LESSON_COLUMNS = tuple(LESSON_SCHEMA)


def pupil_days(lessons: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """One row per pupil and date with PupilDay's figures (Int16, as stored), from lesson
    records with LESSON_COLUMNS (`is_valid` null: not yet known whether the absence is valid)."""
    absent = pl.col("absent_minutes").cast(pl.Int32)

    def minutes_where(condition: pl.Expr) -> pl.Expr:
        return pl.when(condition).then(absent).otherwise(0).sum()

    figures = (
        lessons.lazy()
        .group_by("pupil_id", "date")
        .agg(
            lessons=pl.len(),
            scheduled_minutes=pl.col("scheduled_minutes").cast(pl.Int32).sum(),
            absent_minutes=absent.sum(),
            valid_minutes=minutes_where(pl.col("is_valid") == True),  # noqa: E712 - null: unknown
            invalid_minutes=minutes_where(pl.col("is_valid") == False),  # noqa: E712
            unknown_minutes=minutes_where(pl.col("is_valid").is_null()),
            late_minutes=pl.col("late_minutes").cast(pl.Int32).sum(),
            late_count=(pl.col("late_minutes") > 0).sum(),
        )
    )
    return figures.select(
        pl.col("pupil_id").cast(pl.Int32), "date", *[pl.col(c).cast(pl.Int16) for c in DAY_COLUMNS]
    )


def in_pupil_order(days: pl.DataFrame) -> pl.DataFrame:
    """The aggregate sorted by (pupil, date): one parallel sort on a combined integer key."""
    key = pl.col("pupil_id").cast(pl.Int64) * 65_536 + pl.col("date").to_physical()
    return days.sort(key)


def add_days(kept: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """`kept` (in pupil, date order) with the rows of `new` inserted in their places.

    A row of `new` for a pupil and date already kept is refused: correcting a kept day is a
    replace, not an add. Costs one copy of each column, not a sort.
    """
    new = in_pupil_order(new.select(kept.columns))
    kept_keys, new_keys = _keys(kept), _keys(new)
    at = np.searchsorted(kept_keys, new_keys)
    taken = at < len(kept_keys)
    if np.any(kept_keys[at[taken]] == new_keys[taken]):
        raise ValueError("add_days: a pupil's day in the new rows is already in the aggregate")
    columns = {}
    for name, dtype in kept.schema.items():
        old, added = kept[name].to_physical().to_numpy(), new[name].to_physical().to_numpy()
        columns[name] = pl.Series(name, np.insert(old, at, added)).cast(dtype)
    return pl.DataFrame(columns)


def _keys(days: pl.DataFrame) -> np.ndarray:
    # 16 bits of days since 1970 reach 2149; pupil ids keep the other 47.
    pupil = days["pupil_id"].to_numpy().astype(np.int64)
    keys: np.ndarray = (pupil << 16) | days["date"].to_physical().to_numpy().astype(np.int64)
    return keys


# --- Re-importing a year: the aggregate straight from the lesson records' Parquet files ----

_PACK = 17  # bits per figure packed into a float64 weight: three lanes stay under 2**53
_MAX_CELLS = 1_500_000_000  # (pupil id range × calendar days) past which ids are hashed


def read_pupil_days(paths: Sequence[str | Path]) -> pl.DataFrame:
    """`pupil_days` of every lesson record in the Parquet files `paths`, in (pupil, date) order.

    For re-importing a year of lesson records. The files' statistics give the pupil ids and
    dates; every pupil day is a cell of a (day, pupil) grid, and each file, read for
    LESSON_COLUMNS only (the next one read in a thread meanwhile), is summed into its days'
    rows with `np.bincount`: no hash grouping and no sort. Day-major cells keep the scatter
    within a few days' rows (cache-sized); the non-empty cells are then read in (pupil, date)
    order through the grid's transpose. Figures are packed three to a float64 weight, exact
    while a day's sum stays under 2**17 (checked; else summed one by one). Pupil ids too sparse
    for a grid, or files without statistics, take `pupil_days` and `in_pupil_order`.
    """
    bounds = _bounds([Path(p) for p in paths])
    if bounds is None:
        frames = [pupil_days(pl.scan_parquet(p).select(LESSON_COLUMNS)) for p in paths]
        days = pl.concat(pl.collect_all(frames)) if frames else pupil_days(_no_lessons())
        return in_pupil_order(days.lazy().collect())
    low, high, first, last = bounds
    pupils, calendar = high - low + 1, last - first + 1
    grid = np.zeros((len(DAY_COLUMNS), calendar, pupils), np.int16)  # figure, day, pupil
    buffers = _Buffers()
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(_read, paths[0]) if paths else None
        for i in range(len(paths)):
            lessons = pending.result()  # type: ignore[union-attr]
            pending = reader.submit(_read, paths[i + 1]) if i + 1 < len(paths) else None
            if lessons.height:
                _add_to_grid(grid, lessons, low, first, buffers)
            del lessons
    del buffers
    present = np.greater(grid[0].T, 0, order="C")  # (pupil, day): PupilDay's rows, in order
    per_pupil = present.sum(axis=1)
    day_grid = np.broadcast_to(np.arange(first, last + 1, dtype=np.int32), present.shape)
    columns = {
        "pupil_id": pl.Series(
            "pupil_id", np.repeat(np.arange(low, high + 1, dtype=np.int32), per_pupil)
        ),
        "date": pl.Series("date", day_grid[present]).cast(pl.Date),
    }
    for i, name in enumerate(DAY_COLUMNS):
        columns[name] = pl.Series(name, grid[i].T[present])  # strided, but 1 row a day: cached
    return pl.DataFrame(columns)


def _no_lessons() -> pl.DataFrame:
    return pl.DataFrame(schema=LESSON_SCHEMA)


def _bounds(paths: Sequence[Path]) -> tuple[int, int, int, int] | None:
    """(least, greatest pupil id, first, last epoch day) from the Parquet statistics, or None
    when a file has none or the grid would be too large."""
    lows, highs, firsts, lasts = [], [], [], []
    for path in paths:
        meta = pq.ParquetFile(path).metadata
        names = meta.schema.to_arrow_schema().names
        pupil, date = names.index("pupil_id"), names.index("date")
        for group in range(meta.num_row_groups):
            if not meta.row_group(group).num_rows:
                continue
            ids = meta.row_group(group).column(pupil).statistics
            dates = meta.row_group(group).column(date).statistics
            if ids is None or dates is None or not (ids.has_min_max and dates.has_min_max):
                return None
            lows.append(ids.min)
            highs.append(ids.max)
            firsts.append(dates.min)
            lasts.append(dates.max)
    if not lows:
        return None
    low, high = int(min(lows)), int(max(highs))
    first, last = (min(firsts) - _EPOCH).days, (max(lasts) - _EPOCH).days
    if (high - low + 1) * (last - first + 1) > _MAX_CELLS:
        return None
    return low, high, first, last


_EPOCH = dt.date(1970, 1, 1)
_MINUTES = ("scheduled_minutes", "absent_minutes", "late_minutes")


def _read(path: str | Path) -> pl.DataFrame:
    # Polars' reader decodes these columns in about half pyarrow's time.
    return pl.read_parquet(path, columns=list(LESSON_COLUMNS))


class _Buffers:
    """Per-record work arrays kept from one file to the next: fresh ones would cost a page
    fault every 4 KB, more than the arithmetic done in them."""

    def __init__(self) -> None:
        self.size = 0

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if n > self.size:
            self.size = n
            self.cell = np.empty(n, np.int64)
            self.packed, self.split, self.work = (np.empty(n, np.float64) for _ in range(3))
        return self.cell[:n], self.packed[:n], self.split[:n], self.work[:n]


def _add_to_grid(
    grid: np.ndarray, lessons: pl.DataFrame, low: int, first: int, buffers: _Buffers
) -> None:
    """Sum one file's lesson records into their (day, pupil) cells of `grid`."""
    pupils = grid.shape[2]
    date = lessons["date"].to_physical().to_numpy()
    day0, day1 = int(date.min()), int(date.max()) + 1
    cells = (day1 - day0) * pupils  # the file's days' rows of the grid
    cell, packed, split, work = buffers.get(lessons.height)
    np.multiply(date, pupils, out=cell, dtype=np.int64)
    np.add(cell, lessons["pupil_id"].to_numpy(), out=cell)
    np.subtract(cell, day0 * pupils + low, out=cell)
    most, least = lessons.select(
        most=pl.max_horizontal(pl.col(_MINUTES).max()),
        least=pl.min_horizontal(pl.col(_MINUTES).min()),
    ).row(0)
    count = np.bincount(cell, minlength=cells)
    if least >= 0 and int(count.max()) * max(most, 1) <= _SMALLINT[1]:
        # No day's sum reaches 2**15 (nor a lane's 2**17): packed, and no range check needed.
        figures = _packed_sums(lessons, cell, cells, (packed, split, work))
        figures["lessons"] = count
    else:
        figures = lesson_sums(lessons, cell, cells)  # one by one; refuses beyond smallint
    rows = slice(day0 - first, day1 - first)
    for i, name in enumerate(DAY_COLUMNS):
        grid[i, rows] += figures[name].reshape(day1 - day0, pupils).astype(np.int16)


def _packed_sums(
    lessons: pl.DataFrame, cell: np.ndarray, cells: int, work: tuple[np.ndarray, ...]
) -> dict[str, np.ndarray]:
    """`lesson_sums`' figures except `lessons`, in 17-bit lanes of two float64 weights built in
    the given buffers (the caller checked that no cell's sum spills over a lane)."""
    packed, split, scratch = work
    lane1, lane2 = float(1 << _PACK), float(1 << (2 * _PACK))
    absent = lessons["absent_minutes"].to_numpy()
    late = lessons["late_minutes"].to_numpy()
    valid = lessons["is_valid"]
    np.multiply(absent, lane1, out=packed)
    np.add(packed, lessons["scheduled_minutes"].to_numpy(), out=packed)
    np.multiply(late, lane2, out=scratch)
    np.add(packed, scratch, out=packed)
    np.multiply(absent, valid.fill_null(False).to_numpy(), out=split)  # null: not known yet
    np.multiply(absent, (~valid).fill_null(False).to_numpy(), out=scratch)
    np.multiply(scratch, lane1, out=scratch)
    np.add(split, scratch, out=split)
    np.greater(late, 0, out=scratch)
    np.multiply(scratch, lane2, out=scratch)
    np.add(split, scratch, out=split)
    figures = _unpack(
        np.bincount(cell, packed, cells).astype(np.int64),
        np.bincount(cell, split, cells).astype(np.int64),
    )
    figures["unknown_minutes"] = (
        figures["absent_minutes"] - figures["valid_minutes"] - figures["invalid_minutes"]
    )
    return figures


def _unpack(packed: np.ndarray, split: np.ndarray) -> dict[str, np.ndarray]:
    """The six figures in the two lane-packed sums: (scheduled, absent, late minutes) and
    (valid, invalid minutes, late count), 17 bits each."""
    mask = (1 << _PACK) - 1
    return {
        "scheduled_minutes": packed & mask,
        "absent_minutes": (packed >> _PACK) & mask,
        "late_minutes": packed >> (2 * _PACK),
        "valid_minutes": split & mask,
        "invalid_minutes": (split >> _PACK) & mask,
        "late_count": split >> (2 * _PACK),
    }


def lesson_sums(lessons: pl.DataFrame, cell: np.ndarray, cells: int) -> dict[str, np.ndarray]:
    """PupilDay's figures (DAY_COLUMNS, int64) of the lesson records summed per `cell` (each
    record's cell number, 0 to `cells` - 1: a pupil day) with `np.bincount`.

    Three figures share one float64 weight in 17-bit lanes, exact while a cell's sum stays
    under 2**17 (checked from the records' largest figure and the cell's lesson count; else
    each figure is summed on its own). A sum beyond Int16, PupilDay's type, is refused.
    Used to re-import a year and by the nightly screening.
    """
    if not lessons.height:
        return {name: np.zeros(cells, np.int64) for name in DAY_COLUMNS}
    most, least = lessons.select(
        most=pl.max_horizontal(pl.col(_MINUTES).max()),
        least=pl.min_horizontal(pl.col(_MINUTES).min()),
    ).row(0)
    absent = pl.col("absent_minutes").cast(pl.Float64)
    valid, invalid = pl.col("is_valid") == True, pl.col("is_valid") == False  # noqa: E712
    lane1, lane2 = float(1 << _PACK), float(1 << (2 * _PACK))
    prepared = lessons.select(  # one select: Polars computes the columns side by side
        packed=pl.col("scheduled_minutes").cast(pl.Float64)
        + absent * lane1
        + pl.col("late_minutes").cast(pl.Float64) * lane2,
        split=pl.when(valid).then(absent).otherwise(0.0)
        + pl.when(invalid).then(absent).otherwise(0.0) * lane1
        + (pl.col("late_minutes") > 0).cast(pl.Float64) * lane2,
    )
    count = np.bincount(cell, minlength=cells)
    figures: dict[str, np.ndarray] = {"lessons": count}
    if least >= 0 and int(count.max()) * max(most, 1) < 1 << _PACK:
        packed = np.bincount(cell, prepared["packed"].to_numpy(), cells).astype(np.int64)
        split = np.bincount(cell, prepared["split"].to_numpy(), cells).astype(np.int64)
        figures.update(_unpack(packed, split))
    else:  # a day's sum could spill into the next lane (or a figure is negative): one by one
        weights = lessons.select(
            scheduled_minutes=pl.col("scheduled_minutes").cast(pl.Float64),
            absent_minutes=absent,
            late_minutes=pl.col("late_minutes").cast(pl.Float64),
            valid_minutes=pl.when(valid).then(absent).otherwise(0.0),
            invalid_minutes=pl.when(invalid).then(absent).otherwise(0.0),
            late_count=(pl.col("late_minutes") > 0).cast(pl.Float64),
        )
        for name in weights.columns:
            summed = np.bincount(cell, weights[name].to_numpy(), cells)
            figures[name] = np.rint(summed).astype(np.int64)
    figures["unknown_minutes"] = (
        figures["absent_minutes"] - figures["valid_minutes"] - figures["invalid_minutes"]
    )
    for name, values in figures.items():
        if len(values) and not _SMALLINT[0] <= values.min() <= values.max() <= _SMALLINT[1]:
            raise ValueError(f"lesson_sums: a pupil's day has {name} beyond PupilDay's smallint")
    return figures


_SMALLINT = (-(1 << 15), (1 << 15) - 1)
