"""`fullfolj bench model`: the risk model check (`model evaluate --csv`) on a large history file.

The file is generated (`--pupils N` rows, default 2,000,000: about 200 MB, the size that did not
finish before) with the columns of the public dropout data set's kind: codes (course,
nationality, parents' occupation), enrolment figures, two semesters of course units and
grades, a gender column, and a three-valued outcome; cached under `cache_dir()`.

One run times, each in a process of its own so its memory is its own:

- `check`: `fullfolj model evaluate --csv FILE --target Target --positive Dropout` as an
  analyst runs it (defaults: a stratified sample above `history.MAX_ROWS` rows, every learner,
  every core), from reading the file to the last line of the report;
- `read_pandas`: the baseline, `pandas.read_csv` of the whole file (its C engine): what merely
  holding the file in a data frame costs, the figure the check must stay near.

The peak memory of each is the largest sum of the resident memory of the process and its
children (the fold workers), sampled every 0.2 s. Targets: the check under 10 minutes and
under three times the file's size at 2,000,000 rows on a 2-core machine. The check runs once
when the file is over 200,000 rows (it is minutes long); `--repeat` applies below that.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fullfolj.benchmarks import Options, Report, cache_dir

DEFAULT_PUPILS = 2_000_000
SEED = 7
CHUNK = 100_000
DATA_VERSION = "1"
REPEAT_BELOW = 200_000


def data_file(rows: int, seed: int = SEED) -> Path:
    """The generated history file of `rows` rows (made once, then read from the cache)."""
    path = cache_dir() / f"model-{rows}-s{seed}-v{DATA_VERSION}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            rng = np.random.default_rng(seed)
            for start in range(0, rows, CHUNK):
                out.write(_chunk(rng, min(CHUNK, rows - start), header=start == 0))
        partial.rename(path)
    return path


def _chunk(rng: np.random.Generator, n: int, *, header: bool) -> str:
    import polars as pl

    gender = rng.integers(0, 2, n)
    age = np.clip(rng.normal(22, 5, n).round(), 17, 60).astype(int)
    course = rng.choice([33, 171, 8014, 9003, 9070, 9085, 9119, 9130, 9147, 9238, 9254], n)
    nationality = np.where(rng.random(n) < 0.95, 1, rng.choice([2, 6, 41, 62, 100, 109], n))
    admission = rng.normal(127, 14, n).round(1)
    debtor = (rng.random(n) < 0.11).astype(int)
    fees_paid = (rng.random(n) < 0.88).astype(int)
    scholarship = (rng.random(n) < 0.25).astype(int)
    enrolled_1 = rng.integers(5, 8, n)
    enrolled_2 = rng.integers(5, 8, n)
    ability = rng.normal(0, 1, n) + 0.02 * (admission - 127)
    approved_1 = np.clip(np.round(enrolled_1 * (0.75 + 0.2 * ability)), 0, enrolled_1)
    approved_2 = np.clip(np.round(enrolled_2 * (0.72 + 0.22 * ability)), 0, enrolled_2)
    grade_1 = np.where(approved_1 > 0, np.clip(12 + 1.3 * ability, 10, 18.5), 0).round(2)
    grade_2 = np.where(approved_2 > 0, np.clip(12 + 1.4 * ability, 10, 18.5), 0).round(2)
    unemployment = rng.choice([7.6, 8.9, 9.4, 10.8, 11.1, 12.4, 12.7, 13.9, 15.5, 16.2], n)
    score = (
        -1.0
        - 1.6 * ability
        + 1.2 * debtor
        - 1.8 * fees_paid
        - 0.6 * scholarship
        + 0.04 * (age - 22)
        + 0.25 * gender
        + 0.03 * (unemployment - 11)
    )
    dropout = rng.random(n) < 1 / (1 + np.exp(-score))
    graduate = rng.random(n) < 0.75
    target = np.where(dropout, "Dropout", np.where(graduate, "Graduate", "Enrolled"))
    frame = pl.DataFrame(
        {
            "Marital status": rng.choice([1, 1, 1, 1, 2, 4], n),
            "Application mode": rng.choice([1, 17, 39, 43, 44, 51], n),
            "Application order": rng.choice([1, 1, 1, 2, 3, 4, 5, 6], n),
            "Course": course,
            "Daytime/evening attendance": (rng.random(n) < 0.89).astype(int),
            "Previous qualification": rng.choice([1, 1, 1, 3, 19, 39], n),
            "Nacionality": nationality,
            "Mother's qualification": rng.choice([1, 1, 19, 37, 38, 3, 34], n),
            "Father's qualification": rng.choice([1, 1, 19, 37, 38, 3, 34], n),
            "Mother's occupation": rng.choice([0, 2, 3, 4, 5, 7, 9, 10], n),
            "Father's occupation": rng.choice([0, 3, 4, 5, 7, 8, 9, 10], n),
            "Admission grade": admission,
            "Displaced": (rng.random(n) < 0.55).astype(int),
            "Educational special needs": (rng.random(n) < 0.01).astype(int),
            "Debtor": debtor,
            "Tuition fees up to date": fees_paid,
            "Gender": gender,
            "Scholarship holder": scholarship,
            "Age at enrollment": age,
            "International": (nationality != 1).astype(int),
            "Curricular units 1st sem (credited)": (rng.random(n) < 0.1) * rng.integers(1, 9, n),
            "Curricular units 1st sem (enrolled)": enrolled_1,
            "Curricular units 1st sem (evaluations)": enrolled_1 + rng.integers(0, 5, n),
            "Curricular units 1st sem (approved)": approved_1.astype(int),
            "Curricular units 1st sem (grade)": grade_1,
            "Curricular units 1st sem (without evaluations)": (rng.random(n) < 0.07).astype(int),
            "Curricular units 2nd sem (credited)": (rng.random(n) < 0.1) * rng.integers(1, 9, n),
            "Curricular units 2nd sem (enrolled)": enrolled_2,
            "Curricular units 2nd sem (evaluations)": enrolled_2 + rng.integers(0, 5, n),
            "Curricular units 2nd sem (approved)": approved_2.astype(int),
            "Curricular units 2nd sem (grade)": grade_2,
            "Curricular units 2nd sem (without evaluations)": (rng.random(n) < 0.07).astype(int),
            "Unemployment rate": unemployment,
            "Inflation rate": rng.choice([-0.8, 0.3, 0.5, 0.6, 1.4, 2.6, 2.8, 3.7], n),
            "GDP": rng.choice([-4.06, -3.12, -1.7, -0.92, 0.32, 0.79, 1.74, 2.02, 3.51], n),
            "Target": target,
        }
    )
    return frame.write_csv(separator=";", include_header=header)


def _tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and its descendants, in MB (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree) / 2**20


def measured(code: str) -> tuple[float, float, str]:
    """Run `code` in a fresh Python; its wall seconds, peak tree memory (MB) and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (our own interpreter, our own code)
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=None,  # the check's progress lines go straight to the terminal
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _tree_rss_mb(process.pid))
        time.sleep(0.2)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode:
        raise RuntimeError(f"bench model: the measured run failed ({process.returncode})")
    return time.perf_counter() - started, peak, output


def check_code(path: Path) -> str:
    argv = ["--csv", str(path), "--target", "Target", "--positive", "Dropout"]
    return f"import sys\nfrom fullfolj.riskmodel.cli import main\nsys.exit(main({argv!r}))\n"


def read_code(path: Path) -> str:
    return f"import pandas\nframe = pandas.read_csv({str(path)!r}, sep=';')\nprint(len(frame))\n"


def run(options: Options, report: Report) -> None:
    rows = options.pupils
    started = time.perf_counter()
    path = data_file(rows)
    size_mb = path.stat().st_size / 2**20
    report.say(
        f"model: {rows} rows, {size_mb:.0f} MB ({path}; ready in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    runs = options.repeat if rows <= REPEAT_BELOW else 1
    timings: dict[str, list[tuple[float, float]]] = {"check": [], "read_pandas": []}
    tail: dict[str, str] = {}
    for label, code, count in (
        ("read_pandas", read_code(path), options.repeat),
        ("check", check_code(path), runs),
    ):
        for _ in range(count):
            seconds, peak, output = measured(code)
            timings[label].append((seconds, peak))
            report.say(f"  {label:<12} {seconds:8.1f} s  peak {peak:7.0f} MB")
            if label == "check":
                block = output.rstrip("\n").split("\n\n")[-1].splitlines()
                tail = dict(line.split(": ", 1) for line in block if ": " in line)
    for label, values in timings.items():
        seconds = statistics.median(value[0] for value in values)
        peak = max(value[1] for value in values)
        report.figure(f"{label}_seconds", seconds, "s")
        report.figure(f"{label}_peak", round(peak), "MB")
        if label == "check":
            report.figure("check_peak_per_file_size", peak / size_mb, "x")
    report.figure("file", round(size_mb), "MB")
    report.figure("rows_checked", int(tail.get("rows", "0")), "rows")
    report.figure("roc_auc", float(tail.get("roc_auc", "nan")), "")
