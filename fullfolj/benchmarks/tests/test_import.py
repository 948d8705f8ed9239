"""`fullfolj bench import` at a tiny size, on the cast's municipality: the file it generates
imports back to the marks it was made from, the figures come last, and on SQLite it says it
needs PostgreSQL. No timing assertions (the target lives in DEVELOPERS.md)."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from fullfolj.attendance.models import AttendanceChange, LessonAttendance, PupilDay
from fullfolj.benchmarks import Report
from fullfolj.benchmarks import imports as bench
from tests import factories as f

ROWS = 12


def _marks() -> list[tuple[object, ...]]:
    return sorted(
        (
            m.lesson_id,
            m.pupil_id,
            m.absent_minutes,
            m.late_minutes,
            m.is_valid if m.absent_minutes else None,
        )
        for m in LessonAttendance.objects.all()
    )


@pytest.fixture
def marked(cast):  # type: ignore[no-untyped-def]
    """Five days of lessons for the cast's group, its pupil absent or late now and then."""
    pupils = [cast.pupil, *(f.pupil(cast.org, f"Elev{n}", "Bänk") for n in range(2))]
    for pupil in pupils[1:]:
        cast.group.memberships.create(pupil=pupil, start=cast.year.start)
    for day in range(5):
        for hour in (8, 10):
            when = timezone.make_aware(dt.datetime(2026, 3, 9 + day, hour, 15))
            lesson = f.lesson(cast.group, cast.maths, cast.teacher, cast.spring, when)
            for number, pupil in enumerate(pupils):
                absent = 60 if (day + number) % 3 == 0 else 0
                f.mark(
                    lesson,
                    pupil,
                    absent=absent,
                    late=5 if day == number and not absent else 0,
                    valid=(day % 2 == 0) if absent else None,
                )
    return cast


def test_the_generated_file_imports_back_and_the_figures_come_last(marked, tmp_path: Path):
    if connection.vendor != "postgresql":
        with pytest.raises(RuntimeError, match="needs PostgreSQL"):
            bench.measure(ROWS, 1, Report("import", io.StringIO()), tmp_path / "tiny")
        return
    before = _marks()
    out = io.StringIO()
    report = Report("import", out)

    bench.measure(ROWS, 2, report, tmp_path / "tiny")
    report.finish()

    latest = before  # the file holds the latest ROWS marks; every mark comes back as it was
    assert _marks() == latest
    text = out.getvalue()
    lines = text.splitlines()
    figures = [line for line in lines if line.startswith("import: ") and "=" in line]
    assert figures and lines[-len(figures) :] == figures, text
    values = dict(re.findall(r"^import: (\w+)=([\d.]+)", "\n".join(figures), re.M))
    assert values["rows"] == str(ROWS)
    assert float(values["import"]) > 0 and float(values["copy"]) >= 0
    assert {"import_vs_copy", "again", "peak_memory"} <= set(values)
    csv = (tmp_path / "tiny.csv").read_text().splitlines()
    assert csv[0] == bench.HEAD and len(csv) == ROWS + 1
    # The import wrote what an import writes: history for absences and days for every mark.
    assert AttendanceChange.objects.filter(changed_by=None).exists()
    assert PupilDay.objects.filter(date__gte=dt.date(2026, 3, 9)).count() >= 6
