"""The kept per-pupil, per-day aggregate (PupilDay's figures) from lesson records, in Polars.

The same figures as `actions._AGGREGATE_SELECT` computes in the database, for bulk work outside
it: re-importing a year of lesson records, and keeping a screening's in-memory copy of the
aggregate up to date one school day at a time. The screening engine reads the aggregate in
(pupil, date) order, the order of PupilDay's unique index, so these functions keep that order.
"""

from __future__ import annotations

import numpy as np
import polars as pl

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
LESSON_COLUMNS = (
    "pupil_id",
    "date",
    "scheduled_minutes",
    "absent_minutes",
    "late_minutes",
    "is_valid",
)


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
    return (pupil << 16) | days["date"].to_physical().to_numpy().astype(np.int64)
