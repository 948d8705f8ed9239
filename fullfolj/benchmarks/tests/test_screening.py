"""`fullfolj bench screening` at a tiny size: every path gives the same per-pupil figures.

No timing assertions (the targets live in DEVELOPERS.md and the benchmark's output). The
PostgreSQL path runs when the suite runs on PostgreSQL (DATABASE_URL), in a database of its own.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from django.core.management import call_command

from fullfolj.benchmarks import Options, Report
from fullfolj.benchmarks import screening as bench
from fullfolj.benchmarks.management.commands import bench as command

PUPILS = 60


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-cache")


@pytest.fixture
def tiny(cache: Path, monkeypatch: pytest.MonkeyPatch) -> bench.Dataset:
    monkeypatch.setenv("FULLFOLJ_CACHE", str(cache))
    return bench.dataset(PUPILS, bench.SEED, Report("screening", io.StringIO()))


def _postgres_database() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    return url.rsplit("/", 1)[-1].split("?")[0] + "_bench"


def test_every_path_agrees_at_a_tiny_size(tiny: bench.Dataset) -> None:
    database = _postgres_database()
    skip = () if database else ("postgres",)
    out = io.StringIO()
    report = Report("screening", out)
    extra = {"skip": skip, "pg_database": database or bench.PG_DATABASE}
    bench.run(Options(pupils=PUPILS, repeat=1, extra=extra), report)
    report.finish()
    text = out.getvalue()

    expected = {"engine", "rebuild", "incremental", "pandas", "postgres"} - set(skip)
    checks = dict(re.findall(r"check (\w+)\s+([\d,]+) pupils × 40 figures", text))
    assert set(checks) == expected, text
    screened = {int(n.replace(",", "")) for n in checks.values()}
    assert len(screened) == 1 and screened.pop() > PUPILS // 2, text
    assert re.findall(r"check (\w+)\s+.*: (\d+) mismatches", text)
    assert all(n == "0" for _, n in re.findall(r"check (\w+)\s+.*: (\d+) mismatches", text))
    figures = dict(re.findall(r"^screening: (\w+)=(\S+)", text, re.MULTILINE))
    assert figures["mismatches"] == "0"
    for name in ("full", "rebuild", "incremental", "floor", *expected):
        assert float(figures[name]) > 0, name
    # The figures come last, one per line.
    tail = text.rstrip("\n").split("\n")[-len(figures) :]
    assert all(line.startswith("screening: ") for line in tail)


def test_the_dense_store_sums_the_records_of_each_pupil_and_day(tiny: bench.Dataset) -> None:
    store = bench.build_store(tiny)
    table = pl.scan_parquet([str(p) for p in tiny.files()]).collect()
    day = table["date"].max()
    one = table.filter((pl.col("date") == day) & (pl.col("absent_minutes") > 0))["pupil_id"][0]
    rows = table.filter((pl.col("date") == day) & (pl.col("pupil_id") == one))
    row = int(np.searchsorted(store.dates, bench._epoch(day)))
    cell = {name: int(store.columns[name][row, one]) for name in bench.DAY_COLUMNS}
    valid = rows.filter(pl.col("is_valid").fill_null(False))["absent_minutes"].sum()
    invalid = rows.filter(~pl.col("is_valid").fill_null(True))["absent_minutes"].sum()
    assert cell["lessons"] == rows.height
    assert cell["scheduled_minutes"] == rows["scheduled_minutes"].sum()
    assert cell["absent_minutes"] == rows["absent_minutes"].sum()
    assert cell["valid_minutes"] == valid
    assert cell["invalid_minutes"] == invalid
    assert cell["unknown_minutes"] == rows["absent_minutes"].sum() - valid - invalid
    assert cell["late_count"] == (rows["late_minutes"] > 0).sum()
    assert cell["late_minutes"] == rows["late_minutes"].sum()


def test_the_check_notices_one_changed_figure(tiny: bench.Dataset) -> None:
    bounds, rules = bench.screening_setup(tiny)
    store = bench.build_store(tiny)
    figures, _ = bench.screen_store(store, tiny.as_of, bounds, rules)
    expected = bench.figures_frame(figures, bounds)
    assert bench.compare(expected, expected.clone()) == (0, [])
    changed = expected.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.col("term_absent") + 1)
        .otherwise(pl.col("term_absent"))
        .alias("term_absent")
    )
    assert bench.compare(expected, changed) == (1, ["term_absent: 1"])
    wrong, notes = bench.compare(expected, expected.slice(1))
    assert wrong == len(expected.columns) - 1 and notes == ["1 pupils on one side only"]


def test_longest_run_of_whole_days_skips_days_without_lessons() -> None:
    # Days × pupils. Pupil 0: absent, absent, no lessons, absent, present → a run of 3.
    # Pupil 1: absent, present, absent, absent, absent → 3. Pupil 2 never wholly absent → 0.
    school = np.array([[1, 1, 1], [1, 1, 1], [0, 1, 1], [1, 1, 1], [1, 1, 1]], bool)
    whole = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 1, 0]], bool)
    runs = bench._longest_runs(school, whole, np.array([0, 1, 2]))
    assert runs.tolist() == [3, 3, 0]


def test_bench_all_skips_a_benchmark_whose_module_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(command, "BENCHMARKS", ("not_written_yet",))
    out, err = io.StringIO(), io.StringIO()
    call_command("bench", "all", "--small", stdout=out, stderr=err)
    assert "not_written_yet: skipped, fullfolj/benchmarks/not_written_yet.py is missing." in (
        err.getvalue()
    )


def test_records_in_any_order_give_the_same_store(tiny: bench.Dataset) -> None:
    week = next(bench.read_records(tiny))
    shuffled = np.random.default_rng(5).permutation(week.size)
    mixed = bench.Records(
        **{name: getattr(week, name)[shuffled] for name in bench.Records.__dataclass_fields__}
    )
    in_order, any_order = (bench.DayStore.empty(tiny.dates, tiny.pupils) for _ in range(2))
    in_order.add(week)
    any_order.add(mixed)
    for name in bench.DAY_COLUMNS:
        assert np.array_equal(in_order.columns[name], any_order.columns[name]), name
    assert in_order.columns["lessons"].sum() == week.size


def test_a_record_outside_the_school_days_is_refused(tiny: bench.Dataset) -> None:
    weeks = bench.read_records(tiny)
    one, two = next(weeks), next(weeks)
    both = bench.Records(
        **{
            name: np.concatenate([getattr(one, name), getattr(two, name)])
            for name in bench.Records.__dataclass_fields__
        }
    )
    school_days = set(tiny.dates.tolist())
    weekend = next(
        d for d in range(int(one.date.max()), int(two.date.min())) if d not in school_days
    )
    both.date[one.size - 1] = weekend  # still in date order: the day-slice path
    store = bench.DayStore.empty(tiny.dates, tiny.pupils)
    with pytest.raises(ValueError, match="not a school day"):
        store.add(both)
    shuffled = np.random.default_rng(5).permutation(both.size)  # the lookup path
    mixed = bench.Records(
        **{name: getattr(both, name)[shuffled] for name in bench.Records.__dataclass_fields__}
    )
    with pytest.raises(ValueError, match="not a school day"):
        store.add(mixed)
    after = bench.Records(**{n: getattr(one, n).copy() for n in bench.Records.__dataclass_fields__})
    after.date[-1] = tiny.dates[-1] + 1
    with pytest.raises(ValueError, match="not a school day"):
        store.add(after)
    assert not any(matrix.any() for matrix in store.columns.values())
