"""Helpers for the notice tests: lessons today, and marks registered the way teachers do."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from fullfolj.attendance.actions import Mark, register_lesson
from fullfolj.attendance.models import Lesson
from fullfolj.schools import models as s
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(hour: int, minute: int = 0, day: int = 18) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=STOCKHOLM)


def lesson_at(cast, hour: int, minutes: int = 60, *, subject=None) -> Lesson:  # type: ignore[no-untyped-def]
    """A lesson of 7A-MA today at `hour`, with Alva and the protected Cora in the group."""
    for pupil in (cast.pupil, cast.protected):
        s.GroupMembership.objects.get_or_create(
            group=cast.group, pupil=pupil, defaults={"start": cast.year.start}
        )
    return f.lesson(
        cast.group,
        subject or cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 18, hour, 0)),
        minutes=minutes,
    )


def mark_invalid(cast, lesson: Lesson, pupil=None, *, minutes: int | None = None) -> None:  # type: ignore[no-untyped-def]
    pupil = pupil or cast.pupil
    register_lesson(
        lesson,
        [
            Mark(
                pupil.pk,
                absent_minutes=minutes or lesson.minutes,
                is_valid=False,
                reason=cast.reasons["OGIL"],
            )
        ],
        by=cast.teacher,
    )


def mark_valid(cast, lesson: Lesson, pupil=None) -> None:  # type: ignore[no-untyped-def]
    pupil = pupil or cast.pupil
    register_lesson(
        lesson,
        [Mark(pupil.pk, absent_minutes=lesson.minutes, is_valid=True, reason=cast.reasons["SJUK"])],
        by=cast.teacher,
    )


def mark_present(cast, lesson: Lesson, pupil=None) -> None:  # type: ignore[no-untyped-def]
    pupil = pupil or cast.pupil
    register_lesson(lesson, [Mark(pupil.pk)], by=cast.teacher)
