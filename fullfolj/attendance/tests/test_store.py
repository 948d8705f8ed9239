"""The tuned store writes exactly the rows of its plain ORM reference, on SQLite and PostgreSQL:
the same saves and corrections, through either, leave identical marks, history, aggregates and
lesson versions, and the listeners read the same."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fullfolj.attendance import hooks, queries
from fullfolj.attendance.actions import Loaded, Mark, StaleRegister, register_lesson
from fullfolj.attendance.models import (
    AttendanceChange,
    Lesson,
    LessonAttendance,
    PupilDay,
    PupilMonth,
    PupilSubjectWeek,
    PupilWeek,
)
from fullfolj.attendance.store import MONTHS, REFERENCE, TUNED, WEEKS, Store
from fullfolj.schools import models as s
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM)
# (day of March 2026, hour, minutes, subject): two lessons on one day, a third that week, one
# the week before; the cast already has a mark on the 16th.
LESSONS = [(16, 10, 60, "MA"), (16, 13, 40, "SV"), (17, 9, 60, "MA"), (10, 9, 50, "SV")]
PUPILS = 4


@dataclass(frozen=True)
class Step:
    lesson: int
    marks: tuple[tuple[int, int, int, str], ...]  # pupil, absent share, late, status
    form: bool  # saved as the register page does: from its read, with the version it showed
    behind: int  # the form was loaded this many saves ago (a stale form, maybe refused)


# Absent: none, part or all of the lesson; status: the validity or a reason code.
marks = st.tuples(
    st.integers(0, PUPILS - 1),
    st.sampled_from([0, 1, 2]),
    st.sampled_from([0, 5]),
    st.sampled_from(["unknown", "valid", "invalid", "SJUK", "LEDIG", "OGIL"]),
)
steps = st.lists(
    st.builds(
        Step,
        lesson=st.integers(0, len(LESSONS) - 1),
        marks=st.lists(marks, max_size=PUPILS, unique_by=lambda m: m[0]).map(tuple),
        form=st.booleans(),
        behind=st.sampled_from([0, 0, 0, 1]),
    ),
    min_size=1,
    max_size=6,
)


def _mark(cast, lesson: Lesson, pupil: s.Pupil, absent: int, late: int, status: str) -> Mark:  # type: ignore[no-untyped-def]
    minutes = [0, lesson.minutes // 2, lesson.minutes][absent]
    reason = cast.reasons.get(status)
    valid = (
        reason.is_valid if reason else {"unknown": None, "valid": True, "invalid": False}[status]
    )
    return Mark(
        pupil.pk,
        absent_minutes=minutes,
        late_minutes=min(late, lesson.minutes - minutes),
        is_valid=valid,
        reason=reason,
    )


class Heard:
    """A listener that records what it hears, as the guardian notices do."""

    def __init__(self) -> None:
        self.log: list[object] = []

    def concerns(self, old, new):  # type: ignore[no-untyped-def]
        return bool(new["absent_minutes"] or (old and old["absent_minutes"]))

    def read(self, pairs):  # type: ignore[no-untyped-def]
        pupils = sorted(pupil for pupil, _day in pairs)
        return (
            f"SELECT pupil_id, SUM(absent_minutes) FROM {LessonAttendance._meta.db_table} "  # noqa: S608
            f"WHERE pupil_id IN ({', '.join(['%s'] * len(pupils))}) GROUP BY pupil_id "
            "ORDER BY pupil_id",
            pupils,
        )

    def heard(self, pairs, rows):  # type: ignore[no-untyped-def]
        self.log.append((sorted(pairs), [tuple(row) for row in rows]))


def _rows() -> dict[str, object]:
    """Every row the saves touch, without ids (the two runs draw different ones)."""

    def plain(value: object) -> object:
        return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value

    return {
        "marks": sorted(
            LessonAttendance.objects.values_list(
                "lesson_id",
                "pupil_id",
                "organiser_id",
                "date",
                "scheduled_minutes",
                "absent_minutes",
                "late_minutes",
                "is_valid",
                "reason_id",
            )
        ),
        "history": sorted(
            (lesson, pupil, version, by, at, plain(old), plain(new))
            for lesson, pupil, version, by, at, old, new in AttendanceChange.objects.values_list(
                "lesson_id",
                "attendance__pupil_id",
                "version",
                "changed_by_id",
                "changed_at",
                "old",
                "new",
            )
        ),
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
        "months": sorted(PupilMonth.objects.values_list(*MONTHS.columns)),
        "pupil_weeks": sorted(PupilWeek.objects.values_list(*WEEKS.columns)),
        "lessons": sorted(
            Lesson.objects.values_list("pk", "version", "registered_at", "registered_by_id")
        ),
    }


def _run(cast, world, plan: list[Step], store: Store) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The steps through `store`, what they left, and all of it rolled back."""
    lessons, pupils = world
    heard = Heard()
    outcomes: list[object] = []
    hooks.listen(heard)
    saved = transaction.savepoint()
    try:
        with time_machine.travel(NOW, tick=False):
            # Each lesson's page, as loaded before each of its saves.
            loads: dict[int, list[tuple[int, Loaded]]] = {}
            for step in plan:
                lesson = Lesson.objects.get(pk=lessons[step.lesson].pk)
                sheet = queries.register_sheet(lesson)
                pages = loads.setdefault(step.lesson, [])
                pages.append(
                    (
                        lesson.version,
                        Loaded(
                            sheet.marks,
                            {p.pk: p.organiser_id for p in sheet.pupils if p.pk not in sheet.marks},
                        ),
                    )
                )
                version, loaded = pages[max(0, len(pages) - 1 - step.behind)]
                marks = [_mark(cast, lesson, pupils[p], *rest) for p, *rest in step.marks]
                extra = {"expected_version": version, "loaded": loaded} if step.form else {}
                try:
                    history = register_lesson(lesson, marks, by=cast.teacher, store=store, **extra)
                except StaleRegister as stale:
                    outcomes.append(("stale", sorted(c.pk for c in stale.changes) != []))
                else:
                    outcomes.append(
                        sorted(
                            (
                                c.attendance.pupil_id,
                                c.version,
                                c.pk is not None,
                                c.attendance.pk is not None,
                            )
                            for c in history
                        )
                    )
            return {"outcomes": outcomes, "heard": heard.log, **_rows()}
    finally:
        transaction.savepoint_rollback(saved)
        hooks.forget(heard)


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    swedish = f.subject("SV", "Svenska")
    pupils = [cast.pupil, *(f.pupil(cast.org, f"Elev{n}", "Lager") for n in range(PUPILS - 1))]
    for pupil in pupils[1:]:
        f.place(pupil, cast.north, None, cast.year.start)
        s.GroupMembership.objects.create(group=cast.group, pupil=pupil, start=cast.year.start)
    lessons = [
        f.lesson(
            cast.group,
            swedish if subject == "SV" else cast.maths,
            cast.teacher,
            cast.spring,
            dt.datetime(2026, 3, day, hour, 0, tzinfo=STOCKHOLM),
            minutes,
        )
        for day, hour, minutes, subject in LESSONS
    ]
    return lessons, pupils


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # each run rolls back
@given(plan=steps)
def test_the_tuned_store_writes_what_the_reference_writes(cast, world, plan):
    tuned = _run(cast, world, plan, TUNED)
    assert tuned == _run(cast, world, plan, REFERENCE)


@pytest.mark.django_db
def test_the_comparison_sees_the_rows(cast, world):
    """A save, its correction and a stale form: the runs above compare real rows."""
    plan = [
        Step(0, ((0, 2, 0, "OGIL"), (1, 0, 5, "unknown")), form=True, behind=0),
        Step(0, ((0, 1, 0, "SJUK"), (2, 2, 0, "invalid")), form=True, behind=0),
        Step(0, ((1, 1, 0, "valid"),), form=True, behind=1),
    ]
    rows = _run(cast, world, plan, TUNED)
    assert rows == _run(cast, world, plan, REFERENCE)
    assert len(rows["history"]) == 4  # two marks in each save; none of the stale form
    assert rows["outcomes"][2] == ("stale", True)
    assert rows["heard"][0][1] == [(cast.pupil.pk, 120)]  # the cast's 60 and this lesson's 60
    assert len(rows["days"]) > 1 and len(rows["weeks"]) > 1
