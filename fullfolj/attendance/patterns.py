"""Reads for the attendance views: a group's absence for a period, a pupil's calendar and the
pupil's absence by time of day (docs/absence.md: patterns matter as much as levels)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import ExtractHour
from django.utils.translation import gettext_lazy

from fullfolj.lib import clock
from fullfolj.schools.calendar import term_so_far
from fullfolj.schools.models import DayOff, Pupil

from .models import LessonAttendance, PupilDay
from .queries import Absence, absence_by_pupil

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
)
SORT_KEYS = ("name", "class", "total", "invalid", "valid", "unknown", "late")


@dataclass(frozen=True)
class GroupRow:
    pupil: Pupil
    class_name: str
    absence: Absence


def group_absence(
    pupils: Iterable[Pupil],
    classes: dict[int, str],
    start: dt.date,
    end: dt.date,
    *,
    sort: str = "name",
    descending: bool = False,
) -> list[GroupRow]:
    """Absence per pupil over one period (one query), sorted by the chosen column."""
    listed = list(pupils)
    absence = absence_by_pupil((p.pk for p in listed), {"period": (start, end)})
    rows = [GroupRow(p, classes.get(p.pk, ""), absence[p.pk]["period"]) for p in listed]

    def key(row: GroupRow) -> tuple[object, ...]:
        name = (row.pupil.last_name, row.pupil.first_name, row.pupil.pk)
        a = row.absence
        value = {
            "class": row.class_name,
            "total": a.total_rate,
            "invalid": a.invalid_rate,
            "valid": a.valid_rate,
            "unknown": a.unknown_rate,
            "late": a.late,
        }.get(sort)
        if sort == "name" or sort not in SORT_KEYS:
            return name
        if isinstance(value, str):
            return (value, *name)
        return (-1.0 if value is None else float(value), *name)

    return sorted(rows, key=key, reverse=descending)


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    absence: Absence | None  # None: a school day without registered lessons
    day_off: str = ""

    @property
    def level(self) -> str:
        """The colour band: none, some (<25 %), much (<75 %), all (whole day)."""
        if self.absence is None or not self.absence.scheduled:
            return "none" if not self.day_off else "off"
        rate = self.absence.total_rate or 0
        if rate == 0:
            return "present"
        return "some" if rate < 25 else "much" if rate < 75 else "all"


def pupil_calendar(
    pupil: Pupil, start: dt.date, end: dt.date
) -> list[tuple[dt.date, list[CalendarDay]]]:
    """One row per week (Monday first), one cell per weekday from start to end, in two queries."""
    days = {
        d.date: Absence(
            d.scheduled_minutes,
            d.absent_minutes,
            d.valid_minutes,
            d.invalid_minutes,
            d.unknown_minutes,
            d.late_minutes,
        )
        for d in PupilDay.objects.filter(pupil=pupil, date__gte=start, date__lte=end)
    }
    off = dict(
        DayOff.objects.filter(
            organiser_id=pupil.organiser_id, date__gte=start, date__lte=end
        ).values_list("date", "name")
    )
    weeks: list[tuple[dt.date, list[CalendarDay]]] = []
    monday = start - dt.timedelta(days=start.weekday())
    while monday <= end:
        cells = []
        for offset in range(5):
            day = monday + dt.timedelta(days=offset)
            cells.append(CalendarDay(day, days.get(day), off.get(day, "")))
        weeks.append((monday, cells))
        monday += dt.timedelta(days=7)
    return weeks


def absence_by_time_of_day(
    pupil_id: int, start: dt.date, end: dt.date
) -> list[tuple[int, Absence]]:
    """Absence by the hour lessons start (local time), earliest first."""
    rows = (
        LessonAttendance.objects.filter(pupil_id=pupil_id, date__gte=start, date__lte=end)
        .annotate(hour=ExtractHour("lesson__start"))
        .values("hour")
        .annotate(
            scheduled=Sum("scheduled_minutes"),
            absent=Sum("absent_minutes"),
            valid=Sum("absent_minutes", filter=Q(is_valid=True)),
            invalid=Sum("absent_minutes", filter=Q(is_valid=False)),
            unknown=Sum("absent_minutes", filter=Q(is_valid__isnull=True)),
            late=Sum("late_minutes"),
        )
        .order_by("hour")
    )
    return [(row["hour"], Absence.from_row(row)) for row in rows]


def hour_labels(hours: list[tuple[int, Absence]]) -> list[tuple[str, Absence]]:
    """Each starting hour written as the span it covers: "08:00–08:59"."""
    return [(f"{hour:02d}:00–{hour:02d}:59", absence) for hour, absence in hours]


def for_pupil(pupil: Pupil, viewer: object) -> dict[str, object]:
    """The pupil record's patterns section: absence by time of day this term."""
    start, end = term_so_far(clock.today())
    return {"pupil": pupil, "hours": hour_labels(absence_by_time_of_day(pupil.pk, start, end))}
