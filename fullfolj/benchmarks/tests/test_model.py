"""The risk model benchmark's generated file and its measuring of a process."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fullfolj.benchmarks import model


def test_the_generated_history_file_is_cached_and_has_the_dropout_sets_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FULLFOLJ_CACHE", str(tmp_path))
    monkeypatch.setattr(model, "CHUNK", 300)  # several chunks, one header
    path = model.data_file(1000)
    frame = pl.read_csv(path, separator=";")
    assert frame.height == 1000 and frame.width == 36
    assert {"Gender", "Nacionality", "Course", "Target"} <= set(frame.columns)
    assert set(frame["Target"]) == {"Dropout", "Enrolled", "Graduate"}
    assert 0.05 < (frame["Target"] == "Dropout").mean() < 0.5
    stamp = path.stat().st_mtime_ns
    assert model.data_file(1000) == path and path.stat().st_mtime_ns == stamp  # from the cache


def test_a_measured_run_reports_its_output_and_memory() -> None:
    seconds, peak, output = model.measured("block = bytearray(50 * 2**20)\nprint('done')")
    assert output == "done\n"
    assert seconds > 0 and peak > 0
