"""Reads of attendance shaped for pages and reports; all from the kept aggregates (PupilDay, and
PupilMonth and PupilWeek for a window's whole months and weeks) except the breakdown by
subject, which needs the lessons."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import IntegerField, Q, QuerySet, Sum, Value

from fullfolj.schools.models import GroupMembership, Pupil

from . import hooks
from .models import AbsenceReason, Lesson, LessonAttendance, PupilDay, PupilMonth, PupilWeek
from .store import fetch_together, next_monday, next_month


def active_adaptations(pupil_ids: Iterable[int], day: dt.date) -> dict[int, list[str]]:
    """Each pupil's adaptations (extra anpassningar) active on `day`, for the register.

    The support app owns them (docs/support.md, the support ladder) and provides them through
    `hooks.provide_adaptations`; without it there are none, so the register shows nothing
    rather than guessing.
    """
    ids = list(pupil_ids)
    return hooks.adaptations(ids, day) if ids else {}


@dataclass(frozen=True)
class Sheet:
    """What a lesson's register page shows: the reasons, the marks and the pupils."""

    reasons: list[AbsenceReason]  # valid first, by name
    marks: dict[int, LessonAttendance]  # by pupil, each with its reason
    pupils: list[Pupil]  # by name


def register_sheet(lesson: Lesson, roster: Q | None = None) -> Sheet:
    """The register's reasons, marks and pupils, read in one round trip (on PostgreSQL).

    The pupils are the group's members on the lesson's date and anyone already marked, of
    those `roster` (the gate's) lets the viewer see.
    """
    # One UNION of two index lookups: an OR of the two would scan every pupil.
    members = (
        GroupMembership.objects.active_on(lesson.date)
        .filter(group_id=lesson.group_id)
        .values("pupil_id")
    )
    marked = LessonAttendance.objects.filter(lesson=lesson).values("pupil_id")
    reasons, rows, pupils = fetch_together(
        [
            AbsenceReason.objects.order_by("-is_valid", "name"),
            LessonAttendance.objects.filter(lesson=lesson),
            Pupil.objects.filter(pk__in=members.union(marked))
            .filter(roster or Q())
            .order_by("last_name", "first_name", "pk"),
        ]
    )
    by_id = {r.pk: r for r in reasons}
    marks = {}
    for row in rows:
        if row.reason_id is not None:
            row.reason = by_id[row.reason_id]
        marks[row.pupil_id] = row
    return Sheet(reasons, marks, pupils)


@dataclass(frozen=True)
class Absence:
    """Absent minutes over scheduled minutes for some window."""

    scheduled: int = 0
    absent: int = 0
    valid: int = 0
    invalid: int = 0
    unknown: int = 0
    late: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any], prefix: str = "") -> Absence:
        """The sums of a `.values().annotate()` row; a sum over no rows (None) is 0."""
        return cls(**{k: row[prefix + k] or 0 for k in cls.__dataclass_fields__})

    def __add__(self, other: Absence) -> Absence:
        return Absence(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )

    def rate(self, minutes: int) -> float | None:
        return None if not self.scheduled else 100.0 * minutes / self.scheduled

    @property
    def total_rate(self) -> float | None:
        return self.rate(self.absent)

    @property
    def valid_rate(self) -> float | None:
        return self.rate(self.valid)

    @property
    def invalid_rate(self) -> float | None:
        return self.rate(self.invalid)

    @property
    def unknown_rate(self) -> float | None:
        return self.rate(self.unknown)


def at_least(absent: int, scheduled: int, percent: int) -> bool:
    """Absent for at least `percent` % of the scheduled minutes (in whole numbers: a share
    exactly at the line counts, with no rounding either way)."""
    return scheduled > 0 and absent * 100 >= percent * scheduled


def _sums(prefix: str, window: Q) -> dict[str, Sum]:
    fields = {
        "scheduled": "scheduled_minutes",
        "absent": "absent_minutes",
        "valid": "valid_minutes",
        "invalid": "invalid_minutes",
        "unknown": "unknown_minutes",
        "late": "late_minutes",
    }
    return {f"{prefix}_{name}": Sum(column, filter=window) for name, column in fields.items()}


# The window sums leave late minutes out: the days' covering index (pupilday_date_sums) holds
# the absence columns only, and reading late too would scan the table.
_FIGURES = ("scheduled", "absent", "valid", "invalid", "unknown")


def _week_split(first: dt.date, last: dt.date) -> tuple[list[dt.date], list[Q]]:
    """The ISO weeks (Monday to Sunday) wholly inside `first` to `last` (read from PupilWeek)
    and the days before and after them (read from PupilDay)."""
    monday = first if first.weekday() == 0 else next_monday(first)
    if monday + dt.timedelta(days=6) > last:
        return [], [Q(date__gte=first, date__lte=last)]
    edges = [Q(date__gte=first, date__lt=monday)] if first < monday else []
    weeks: list[dt.date] = []
    while monday + dt.timedelta(days=6) <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    if monday <= last:
        edges.append(Q(date__gte=monday, date__lte=last))
    return weeks, edges


def _split(start: dt.date, until: dt.date) -> tuple[list[dt.date], list[dt.date], list[Q]]:
    """The months wholly inside `start` to `until` (read from PupilMonth), the whole weeks of
    what the months leave (PupilWeek), and the days left over (PupilDay): a term is three or
    four months' rows per pupil, a few weeks' and a few days', instead of a hundred days."""
    months: list[dt.date] = []
    stretches: list[tuple[dt.date, dt.date]] = []
    month = start.replace(day=1)
    while month <= until:
        following = next_month(month)
        first, last = max(month, start), min(following - dt.timedelta(days=1), until)
        if first == month and last == following - dt.timedelta(days=1):
            months.append(month)
        else:
            stretches.append((first, last))
        month = following
    if not months:  # a few weeks across a month's end: one stretch
        stretches = [(start, until)] if start <= until else []
    weeks: list[dt.date] = []
    days: list[Q] = []
    for first, last in stretches:
        whole, edges = _week_split(first, last)
        weeks += whole
        days += edges
    return months, weeks, days


def _window_sql(
    pupils: QuerySet[Any],
    windows: list[tuple[dt.date, dt.date]],
    *,
    around: str = "{sums}",
    chosen_columns: str = "id",
) -> tuple[str, list[Any]] | None:
    """One row a pupil and window (w, the window's place in `windows`) with its five sums
    (s_scheduled ..), as SQL over PupilMonth's whole months, PupilWeek's whole weeks and
    PupilDay's days left over (None when nothing can match). `pupils` is a query of pupil ids,
    kept a subquery rather than a list of thousands of ids, and run once (a WITH, `chosen`,
    its columns `chosen_columns`, the pupil's id first) however many parts read it.

    `around`: a query around those rows, `{sums}` where they go; it may read `chosen` too.
    """
    columns = [f"{name}_minutes" for name in _FIGURES]
    sources: list[QuerySet[Any]] = []
    for index, (start, until) in enumerate(windows):
        months, weeks, edges = _split(start, until)
        tag = Value(index, output_field=IntegerField())
        if months:
            sources.append(PupilMonth.objects.filter(month__in=months).annotate(w=tag))
        if weeks:
            sources.append(PupilWeek.objects.filter(week__in=weeks).annotate(w=tag))
        # Each edge its own part: a date range each reads the covering index, an OR of them
        # the whole table.
        for edge in edges:
            sources.append(PupilDay.objects.filter(edge).annotate(w=tag))
    if not sources:
        return None
    try:
        chosen, chosen_params = pupils.query.sql_with_params()
    except EmptyResultSet:  # an empty pupil set (`none()`) has no SQL
        return None
    params = list(chosen_params)
    parts = []
    for source in sources:
        query = source.order_by().values_list("pupil_id", "w", *columns).query
        sql, part_params = query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS x WHERE x.pupil_id IN (SELECT id FROM chosen)")  # noqa: S608 - the ORM's own SQL and placeholders
        params += list(part_params)
    sums = ", ".join(f"SUM({c}) AS s_{n}" for c, n in zip(columns, _FIGURES, strict=True))
    rows = (
        f"SELECT pupil_id, w, {sums} FROM ({' UNION ALL '.join(parts)}) AS u GROUP BY pupil_id, w"  # noqa: S608 - as above
    )
    return f"WITH chosen ({chosen_columns}) AS ({chosen}) " + around.format(sums=rows), params


def _absence(row: Iterable[Any]) -> Absence:
    # A sum of sums is a numeric on PostgreSQL (a Decimal): the figures are whole minutes.
    return Absence(**dict(zip(_FIGURES, (int(v or 0) for v in row), strict=True)))


def absence_in_windows(
    pupils: QuerySet[Any], windows: dict[str, tuple[dt.date, dt.date]]
) -> dict[str, dict[int, Absence]]:
    """Per named window (first and last day inclusive), each pupil's absence in it, for the
    pupils with a school day in it; summed in the database in one query (no late minutes)."""
    names = list(windows)
    found: dict[str, dict[int, Absence]] = {name: {} for name in names}
    window = _window_sql(pupils, list(windows.values()))
    if window is None:
        return found
    with connection.cursor() as cursor:
        cursor.execute(*window)
        for pupil_id, index, *sums in cursor.fetchall():
            found[names[index]][pupil_id] = _absence(sums)
    return found


def absence_over(
    pupils: QuerySet[Any], start: dt.date, until: dt.date, *, at_least_percent: int | None = None
) -> dict[int, Absence]:
    """Each pupil's absence from `start` to `until` (inclusive), summed in the database, for
    the pupils with any school day in it; with `at_least_percent`, only those absent at least
    that share (at_least's arithmetic, drawn in the database so only they travel). No late
    minutes."""
    around = "{sums}"
    if at_least_percent is not None:
        over = _at_least_sql("s_absent", at_least_percent)
        around = f"SELECT * FROM ({{sums}}) AS p WHERE {over}"  # noqa: S608 - our own fragments
    window = _window_sql(pupils, [(start, until)], around=around)
    if window is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*window)
        return {row[0]: _absence(row[2:]) for row in cursor.fetchall()}


def _at_least_sql(minutes: str, percent: int, scheduled: str = "s_scheduled") -> str:
    """at_least's arithmetic over the window's sums, in SQL (the percent a whole number)."""
    return f"{scheduled} > 0 AND {minutes} * 100 >= {int(percent)} * {scheduled}"


@dataclass(frozen=True)
class AtLine:
    """A school's pupils and, of them, those absent at least a line over a window."""

    pupils: int
    at_line: int = 0
    invalid_at_line: int = 0  # at the line by invalid absence alone


def at_line_per_school(
    placed: QuerySet[Any], start: dt.date, until: dt.date, line: int
) -> dict[int, AtLine]:
    """Per school, its pupils `placed` there (a query of distinct pupil and school ids), how
    many of them were absent at least `line` per cent from `start` to `until`, and how many
    were so by invalid absence alone; counted in the database, one query."""
    invalid = _at_least_sql("p.s_invalid", line, scheduled="p.s_scheduled")
    around = (
        "SELECT c.school_id, COUNT(*), COUNT(p.pupil_id), "  # noqa: S608 - our own fragments
        f"SUM(CASE WHEN {invalid} THEN 1 ELSE 0 END) FROM chosen c LEFT JOIN "
        f"(SELECT * FROM ({{sums}}) AS q WHERE {_at_least_sql('s_absent', line)}) AS p "
        "ON p.pupil_id = c.id GROUP BY c.school_id"
    )
    window = _window_sql(placed, [(start, until)], around=around, chosen_columns="id, school_id")
    if window is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*window)
        return {
            school: AtLine(pupils, high, int(invalid or 0))
            for school, pupils, high, invalid in cursor.fetchall()
        }


@dataclass(frozen=True)
class Together:
    """A group's absence summed together over a window."""

    absence: Absence
    pupils: int  # those with a school day in the window
    at_line: int = 0  # of them, those absent at least the line asked for


def absence_in_all(
    pupils: QuerySet[Any], start: dt.date, until: dt.date, *, line: int | None = None
) -> Together:
    """The pupils' absence from `start` to `until` summed together, how many of them had a
    school day in it and, with `line`, how many were absent at least that share (at_least's
    arithmetic); one query (no late minutes)."""
    sums = ", ".join(f"SUM(s_{n})" for n in _FIGURES)
    over = _at_least_sql("s_absent", 100 if line is None else line)
    around = f"SELECT COUNT(*), SUM(CASE WHEN {over} THEN 1 END), {sums} FROM ({{sums}}) AS p"  # noqa: S608 - as above
    window = _window_sql(pupils, [(start, until)], around=around)
    if window is None:
        return Together(Absence(), 0)
    with connection.cursor() as cursor:
        cursor.execute(*window)
        count, over, *figures = cursor.fetchone()
    return Together(_absence(figures), count, int(over or 0) if line is not None else 0)


def absence_by_pupil(
    pupil_ids: Iterable[int], windows: dict[str, tuple[dt.date, dt.date]]
) -> dict[int, dict[str, Absence]]:
    """Absence per pupil for each named window (first and last day inclusive), in one query."""
    ids = list(pupil_ids)
    if not ids:
        return {}
    earliest = min(start for start, _end in windows.values())
    latest = max(end for _start, end in windows.values())
    aggregates: dict[str, Sum] = {}
    for name, (start, end) in windows.items():
        aggregates |= _sums(name, Q(date__gte=start, date__lte=end))
    rows = (
        PupilDay.objects.filter(pupil_id__in=ids, date__gte=earliest, date__lte=latest)
        .values("pupil_id")
        .annotate(**aggregates)
    )
    result: dict[int, dict[str, Absence]] = {pid: dict.fromkeys(windows, Absence()) for pid in ids}
    for row in rows:
        result[row["pupil_id"]] = {
            name: Absence.from_row(row, prefix=f"{name}_") for name in windows
        }
    return result


def weekly_absence(pupil_id: int, start: dt.date, end: dt.date) -> list[tuple[dt.date, Absence]]:
    """Absence per week (Monday first), oldest first, for a pupil's chart."""
    weeks: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    days = PupilDay.objects.filter(pupil_id=pupil_id, date__gte=start, date__lte=end)
    for day in days.values_list(
        "date",
        "scheduled_minutes",
        "absent_minutes",
        "valid_minutes",
        "invalid_minutes",
        "unknown_minutes",
        "late_minutes",
    ):
        monday = day[0] - dt.timedelta(days=day[0].weekday())
        week = weeks[monday]
        for key, value in zip(
            ("scheduled", "absent", "valid", "invalid", "unknown", "late"), day[1:], strict=True
        ):
            week[key] += value
    return [(monday, Absence(**weeks[monday])) for monday in sorted(weeks)]


def absence_per_week(pupil_ids: list[int], start: dt.date, end: dt.date) -> dict[dt.date, Absence]:
    """The pupils' absence summed together per ISO week (keyed by its Monday) from `start` to
    `end`, for a municipality's chart: the whole weeks from PupilWeek, the days of the weeks
    the window cuts from PupilDay. No late minutes."""
    weeks, edges = _week_split(start, end) if start <= end else ([], [])
    sums = {f"s_{name}": Sum(f"{name}_minutes") for name in _FIGURES}
    found: dict[dt.date, Absence] = {}
    if weeks:
        kept = PupilWeek.objects.filter(week__in=weeks, pupil_id__in=pupil_ids)
        for week, *figures in kept.values("week").annotate(**sums).values_list("week", *sums):
            found[week] = _absence(figures)
    for edge in edges:
        # A week the window cuts is part of one edge: summed by day, then added up.
        days = PupilDay.objects.filter(edge, pupil_id__in=pupil_ids).values("date").annotate(**sums)
        for day, *figures in days.values_list("date", *sums):
            monday = day - dt.timedelta(days=day.weekday())
            found[monday] = found.get(monday, Absence()) + _absence(figures)
    return found


def absence_by_weekday(pupil_id: int, start: dt.date, end: dt.date) -> list[tuple[int, Absence]]:
    """Absence per weekday (0 = Monday .. 4 = Friday)."""
    totals: dict[int, dict[str, int]] = {d: defaultdict(int) for d in range(5)}
    days = PupilDay.objects.filter(pupil_id=pupil_id, date__gte=start, date__lte=end)
    for day, scheduled, absent, valid, invalid, unknown in days.values_list(
        "date",
        "scheduled_minutes",
        "absent_minutes",
        "valid_minutes",
        "invalid_minutes",
        "unknown_minutes",
    ):
        weekday = totals.setdefault(day.weekday(), defaultdict(int))
        weekday["scheduled"] += scheduled
        weekday["absent"] += absent
        weekday["valid"] += valid
        weekday["invalid"] += invalid
        weekday["unknown"] += unknown
    return [(d, Absence(**totals[d])) for d in sorted(totals) if d < 5]


def absence_by_subject(pupil_id: int, start: dt.date, end: dt.date) -> list[tuple[str, Absence]]:
    """Absence per subject, most absent first (one subject skipped is a pattern of its own)."""
    rows = (
        LessonAttendance.objects.filter(pupil_id=pupil_id, date__gte=start, date__lte=end)
        .values("lesson__subject__name")
        .annotate(
            scheduled=Sum("scheduled_minutes"),
            absent=Sum("absent_minutes"),
            valid=Sum("absent_minutes", filter=Q(is_valid=True)),
            invalid=Sum("absent_minutes", filter=Q(is_valid=False)),
            unknown=Sum("absent_minutes", filter=Q(is_valid__isnull=True)),
            late=Sum("late_minutes"),
        )
    )
    result = [
        (
            row["lesson__subject__name"],
            Absence.from_row(row),
        )
        for row in rows
    ]
    return sorted(result, key=lambda item: -(item[1].total_rate or 0))


def unsettled_absences(pupils: QuerySet[Pupil] | Iterable[int]) -> list[LessonAttendance]:
    """Lesson absences of these pupils whose validity is not yet known, oldest first.

    `pupils` is a queryset of pupils (or ids) the caller may settle for (Att avgöra).
    """
    return list(
        LessonAttendance.objects.filter(
            pupil__in=pupils, absent_minutes__gt=0, is_valid__isnull=True
        )
        .select_related("pupil", "lesson__subject", "lesson__group")
        .order_by("pupil__last_name", "pupil__first_name", "pupil_id", "lesson__start", "pk")
    )


def absences_by_id(
    pupils: QuerySet[Pupil] | Iterable[int], ids: Iterable[int]
) -> list[LessonAttendance]:
    """The lesson rows with these ids among these pupils, whatever their validity now."""
    return list(
        LessonAttendance.objects.filter(pupil__in=pupils, pk__in=list(ids))
        .select_related("pupil", "lesson__subject", "lesson__group", "reason")
        .order_by("pupil__last_name", "pupil__first_name", "pupil_id", "lesson__start", "pk")
    )


def unsettled_count(pupils: QuerySet[Pupil]) -> int:
    """How many of these pupils' absences are not yet known (waiting in Att avgöra)."""
    return LessonAttendance.objects.filter(
        pupil__in=pupils, absent_minutes__gt=0, is_valid__isnull=True
    ).count()


def unsettled_by_school(school_ids: Iterable[int], pupils: QuerySet[Pupil]) -> dict[int, int]:
    """Absences not yet known per school of the lesson's group, among these pupils (Att avgöra
    for a principal, school by school)."""
    ids = list(school_ids)
    if not ids:
        return {}
    # The few unsettled marks first (a partial index), then their lessons' schools: joined in
    # one query, the planner walks every mark of the school's lessons instead.
    lessons = list(
        LessonAttendance.objects.filter(
            pupil__in=pupils, absent_minutes__gt=0, is_valid__isnull=True
        ).values_list("lesson_id", flat=True)
    )
    if not lessons:
        return {}
    school_of = dict(
        Lesson.objects.filter(pk__in=set(lessons), group__school_id__in=ids).values_list(
            "pk", "group__school_id"
        )
    )
    return dict(Counter(school_of[lesson] for lesson in lessons if lesson in school_of))
