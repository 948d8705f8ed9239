"""Builders for ladder tests: per-day attendance rows and small ladders with known thresholds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from fullfolj.attendance.models import PupilDay
from fullfolj.attendance.store import refresh_pupil_periods
from fullfolj.ladder.models import LadderStep, LadderTrigger
from fullfolj.schools.models import Pupil

TODAY = dt.date(2026, 3, 18)


def school_days(end: dt.date, count: int) -> list[dt.date]:
    """The `count` weekdays up to and including `end`, oldest first."""
    days, day = [], end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def set_days(pupil: Pupil, rows: Iterable[tuple[dt.date, int, int, int]]) -> None:
    """Replace the pupil's per-day aggregates: (date, scheduled, absent, invalid) minutes."""
    PupilDay.objects.filter(pupil=pupil).delete()
    PupilDay.objects.bulk_create(
        PupilDay(
            pupil=pupil,
            organiser=pupil.organiser,
            date=day,
            lessons=5,
            scheduled_minutes=scheduled,
            absent_minutes=absent,
            valid_minutes=absent - invalid,
            invalid_minutes=invalid,
        )
        for day, scheduled, absent, invalid in rows
    )
    refresh_pupil_periods()


def make_step(
    order: int,
    *triggers: dict[str, Any],
    actor: str = "mentor",
    deadline: int = 7,
    repeat: int = 30,
    organiser: Any = None,
    name: str | None = None,
) -> LadderStep:
    step = LadderStep.objects.create(
        order=order,
        name=name or f"Steg {order}",
        actor=actor,
        deadline_days=deadline,
        repeat_after_days=repeat,
        organiser=organiser,
    )
    for trigger in triggers:
        LadderTrigger.objects.create(step=step, **trigger)
    return step


@pytest.fixture
def empty_ladder(db: object) -> None:
    """No steps: each test builds the ladder it needs (the default ladder ships in 0002)."""
    LadderStep.objects.all().delete()


@pytest.fixture
def days() -> Callable[..., None]:
    return set_days
