"""`fullfolj bench screening`: screening every pupil at region scale.

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

The data set is in `screening_data`, the pandas and PostgreSQL baselines in
`screening_baselines`.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from fullfolj.benchmarks import Options, Report, peak_rss_mb

if TYPE_CHECKING:
    from fullfolj.screening.engine import Condition, Rule
    from fullfolj.screening.nightly import NightlyIndicators

from .screening_baselines import (
    PG_DATABASE,
    load_pandas,
    postgres_table,
    screen_pandas,
    screen_postgres,
)
from .screening_data import (
    Dataset,
    build_aggregate,
    dataset,
    date_of,
    kept_aggregate,
    lesson_records,
    term_of,
)

DEFAULT_PUPILS = 120_000
SEED = 1
SLOW_BASELINE_PUPILS = 20_000  # from this size pandas and postgres are timed once
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
PATHS = ("full", "rebuild", "incremental", "pandas", "postgres", "floor")


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


def _fraction(
    figures: Mapping[str, np.ndarray], condition: Condition
) -> tuple[np.ndarray, np.ndarray]:
    window = condition.window
    if window is None:  # the default rules all name their window
        raise ValueError(f"{condition.indicator}: the benchmark needs the rule's window")
    key = window.key
    part = _SUPPORTED[condition.indicator]
    if condition.indicator == "late_skip_trend":
        return _late_skip(figures, key, (condition.baseline or window.before).key)
    if condition.indicator.endswith("_trend"):
        before = (condition.baseline or window.before).key
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
    rules: Sequence[Rule],
    nightly: NightlyIndicators | None = None,  # at data.as_of, instead of the days
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
        previous = date_of(data.dates[-2])
        yesterday = NightlyIndicators.start(
            days.filter(pl.col("date") <= previous),
            as_of=previous,
            term_start=term_of(data, previous),
            windows=[Window.from_key(key) for key in bounds],
        )
        del days  # the nightly job holds only its window sums

        def incremental() -> tuple[pl.DataFrame, dict]:
            today = yesterday.add_lessons(day, day=data.as_of, term_start=data.term_start)
            return screen_product(None, data, bounds, rules, nightly=today)

        times["incremental"], (after, after_flags) = report.time(
            "incremental", incremental, repeat=repeat
        )
        report.say(f"  (incremental added {day.height:,} lesson records of {data.as_of})")
        check("incremental", expected, after)
        check_flags("incremental", flags, after_flags)
        del after, day, yesterday  # free memory before the next path
    else:
        del days
    gc.collect()

    ours_peak = peak_rss_mb()  # before the baselines, which hold the lesson records
    # The floor: one pass over the absence minutes of every lesson record, in memory.
    absent = np.concatenate(
        [pq.read_table(p, columns=["absent_minutes"]).column(0).to_numpy() for p in data.files()]
    )
    times["floor"], _ = report.time("floor", absent.sum, repeat=max(repeat, 5))
    del absent
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
