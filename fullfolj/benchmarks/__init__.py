"""Benchmarks: `fullfolj bench NAME`. Each compares our path against its baseline in one run,
reports medians and peak memory, and prints its figures last as `NAME: figure=value unit`.

A benchmark is a module here with `run(options: Options, out: Report) -> None`; register it in
BENCHMARKS. Generated data is cached under `cache_dir()` (outside the repository).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

BENCHMARKS = ("attendance", "screening", "pages", "model", "import", "dashboard", "skolplikt")
# A benchmark whose name is not a module name of its own ("import" is a Python keyword).
MODULES = {"import": "imports"}

T = TypeVar("T")


class Output(Protocol):
    """Where a report is written: a command's stdout or a text stream."""

    def write(self, text: str, /) -> object: ...
    def flush(self) -> None: ...


def cache_dir() -> Path:
    """Where generated benchmark data lives between runs: $FULLFOLJ_CACHE or ~/.cache/fullfolj."""
    path = Path(os.environ.get("FULLFOLJ_CACHE", Path.home() / ".cache" / "fullfolj"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Options:
    pupils: int
    repeat: int = 3
    small: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # the command's own options


@dataclass
class Report:
    """Collects timings and figures; prints the machine-readable figures last."""

    name: str
    out: Output
    figures: list[tuple[str, float, str]] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # median CPU seconds of each label

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def time(self, label: str, fn: Callable[[], T], *, repeat: int = 3) -> tuple[float, T]:
        """Run fn `repeat` times; report and return the median seconds and the last result."""
        seconds: list[float] = []
        cpu: list[float] = []  # this process's CPU time: a check on a machine shared with others
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = fn()
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        median = statistics.median(seconds)
        self.cpu[label] = statistics.median(cpu)
        self.say(
            f"  {label:<14} median {median:8.3f} s  (min {min(seconds):.3f}, "
            f"max {max(seconds):.3f}, n={repeat}; cpu {self.cpu[label]:.3f} s)"
        )
        return median, result

    def figure(self, name: str, value: float, unit: str) -> None:
        self.figures.append((name, value, unit))

    def finish(self) -> None:
        self.figure("peak_memory", round(peak_rss_mb()), "MB")
        for name, value, unit in self.figures:
            if isinstance(value, float):
                shown = f"{value:.3g}" if value < 100 else f"{value:.0f}"
            else:
                shown = f"{value}"
            self.say(f"{self.name}: {name}={shown} {unit}".rstrip())
