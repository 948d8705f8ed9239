"""The match of the population register against every known placement, with Polars.

Pure computation, no Django: the frames come from queries.py (or the benchmark's files).

residents:  pnr (str), birth_date (date), municipality_code (str), moved_in (date, null),
            moved_out (date, null)
placements: pnr (str), school (str, the school-unit code), own (bool: at one of the
            municipality's own schools), start (date), end (date, null: still running)

For a day, the lists (skollagen 7 kap. 21-23 §§; docs/compulsory.md):
- no_school: children of compulsory-school age registered here on the day, with no placement
  running that day and none that ended before it;
- ended: the same, but with a placement that ended before the day (the last one is named);
- two_placements: children with placements at two schools or more running that day;
- elsewhere: pupils placed at the municipality's own schools who are not registered here on
  the day (the billing between municipalities);
- moved_in, moved_out: children of compulsory-school age who moved in or out after `since`,
  up to the day.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

KINDS = ("no_school", "ended", "two_placements", "elsewhere", "moved_in", "moved_out")


def _resident_on(day: dt.date, home_code: str) -> pl.Expr:
    return (
        (pl.col("municipality_code") == home_code)
        & (pl.col("moved_in").is_null() | (pl.col("moved_in") <= day))
        & (pl.col("moved_out").is_null() | (pl.col("moved_out") > day))
    )


def _of_age(first_year: int, last_year: int) -> pl.Expr:
    year = pl.col("birth_date").dt.year()
    return (year >= first_year) & (year <= last_year)


def match(
    residents: pl.DataFrame | pl.LazyFrame,
    placements: pl.DataFrame | pl.LazyFrame,
    *,
    day: dt.date,
    home_code: str,
    birth_years: tuple[int, int],
    since: dt.date,
) -> dict[str, pl.DataFrame]:
    """Each list as a frame with `pnr` and its details, sorted by pnr."""
    res = residents.lazy()
    pl_ = placements.lazy()
    first, last = birth_years
    running = pl_.filter(
        (pl.col("start") <= day) & (pl.col("end").is_null() | (pl.col("end") >= day))
    )
    here = res.filter(_resident_on(day, home_code) & _of_age(first, last)).select("pnr")
    without = here.join(running.select("pnr"), on="pnr", how="anti")
    ended = (
        pl_.filter(pl.col("end") < day)
        .group_by("pnr")
        .agg(pl.col("end").max().alias("ended_on"), pl.col("school").sort_by("end").last())
    )
    no_school = without.join(ended.select("pnr"), on="pnr", how="anti")
    ended_list = without.join(ended, on="pnr", how="inner")
    two = (
        running.group_by("pnr")
        .agg(
            pl.col("school").n_unique().alias("schools"),
            pl.col("school").unique().sort().str.join(", ").alias("school"),
        )
        .filter(pl.col("schools") >= 2)
        .select("pnr", "school")
    )
    resident_now = res.filter(_resident_on(day, home_code)).select("pnr")
    elsewhere = (
        running.filter(pl.col("own"))
        .join(resident_now, on="pnr", how="anti")
        .group_by("pnr")
        .agg(pl.col("school").first())
        .join(res.select("pnr", "municipality_code"), on="pnr", how="left")
    )
    aged = res.filter(_of_age(first, last))
    moved_in = aged.filter(
        (pl.col("municipality_code") == home_code)
        & (pl.col("moved_in") > since)
        & (pl.col("moved_in") <= day)
    ).select("pnr", pl.col("moved_in").alias("on"))
    moved_out = aged.filter((pl.col("moved_out") > since) & (pl.col("moved_out") <= day)).select(
        "pnr", pl.col("moved_out").alias("on"), "municipality_code"
    )
    frames = {
        "no_school": no_school,
        "ended": ended_list,
        "two_placements": two,
        "elsewhere": elsewhere,
        "moved_in": moved_in,
        "moved_out": moved_out,
    }
    collected = pl.collect_all([frame.sort("pnr") for frame in frames.values()])
    return dict(zip(frames, collected, strict=True))


def checked(
    residents: pl.DataFrame | pl.LazyFrame,
    *,
    day: dt.date,
    home_code: str,
    birth_years: tuple[int, int],
) -> int:
    """How many children of compulsory-school age the register holds as resident on the day."""
    first, last = birth_years
    return int(
        residents.lazy()
        .filter(_resident_on(day, home_code) & _of_age(first, last))
        .select(pl.len())
        .collect()
        .item()
    )
