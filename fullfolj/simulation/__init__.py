"""A simulated municipality (or region) for demos, tests and benchmarks: pure numpy/polars.

`simulate(Parameters(...))` streams the tables as `(name, polars.DataFrame)` chunks with the
columns in `SCHEMA`; `parquet.write(params, out_dir)` writes them to Parquet. No Django here but
in the database loader (`loader`), which also writes the ground truth as a Parquet file.
"""

from .engine import SCHEMA, TABLE_ORDER, simulate
from .parameters import Parameters

__all__ = ["SCHEMA", "TABLE_ORDER", "Parameters", "simulate"]
