"""Large lesson-attendance files: the fast path on PostgreSQL (Polars, COPY, set-based SQL) means
what the row-by-row path means, and SQLite keeps the row-by-row path.

Each test runs on either database; on PostgreSQL the fast path does the work (checked by
counting its calls), on SQLite the row-by-row one.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import translation

from fullfolj.attendance import store
from fullfolj.attendance.models import (
    AbsenceReason,
    AttendanceChange,
    Lesson,
    LessonAttendance,
    PupilDay,
    PupilMonth,
    PupilSubjectWeek,
    PupilWeek,
)
from fullfolj.exchange.tabular import fast, load
from fullfolj.schools import models as s
from tests import factories as f

HEAD = "Personnummer;Skolenhetskod;Grupp;Ämne;Datum;Starttid;Minuter;Frånvaro (min);Sen ankomst (min);Giltig"
DAYS = [dt.date(2026, 3, 9) + dt.timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8)]
TIMES = [("08:00", "MA", 60), ("09:15", "SV", 45), ("10:30", "Matematik", 60)]


@pytest.fixture
def town(db: object) -> dict[str, Any]:
    org = f.organiser("Ekby kommun")
    school = s.School.objects.create(organiser=org, name="Ekbyskolan", unit_code="12345678")
    year, _autumn, _spring = f.school_year()
    s.TeachingGroup.objects.create(school=school, school_year=year, name="7A")
    s.TeachingGroup.objects.create(school=school, school_year=year, name="7B")
    f.subject("MA", "Matematik")
    f.subject("SV", "Svenska")
    f.reasons()
    pupils = [f.pupil(org, f"Elev{n}", "Snabb") for n in range(6)]
    return {"org": org, "school": school, "pupils": pupils}


def rows(town: dict[str, Any], seed: int) -> list[str]:
    """A pupil a line: both groups, every day and time, some absent, late or settled."""
    rng = random.Random(seed)  # noqa: S311 - test data
    lines = []
    for number, pupil in enumerate(town["pupils"]):
        group = "7A" if number % 2 else "7b"  # any case
        for day in DAYS:
            for at, subject, minutes in TIMES:
                absent = rng.choice([0, 0, 0, 10, minutes])
                late = rng.choice([0, 0, 5]) if absent < minutes else 0
                valid = rng.choice(["", "ja", "nej"]) if absent else rng.choice(["", "nej"])
                lines.append(
                    f"{pupil.personnummer};12345678;{group};{subject};{day:%Y-%m-%d};{at};"
                    f"{minutes};{absent};{late};{valid}"
                )
    return lines


def data(lines: list[str], *, crlf: bool = False) -> bytes:
    return ("\r\n" if crlf else "\n").join([HEAD, *lines]).encode("utf-8-sig")


def state() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "lessons": sorted(
            Lesson.objects.values_list(
                "group_id", "subject_id", "term_id", "date", "start", "minutes"
            )
        ),
        "registered": [Lesson.objects.filter(registered_at__isnull=True).count()],
        "marks": sorted(
            LessonAttendance.objects.values_list(
                "lesson__start",
                "lesson__group_id",
                "pupil_id",
                "organiser_id",
                "date",
                "scheduled_minutes",
                "absent_minutes",
                "late_minutes",
                "is_valid",
                "reason__code",
            )
        ),
        "history": sorted(
            (
                c.attendance.pupil_id,
                c.lesson.start,
                repr(sorted((c.old or {}).items())),
                repr(sorted(c.new.items())),
            )
            for c in AttendanceChange.objects.select_related("attendance", "lesson")
        ),
        "days": aggregates()["days"],
        "weeks": aggregates()["weeks"],
    }


def aggregates() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "days": sorted(
            PupilDay.objects.values_list(
                "pupil_id",
                "organiser_id",
                "date",
                "lessons",
                "scheduled_minutes",
                "absent_minutes",
                "valid_minutes",
                "invalid_minutes",
                "unknown_minutes",
                "late_minutes",
                "late_count",
            )
        ),
        "weeks": sorted(
            PupilSubjectWeek.objects.values_list(
                "pupil_id",
                "organiser_id",
                "subject_id",
                "week",
                "scheduled_minutes",
                "absent_minutes",
                "invalid_minutes",
            )
        ),
        "months": sorted(PupilMonth.objects.values_list(*store.MONTHS.columns)),
        "pupil_weeks": sorted(PupilWeek.objects.values_list(*store.WEEKS.columns)),
    }


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each import's way: True when the fast path took it (wrote or refused it)."""
    seen: list[bool] = []
    original = fast.import_attendance

    def counted(*args: Any, **kwargs: Any) -> load.Result | None:
        try:
            result = original(*args, **kwargs)
        except load.Rejected:
            seen.append(True)  # refused by the fast path's own checks
            raise
        seen.append(result is not None)
        return result

    monkeypatch.setattr(fast, "import_attendance", counted)
    return seen


def imported(raw: bytes, **options: Any) -> load.Result:
    with translation.override("en"):
        return load.import_file("attendance", raw, **options)


def postgres() -> bool:
    return connection.vendor == "postgresql"


def test_the_same_file_twice_changes_nothing(town, calls):
    raw = data(rows(town, 1), crlf=True)

    first = imported(raw)
    after_first = state()
    again = imported(raw)

    assert (first.rows, first.created, first.changed) == (126, 126, 0)
    assert (again.created, again.changed, again.unchanged) == (0, 0, 126)
    assert state() == after_first
    assert len(after_first["lessons"]) == 2 * len(DAYS) * len(TIMES)
    assert calls == ([True, True] if postgres() else [])


def test_the_aggregates_equal_a_full_rebuild(town, calls):
    imported(data(rows(town, 2)))
    imported(data(rows(town, 3)[::2]))  # half the marks change

    kept = aggregates()
    store.rebuild()

    assert kept == aggregates()
    assert kept["days"] and kept["weeks"]
    assert any(day[7] for day in kept["days"])  # some invalid minutes, not all zero
    assert calls == ([True, True] if postgres() else [])


def _places(model: Any, *key: str) -> dict[tuple[Any, ...], Any]:
    """Each aggregate row's physical place (PostgreSQL's ctid): a rewritten row moves."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(key)}, ctid::text FROM {model._meta.db_table}")  # noqa: S608
        return {row[:-1]: row[-1] for row in cursor.fetchall()}


def test_a_late_arrival_rewrites_its_day_and_no_subject_week(town, calls):
    lines = rows(town, 4)
    imported(data(lines))
    at = next(n for n, line in enumerate(lines) if line.split(";")[7:9] == ["0", "0"])
    cells = lines[at].split(";")
    cells[8] = "5"  # late: the day's sums change, the subject week keeps no lateness
    places = {"days": ("pupil_id", "date"), "weeks": ("pupil_id", "subject_id", "week")}
    models = {"days": PupilDay, "weeks": PupilSubjectWeek}
    # Where a row lies is PostgreSQL's to say (ctid): the fast path's own upserts.
    where = (
        (lambda: {n: _places(models[n], *key) for n, key in places.items()}) if postgres() else dict
    )
    before = where()

    result = imported(data([*lines[:at], ";".join(cells), *lines[at + 1 :]]))
    after = where()

    assert (result.changed, result.created) == (1, 0)
    if postgres():
        moved = {
            name: {key for key, place in before[name].items() if after[name][key] != place}
            for name in places
        }
        pupil = s.Pupil.objects.get(personnummer=cells[0]).pk
        assert moved == {"days": {(pupil, dt.date.fromisoformat(cells[4]))}, "weeks": set()}
    kept = aggregates()
    store.rebuild()
    assert kept == aggregates()


def test_the_fast_path_writes_what_the_row_by_row_path_writes(town, calls, monkeypatch):
    """Marks, history (also of a reason set by hand that no longer fits), lessons and
    aggregates: the same rows either way."""
    results = []
    for way in ("fast", "rows"):
        if way == "rows":
            monkeypatch.setattr(fast, "usable", lambda raw, name: False)
        point = transaction.savepoint()
        first = imported(data(rows(town, 4)))
        mark = (
            LessonAttendance.objects.filter(absent_minutes__gt=0, is_valid=True)
            .order_by("pupil_id", "lesson__start")
            .first()
        )
        assert mark is not None
        mark.reason = AbsenceReason.objects.get(code="SJUK")
        mark.save()
        second = imported(data(rows(town, 5)))
        results.append((first, second, state()))
        transaction.savepoint_rollback(point)
    (fast_first, fast_second, fast_state), (row_first, row_second, row_state) = results
    for key in fast_state:
        a, b = fast_state[key], row_state[key]
        assert [x for x in a if x not in b] == [x for x in b if x not in a], key
    assert fast_state == row_state
    assert (fast_first.created, fast_second.changed, fast_second.unchanged) == (
        row_first.created,
        row_second.changed,
        row_second.unchanged,
    )
    assert fast_second.changed > 0 and len(fast_state["history"]) > fast_first.created // 4
    assert calls[:2] == ([True, True] if postgres() else [])


def test_a_bad_row_among_many_writes_nothing_and_is_reported_as_row_by_row(
    town, calls, monkeypatch
):
    imported(data(rows(town, 6)[:20]))
    before = state()
    lines = rows(town, 7)
    lines[40] = lines[40].replace("2026-03-", "2026-02-3")  # 2026-02-31x: no such date
    lines[60] = lines[60].replace(";12345678;", ";87654321;")
    lines[61] = lines[0]  # the same pupil and lesson twice

    with pytest.raises(load.Rejected) as error:
        imported(data(lines))
    monkeypatch.setattr(fast, "usable", lambda raw, name: False)
    with pytest.raises(load.Rejected) as by_rows:
        imported(data(lines))

    assert state() == before
    found = [(p.line, p.column, p.reason) for p in error.value.problems]
    assert found == [(p.line, p.column, p.reason) for p in by_rows.value.problems]
    assert [(line, column) for line, column, _reason in found] == [
        (42, "Datum"),
        (62, "Skolenhetskod"),
        (63, "Personnummer"),
    ]
    assert calls == ([True, True] if postgres() else [])


def test_a_lesson_of_other_minutes_rolls_back_every_row(town, calls):
    lines = rows(town, 8)
    before = state()
    clash = lines[-1].split(";")
    clash[0] = town["pupils"][0].personnummer  # a pupil of the other group, same lesson time
    clash[6], clash[7], clash[8] = "50", "0", "0"
    lines.append(";".join(clash))

    with pytest.raises(load.Rejected) as error:
        imported(data(lines))

    assert [(p.line, p.column) for p in error.value.problems] == [(len(lines) + 1, "Minuter")]
    assert state() == before  # not even the lessons the file created
    assert calls == ([True] if postgres() else [])


def test_a_quoted_file_takes_the_row_by_row_path_and_imports_the_same(town, calls):
    lines = rows(town, 9)[:12]
    quoted = [line.replace(";12345678;", ';"12345678";') for line in lines]

    result = imported(data(quoted))

    assert (result.created, result.rows) == (12, 12)
    assert LessonAttendance.objects.count() == 12
    assert calls == ([False] if postgres() else [])


def test_a_dry_run_writes_nothing(town, calls):
    result = imported(data(rows(town, 10)), dry_run=True)

    assert result.created == 126
    assert not Lesson.objects.exists() and not LessonAttendance.objects.exists()
    assert not PupilDay.objects.exists()
