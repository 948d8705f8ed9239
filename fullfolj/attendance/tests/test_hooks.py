"""The register's listeners (attendance.hooks) hear of changed marks inside its transaction:
what they write commits and rolls back with the marks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from fullfolj.attendance import hooks
from fullfolj.attendance.actions import Loaded, Mark, register_lesson
from fullfolj.attendance.models import AbsenceReason, LessonAttendance
from fullfolj.schools import models as s
from tests import factories as f


class Outbox:
    """A listener that keeps a row per heard (pupil, day) in a table of its own (reasons)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail, self.heard_rows = fail, []

    def concerns(self, old, new):  # type: ignore[no-untyped-def]
        return bool(new["absent_minutes"])

    def read(self, pairs):  # type: ignore[no-untyped-def]
        [(pupil, day)] = pairs
        return (
            f"SELECT pupil_id, absent_minutes FROM {LessonAttendance._meta.db_table} "  # noqa: S608
            "WHERE pupil_id = %s AND date = %s",
            [pupil, day],
        )

    def heard(self, pairs, rows):  # type: ignore[no-untyped-def]
        self.heard_rows.append(sorted(rows))
        for pupil, _day in pairs:
            AbsenceReason.objects.create(code=f"P{pupil}", name="heard", is_valid=False)
        if self.fail:
            raise RuntimeError("the outbox refused")


@pytest.fixture
def outbox():  # type: ignore[no-untyped-def]
    listener = Outbox()
    hooks.listen(listener)
    yield listener
    hooks.forget(listener)


@pytest.fixture
def lesson(cast):  # type: ignore[no-untyped-def]
    s.GroupMembership.objects.create(
        group=cast.group, pupil=cast.other_pupil, start=cast.year.start
    )
    return f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
    )


def _loaded(cast) -> Loaded:  # type: ignore[no-untyped-def]
    return Loaded(
        rows={}, organisers={p.pk: p.organiser_id for p in (cast.pupil, cast.other_pupil)}
    )


@pytest.mark.parametrize("form", [False, True], ids=["plain", "loaded form"])
@pytest.mark.django_db
def test_a_listener_hears_only_its_changes_and_reads_the_new_marks(cast, lesson, outbox, form):
    extra = {"expected_version": 0, "loaded": _loaded(cast)} if form else {}
    register_lesson(
        lesson,
        [Mark(cast.pupil.pk, absent_minutes=20), Mark(cast.other_pupil.pk, late_minutes=5)],
        by=cast.teacher,
        **extra,
    )
    assert outbox.heard_rows == [[(cast.pupil.pk, 20)]]
    assert AbsenceReason.objects.filter(code=f"P{cast.pupil.pk}").exists()


@pytest.mark.parametrize("form", [False, True], ids=["plain", "loaded form"])
@pytest.mark.django_db
def test_a_rolled_back_register_keeps_nothing_the_listener_wrote(cast, lesson, outbox, form):
    extra = {"expected_version": 0, "loaded": _loaded(cast)} if form else {}
    with pytest.raises(RuntimeError), transaction.atomic():
        register_lesson(lesson, [Mark(cast.pupil.pk, absent_minutes=20)], by=cast.teacher, **extra)
        assert AbsenceReason.objects.filter(code=f"P{cast.pupil.pk}").exists()
        raise RuntimeError("the request failed after the save")
    assert not AbsenceReason.objects.filter(code=f"P{cast.pupil.pk}").exists()
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()


@pytest.mark.django_db
def test_a_listener_that_fails_saves_no_mark(cast, lesson, outbox):
    outbox.fail = True
    with pytest.raises(RuntimeError):
        register_lesson(lesson, [Mark(cast.pupil.pk, absent_minutes=20)], by=cast.teacher)
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()
    lesson.refresh_from_db()
    assert lesson.version == 0


def test_the_guardian_notices_listen_once_the_apps_are_ready():
    assert [type(listener).__name__ for listener in hooks.listeners()] == ["GuardianNotices"]
