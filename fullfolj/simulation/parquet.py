"""Write the simulation stream to Parquet: `out_dir/<table>/part-00000.parquet`, one file a chunk.

Used for region-scale runs and for loading with DuckDB or Polars; the database loader reads the
same frames directly from `engine.simulate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .engine import simulate
from .parameters import Parameters

Compression = Literal["lz4", "uncompressed", "snappy", "gzip", "brotli", "zstd"]


def write(
    params: Parameters, out_dir: str | Path, compression: Compression = "zstd"
) -> dict[str, int]:
    """Stream `simulate(params)` to Parquet files and return the row count per table.

    Earlier `part-*.parquet` files of a table are removed first, so a rerun never mixes runs.
    """
    root = Path(out_dir)
    parts: dict[str, int] = {}
    rows: dict[str, int] = {}
    for table, frame in simulate(params):
        folder = root / table
        if table not in parts:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("part-*.parquet"):
                old.unlink()
            parts[table] = 0
            rows[table] = 0
        frame.write_parquet(folder / f"part-{parts[table]:05d}.parquet", compression=compression)
        parts[table] += 1
        rows[table] += frame.height
    return rows
