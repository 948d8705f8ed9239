"""`fullfolj bench screening` at a tiny size: every path gives the same per-pupil figures.

No timing assertions (the targets live in DEVELOPERS.md and the benchmark's output). The
PostgreSQL path runs when the suite runs on PostgreSQL (DATABASE_URL), in a database of its own.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

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

    expected = {"rebuild", "incremental", "pandas", "postgres"} - set(skip)
    bounds, _ = bench.screening_setup(tiny)
    per_pupil = len(bounds) * len(bench.FIGURES)  # every figure of every window
    checks = dict(re.findall(rf"check (\w+)\s+([\d,]+) pupils × {per_pupil} figures", text))
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


def test_the_rebuilt_aggregate_sums_the_records_of_each_pupil_and_day(
    tiny: bench.Dataset,
) -> None:
    days = bench.build_aggregate(tiny)
    table = pl.scan_parquet([str(p) for p in tiny.files()]).collect()
    day = table["date"].max()
    one = table.filter((pl.col("date") == day) & (pl.col("absent_minutes") > 0))["pupil_id"][0]
    rows = table.filter((pl.col("date") == day) & (pl.col("pupil_id") == one))
    cell = days.filter((pl.col("date") == day) & (pl.col("pupil_id") == one)).row(0, named=True)
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
    # One row per pupil and school day, in the order the screening engine reads.
    assert days.height == table.select("pupil_id", "date").unique().height
    assert days.equals(days.sort("pupil_id", "date"))


def test_the_check_notices_one_changed_figure(tiny: bench.Dataset) -> None:
    bounds, rules = bench.screening_setup(tiny)
    expected, _ = bench.screen_product(bench.build_aggregate(tiny), tiny, bounds, rules)
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


def test_the_benchmark_screens_with_the_early_warning_rule(tiny: bench.Dataset) -> None:
    _, rules = bench.screening_setup(tiny)
    assert "rising_late_skip" in {r.id for r in rules}


def test_bench_all_skips_a_benchmark_whose_module_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(command, "BENCHMARKS", ("not_written_yet",))
    out, err = io.StringIO(), io.StringIO()
    call_command("bench", "all", "--small", stdout=out, stderr=err)
    assert "not_written_yet: skipped, fullfolj/benchmarks/not_written_yet.py is missing." in (
        err.getvalue()
    )
