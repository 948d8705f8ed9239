"""The simulation stays out of the product: no product module reads it, no table holds it."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import override_settings

from fullfolj.simulation.loader import default_truth_path

PACKAGE = Path(__file__).resolve().parents[2]
ABOVE_THE_PRODUCT = {"simulation", "benchmarks"}  # the top layer may use the simulator
IMPORT = re.compile(
    r"^\s*(from|import)\s+fullfolj(\.simulation\b|\s+import\s+.*\bsimulation\b)", re.MULTILINE
)


def test_no_product_module_imports_the_simulation():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ABOVE_THE_PRODUCT
        and "tests" not in path.parts
        and IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_truth_file_is_named_after_the_database(tmp_path):
    with override_settings(DATA_DIR=tmp_path):
        path = default_truth_path()
    assert path.parent == tmp_path
    assert path.name.endswith("-truth.parquet")
