"""`fullfolj bench import`: a large lesson-attendance CSV file imported into PostgreSQL.

The municipality is the attendance benchmark's (`--pupils N`, default 20,000), in a database
of this benchmark's own (`fullfolj_importbench_N`, or `--pg-database`): copied from the
attendance benchmark's database when that one holds the same data, else restored from its
cached dump or simulated. The file is the municipality's latest `--rows` marks (default
1,000,000) written as a school system exports them (semicolons, Swedish headers, personnummer,
school-unit code, group, subject, date, time, minutes, absence, lateness, validity); it is
generated once and cached under `cache_dir()`.

Each timed pass starts from the same state, those marks removed (with their history and
aggregates) and their lessons kept, and times:

- `import`: `exchange.tabular.load.import_file` on the file's bytes: every row checked, lessons
  found, marks upserted, history written and the touched aggregates recomputed, committed;
- `copy`: the floor, the same rows (their ids already resolved) loaded into the lesson-attendance
  table by COPY alone, committed: no checks, no history, no aggregates;
- `again`: the same file imported once more right after, which checks and compares every row
  and writes nothing (a nightly export of the whole term is mostly this).

Beside the wall-clock time each pass reports the CPU time of this process and, when the
database server runs on this machine, of its process for the connection: on a machine shared
with others the wall clock mostly measures the wait for a CPU.

Target (DEVELOPERS.md): import under 10 s and within 3x of copy at a million rows, peak memory
under 1 GB.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from fullfolj.benchmarks import Options, Report, cache_dir

DEFAULT_PUPILS = 20_000
ROWS = 1_000_000
SMALL_ROWS = 20_000
HEAD = "Personnummer;Skolenhetskod;Grupp;Ämne;Datum;Starttid;Minuter;Frånvaro (min);Sen ankomst (min);Giltig"
CHUNK = 8 << 20  # bytes per COPY write
KEYS = "bench_import_keys"  # the file's marks by (lesson, pupil), kept in the database


def _database(pupils: int) -> str:
    return f"fullfolj_importbench_{pupils}"


def prepare(pupils: int, seed: int, database: str, report: Report) -> None:
    """The municipality in `database`: kept, copied from the attendance benchmark's, or made
    as that benchmark makes its own."""
    from fullfolj.benchmarks import attendance

    key = attendance._key(pupils, seed)
    if attendance._marker(database) == key:
        report.say(f"  {database} holds {key} (kept from an earlier run)")
        return
    source = attendance._database(pupils)
    if attendance._marker(source) == key:
        started = time.perf_counter()
        attendance._admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        # Refused while another session uses the source: then restored or simulated below.
        with contextlib.suppress(Exception):
            attendance._admin_sql(f'CREATE DATABASE "{database}" TEMPLATE "{source}"')
            if attendance._marker(database) == key:
                report.say(
                    f"  copied {source} to {database} in {time.perf_counter() - started:.1f} s"
                )
                return
    attendance.prepare_database(pupils, seed, report, database=database)


def run(options: Options, report: Report) -> None:
    from django.test.utils import override_settings

    from fullfolj.benchmarks import attendance

    seed = int(options.extra.get("seed", attendance.SEED))
    rows = int(options.extra.get("rows") or (SMALL_ROWS if options.small else ROWS))
    database = options.extra.get("pg_database") or _database(options.pupils)
    prepare(options.pupils, seed, database, report)
    with attendance.use_database(database), override_settings(DEBUG=False):
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        key = attendance._key(options.pupils, seed)
        measure(rows, max(1, options.repeat), report, cache_dir() / f"import-{key}-{rows}")


# --- The file --------------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    from fullfolj.attendance.models import (
        AttendanceChange,
        Lesson,
        LessonAttendance,
        PupilDay,
        PupilSubjectWeek,
    )
    from fullfolj.schools import models as s

    return {
        "marks": LessonAttendance._meta.db_table,
        "lessons": Lesson._meta.db_table,
        "changes": AttendanceChange._meta.db_table,
        "days": PupilDay._meta.db_table,
        "weeks": PupilSubjectWeek._meta.db_table,
        "pupils": s.Pupil._meta.db_table,
        "groups": s.TeachingGroup._meta.db_table,
        "schools": s.School._meta.db_table,
        "subjects": s.Subject._meta.db_table,
    }


def _copy_out(sql: str, path: Path, head: str = "") -> None:
    from django.db import connection

    partial = path.with_suffix(".partial")
    with partial.open("wb") as out, connection.cursor() as cursor:
        if head:
            out.write((head + "\n").encode())
        with cursor.cursor.copy(sql) as copy:
            for chunk in copy:
                out.write(chunk)
    partial.rename(path)


def prepare_file(rows: int, stem: Path, report: Report) -> tuple[Path, Path]:
    """The CSV file of the latest `rows` marks and the floor's COPY data of the same rows;
    generated from the database (before any pass) and cached."""
    from django.db import connection

    csv_path, floor_path = stem.with_suffix(".csv"), stem.with_suffix(".copy")
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [KEYS])
        (kept,) = cursor.fetchone()
        if kept:
            cursor.execute(f"SELECT count(*) FROM {KEYS}")  # noqa: S608 - our name
            kept = cursor.fetchone()[0] == rows
        if kept and csv_path.exists() and floor_path.exists():
            return csv_path, floor_path
        started = time.perf_counter()
        cursor.execute(f"DROP TABLE IF EXISTS {KEYS}")
        cursor.execute(
            f"CREATE TABLE {KEYS} AS SELECT lesson_id, pupil_id FROM {t['marks']} "  # noqa: S608
            "ORDER BY date DESC, id DESC LIMIT %s",
            [rows],
        )
        cursor.execute(f"SELECT count(*) FROM {KEYS}")  # noqa: S608
        found = cursor.fetchone()[0]
        if found < rows:
            raise RuntimeError(f"the municipality holds {found:,} marks, fewer than {rows:,}")
    joined = (
        f"FROM {KEYS} k JOIN {t['marks']} la "
        "ON la.lesson_id = k.lesson_id AND la.pupil_id = k.pupil_id "
        f"JOIN {t['lessons']} l ON l.id = la.lesson_id "
    )
    # Text format: semicolons, no quoting, as Swedish Excel saves a plain list.
    _copy_out(
        "COPY (SELECT p.personnummer, sc.unit_code, g.name, su.code, "
        "to_char(la.date, 'YYYY-MM-DD'), "
        "to_char(l.start AT TIME ZONE 'Europe/Stockholm', 'HH24:MI'), l.minutes, "
        "la.absent_minutes, la.late_minutes, "
        "CASE WHEN la.absent_minutes = 0 THEN '' WHEN la.is_valid THEN 'ja' "
        "WHEN NOT la.is_valid THEN 'nej' ELSE '' END "
        f"{joined}JOIN {t['pupils']} p ON p.id = la.pupil_id "
        f"JOIN {t['groups']} g ON g.id = l.group_id "
        f"JOIN {t['schools']} sc ON sc.id = g.school_id "
        f"JOIN {t['subjects']} su ON su.id = l.subject_id "
        "ORDER BY la.date, l.start, la.pupil_id) TO STDOUT (DELIMITER ';')",
        csv_path,
        HEAD,
    )
    # The floor's rows: what the import will write, as the table holds it.
    _copy_out(
        "COPY (SELECT la.lesson_id, la.pupil_id, la.organiser_id, la.date, "
        "la.scheduled_minutes, la.absent_minutes, la.late_minutes, "
        "CASE WHEN la.absent_minutes > 0 THEN la.is_valid END, NULL "
        f"{joined}) TO STDOUT",
        floor_path,
    )
    report.say(
        f"  wrote {rows:,} rows to {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return csv_path, floor_path


# --- The passes ------------------------------------------------------------------------------


def reset() -> None:
    """The file's marks gone, with their history and aggregates; their lessons kept."""
    from django.db import connection, transaction

    from fullfolj.attendance import store

    t = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(l.date) FROM {KEYS} k JOIN {t['lessons']} l "  # noqa: S608
            "ON l.id = k.lesson_id"
        )
        (since,) = cursor.fetchone()
        cursor.execute(
            f"DELETE FROM {t['changes']} c USING {t['marks']} la, {KEYS} k "  # noqa: S608
            "WHERE c.attendance_id = la.id AND la.lesson_id = k.lesson_id "
            "AND la.pupil_id = k.pupil_id"
        )
        cursor.execute(
            f"DELETE FROM {t['marks']} la USING {KEYS} k "  # noqa: S608
            "WHERE la.lesson_id = k.lesson_id AND la.pupil_id = k.pupil_id"
        )
        store.rebuild(since=since)
    if not connection.in_atomic_block:  # not in a test's transaction, where it cannot run
        # Every pass starts from tables without the dead rows of the one before.
        with connection.cursor() as cursor:
            for table in ("marks", "changes", "days", "weeks"):
                cursor.execute(f"VACUUM (ANALYZE) {t[table]}")


def copy_floor(floor: bytes) -> None:
    """The same rows by COPY alone, committed."""
    from django.db import connection, transaction

    columns = (
        "lesson_id, pupil_id, organiser_id, date, scheduled_minutes, absent_minutes, "
        "late_minutes, is_valid, reason_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY {_tables()['marks']} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            view = memoryview(floor)
            for start in range(0, len(view), CHUNK):
                copy.write(view[start : start + CHUNK])


def _held(rows: int) -> tuple[int, int]:
    """The file's marks in the table, and the days aggregated for them."""
    from django.db import connection

    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT (la.pupil_id, la.date)) FROM {t['marks']} la "  # noqa: S608
            f"JOIN {KEYS} k ON la.lesson_id = k.lesson_id AND la.pupil_id = k.pupil_id"
        )
        marks, days = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM {t['days']} d WHERE (d.pupil_id, d.date) IN "  # noqa: S608
            f"(SELECT la.pupil_id, la.date FROM {t['marks']} la JOIN {KEYS} k "
            "ON la.lesson_id = k.lesson_id AND la.pupil_id = k.pupil_id)"
        )
        aggregated = cursor.fetchone()[0]
    if marks != rows or aggregated != days:
        raise RuntimeError(f"{marks:,} of {rows:,} marks held; {aggregated:,} of {days:,} days")
    return marks, days


def _database_cpu() -> float | None:
    """CPU seconds the database's process for this connection has used, when the server runs
    on this machine and its /proc entry is ours to read; else None. On a shared machine the
    wall-clock time mostly says how long the CPU was busy with others; this says the work."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return None  # another machine's (or container's) process of that number
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(rows: int, repeat: int, report: Report, stem: Path) -> None:
    """Time the import and the COPY floor on the current (PostgreSQL) connection."""
    import statistics

    from django.db import connection

    from fullfolj.exchange.tabular import load

    if connection.vendor != "postgresql":
        raise RuntimeError("bench import needs PostgreSQL (COPY is the floor it compares with)")
    csv_path, floor_path = prepare_file(rows, stem, report)
    size = csv_path.stat().st_size
    report.say(f"import: {rows:,} lesson marks ({size / 1e6:.0f} MB of CSV) x {repeat}")
    labels = ("copy", "import", "again")
    seconds: dict[str, list[float]] = {label: [] for label in labels}
    cpu: dict[str, list[float]] = {label: [] for label in labels}
    database_cpu: dict[str, list[float]] = {label: [] for label in labels}
    result: Any = None
    for _pass in range(repeat):
        # again: the same file once more, as a nightly export of the whole term mostly is;
        # every row is checked and compared, nothing is written.
        for label in labels:
            if label != "again":
                reset()
            elif result.created != rows:
                raise RuntimeError(f"the import created {result.created:,} marks of {rows:,}")
            # Read before the clock starts, and one at a time: the peak is the import's own.
            data = (floor_path if label == "copy" else csv_path).read_bytes()
            database_started = _database_cpu()
            started, cpu_started = time.perf_counter(), time.process_time()
            if label == "copy":
                copy_floor(data)
            else:
                result = load.import_file("attendance", data, name=csv_path.name)
            seconds[label].append(time.perf_counter() - started)
            cpu[label].append(time.process_time() - cpu_started)
            database_ended = _database_cpu()
            if database_started is not None and database_ended is not None:
                database_cpu[label].append(database_ended - database_started)
            del data
        if result.unchanged != rows:
            raise RuntimeError(f"the same file again changed {rows - result.unchanged:,} marks")
        _held(rows)
    medians = {label: statistics.median(values) for label, values in seconds.items()}
    for label, values in seconds.items():
        database = (
            f", the database's {statistics.median(database_cpu[label]):.2f} s"
            if database_cpu[label]
            else ""
        )
        report.say(
            f"  {label:<7} median {medians[label]:7.2f} s  (min {min(values):.2f}, "
            f"max {max(values):.2f}, n={len(values)}; cpu: this process's "
            f"{statistics.median(cpu[label]):.2f} s{database})"
        )
    one, five, fifteen = os.getloadavg()
    report.say(f"  load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs")
    report.figure("rows", rows, "")
    report.figure("import", round(medians["import"], 3), "s")
    report.figure("copy", round(medians["copy"], 3), "s")
    report.figure("import_vs_copy", round(medians["import"] / medians["copy"], 2), "x")
    report.figure("again", round(medians["again"], 3), "s")
    report.figure("rows_per_s", round(rows / medians["import"]), "")
    if database_cpu["import"] and database_cpu["copy"]:
        work = {
            label: statistics.median(cpu[label]) + statistics.median(database_cpu[label])
            for label in ("import", "copy")
        }
        report.figure("import_cpu", round(work["import"], 2), "s")
        report.figure("copy_cpu", round(work["copy"], 2), "s")
        report.figure("import_vs_copy_cpu", round(work["import"] / work["copy"], 2), "x")
