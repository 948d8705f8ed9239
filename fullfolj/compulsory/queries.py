"""Reads for the oversight pages: the match's input as frames, the officer's lists, long
absence, overdue steps and the term report."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, F, QuerySet
from django.db.models.lookups import GreaterThanOrEqual

from fullfolj.access.gate import compulsory_school_birth_years
from fullfolj.attendance.models import PupilWeek
from fullfolj.ladder import queries as ladder
from fullfolj.lib import disclosure
from fullfolj.schools.calendar import weeks_before
from fullfolj.schools.models import Organiser, Placement, Pupil, Term
from fullfolj.support.models import Case as SupportCase

from . import engine
from .models import Check, OversightCase, OversightRules, Step

RESIDENT_COLUMNS = ("pnr", "birth_date", "municipality_code", "moved_in", "moved_out")
PLACEMENT_COLUMNS = ("pnr", "school", "own", "start", "end")


def relations(organiser: Organiser) -> tuple[str, str]:
    """The match's two relations over our tables, as SQL (engine.py names the columns): the
    register, and every placement we know, our own and those others reported."""
    org = int(organiser.pk)  # an integer, never text from outside
    residents = (
        "(SELECT personnummer AS pnr, birth_date, municipality_code, moved_in, moved_out "  # noqa: S608
        f"FROM compulsory_resident WHERE organiser_id = {org})"
    )
    placements = (
        "(SELECT u.personnummer AS pnr, s.unit_code AS school, "  # noqa: S608
        f'(s.organiser_id = {org}) AS own, pl.start AS start, pl."end" AS "end" '
        "FROM schools_placement pl JOIN schools_pupil u ON u.id = pl.pupil_id "
        "JOIN schools_school s ON s.id = pl.school_id "
        'UNION ALL SELECT personnummer, school_unit_code, (1 = 0), start, "end" '
        f"FROM compulsory_reportedplacement WHERE municipality_id = {org})"
    )
    return residents, placements


def _frame(sql: str, columns: tuple[str, ...], schema: dict[str, Any]) -> pl.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {sql} AS t")  # noqa: S608 (relations() builds it)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=dict(zip(columns, schema.values(), strict=True)), orient="row")


def frames(organiser: Organiser) -> tuple[pl.DataFrame, pl.DataFrame]:
    residents, placements = relations(organiser)
    res = _frame(
        residents,
        RESIDENT_COLUMNS,
        {"pnr": pl.String, "b": pl.Date, "c": pl.String, "i": pl.Date, "o": pl.Date},
    )
    plc = _frame(
        placements,
        PLACEMENT_COLUMNS,
        {"pnr": pl.String, "s": pl.String, "own": pl.Boolean, "st": pl.Date, "e": pl.Date},
    )
    return res, plc


@dataclass
class Match:
    day: dt.date
    checked: int
    lists: dict[str, pl.DataFrame]


def match(organiser: Organiser, day: dt.date) -> Match:
    """The register against every known placement for `day` (engine.py)."""
    rules = OversightRules.of(organiser)
    residents, placements = frames(organiser)
    years = compulsory_school_birth_years(day)
    found = engine.match(
        residents,
        placements,
        day=day,
        home_code=organiser.municipality_code,
        birth_years=years,
        since=day - dt.timedelta(days=rules.moved_days),
    )
    count = engine.checked(
        residents, day=day, home_code=organiser.municipality_code, birth_years=years
    )
    return Match(day, count, found)


def open_cases(organiser: Organiser) -> QuerySet[OversightCase]:
    return OversightCase.objects.open().filter(organiser=organiser).prefetch_related("steps")


def open_counts(organiser: Organiser) -> list[dict[str, Any]]:
    """Open cases per finding, in the findings' order."""
    counts = dict(
        OversightCase.objects.open()
        .filter(organiser=organiser)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return [
        {"label": label, "count": counts[kind]}
        for kind, label in OversightCase.Kind.choices
        if counts.get(kind)
    ]


def latest_check(organiser: Organiser) -> Check | None:
    """The municipality's latest match of the register, by its date then when it ran."""
    return Check.objects.filter(organiser=organiser).order_by("-day", "-run_at").first()


def pupils_with_open_case(organiser: Organiser, pupils: QuerySet) -> int:
    """How many of `pupils` (a queryset of pupil ids) an open oversight case names."""
    return (
        OversightCase.objects.open()
        .filter(organiser=organiser, pupil_id__in=pupils)
        .values("pupil_id")
        .distinct()
        .count()
    )


def overdue_steps(organisers: list[int], today: dt.date) -> QuerySet[Step]:
    """Steps of open cases past their deadline, oldest deadline first."""
    return (
        Step.objects.filter(
            case__organiser_id__in=organisers,
            case__closed_on__isnull=True,
            done_on__isnull=True,
            due__lt=today,
        )
        .select_related("case")
        .order_by("due", "pk")
    )


@dataclass
class LongAbsence:
    pupil: Pupil
    school: str
    weeks: list[float]  # the absence of each week in per cent, oldest first
    step: str | None
    support_case: str | None
    case: OversightCase | None


LONG_ABSENCE_PAGE = 50  # rows of the long-absence list a page


def long_absence_weeks(organiser: Organiser, today: dt.date) -> dict[int, list[float]]:
    """Pupils of the municipality's schools whose absence stayed at the level every week of the
    period (the rules; skollagen 7 kap. 19 a and 22 §§): each one's absence per week in per
    cent, oldest week first. One query."""
    rules = OversightRules.of(organiser)
    start, last_sunday = weeks_before(today, rules.absence_weeks)
    placed = Placement.objects.active_on(today).filter(school__organiser=organiser)
    level = rules.absence_percent
    # Whoever is at the level every week is so in the last one: the few of those are read
    # back (the kept weekly sums, no day), not every pupil's weeks.
    at_level_lately = PupilWeek.objects.filter(
        GreaterThanOrEqual(F("absent_minutes") * 100, F("scheduled_minutes") * level),
        week=last_sunday - dt.timedelta(days=6),
        scheduled_minutes__gt=0,
    )
    rows = PupilWeek.objects.filter(
        week__gte=start,
        week__lte=last_sunday,
        pupil_id__in=placed.values("pupil_id"),
    ).filter(pupil_id__in=at_level_lately.values("pupil_id"))
    # Only the pupils at the level every week travel to Python: a window over each pupil's
    # weeks counts those at the level, in the database (of 20,000 pupils, a few dozen qualify).
    weekly, params = rows.values_list(
        "pupil_id", "week", "scheduled_minutes", "absent_minutes"
    ).query.sql_with_params()
    sql = (
        "SELECT pupil_id, s, a FROM (SELECT pupil_id, week, scheduled_minutes AS s, "  # noqa: S608 - the ORM's own SQL and placeholders
        "absent_minutes AS a, SUM(CASE WHEN scheduled_minutes > 0 "
        "AND absent_minutes * 100 >= %s * scheduled_minutes THEN 1 ELSE 0 END) "
        "OVER (PARTITION BY pupil_id) AS at_level "
        f"FROM ({weekly}) AS w) AS t WHERE at_level = %s ORDER BY pupil_id, week"
    )
    weeks: dict[int, list[float]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [level, *params, rules.absence_weeks])
        for pupil_id, scheduled, absent in cursor.fetchall():
            weeks[pupil_id].append(100 * absent / scheduled)
    return dict(weeks)


def long_absence(organiser: Organiser, today: dt.date, page: Any = 1) -> Page[Any]:
    """One page of the long-absence list (LONG_ABSENCE_PAGE rows, by name; a number past the
    end shows the last page): each pupil with the school, the absence per week, the ladder step
    and the support case their school has open, and the officer's open case. The queries are
    the same whatever the number of rows."""
    weeks = long_absence_weeks(organiser, today)
    ordered = Pupil.objects.filter(pk__in=list(weeks)).order_by("last_name", "first_name", "pk")
    paginator = Paginator(ordered, LONG_ABSENCE_PAGE)
    paginator.count = len(weeks)  # known already: no second COUNT
    shown: Page[Any] = paginator.get_page(page)
    pupils: list[Pupil] = list(shown.object_list) if weeks else []
    ids = [p.pk for p in pupils]
    if not ids:
        shown.object_list = []
        return shown
    placed = Placement.objects.active_on(today).filter(school__organiser=organiser)
    school_of = dict(placed.filter(pupil_id__in=ids).values_list("pupil_id", "school__name"))
    steps = ladder.summaries(ids, today)
    support = dict(
        SupportCase.objects.filter(pupil_id__in=ids)
        .exclude(status=SupportCase.Status.CLOSED)
        .values_list("pupil_id", "status")
    )
    cases = {
        c.pupil_id: c
        for c in OversightCase.objects.open().filter(
            organiser=organiser, kind=OversightCase.Kind.LONG_ABSENCE, pupil_id__in=ids
        )
    }
    labels = dict(SupportCase.Status.choices)
    shown.object_list = [
        LongAbsence(
            pupil,
            school_of.get(pupil.pk, ""),
            weeks[pupil.pk],
            steps[pupil.pk].step if pupil.pk in steps else None,
            str(labels[support[pupil.pk]]) if pupil.pk in support else None,
            cases.get(pupil.pk),
        )
        for pupil in pupils
    ]
    return shown


# --- the term report for the board --------------------------------------------------------

WITHOUT_SCHOOL = (OversightCase.Kind.NO_SCHOOL, OversightCase.Kind.ENDED)
BUCKETS = ((0, 7), (8, 30), (31, None))


def term_report(organiser: Organiser, term: Term, today: dt.date) -> dict[str, Any]:
    """The term in figures (no names): the children checked, the findings per kind, how long
    each took to resolve. Counts of 1-4 are hidden, and figures that would give them away."""
    minimum = settings.FULLFOLJ_MIN_GROUP_SIZE
    checks = Check.objects.filter(organiser=organiser, day__gte=term.start, day__lte=term.end)
    latest = checks.order_by("-day", "-run_at").first()
    cases = list(
        OversightCase.objects.filter(
            organiser=organiser, opened_on__gte=term.start, opened_on__lte=term.end
        )
    )
    kinds = []
    for kind, label in OversightCase.Kind.choices:
        of_kind = [c for c in cases if c.kind == kind]
        closed = [c for c in of_kind if c.closed_on is not None]
        days = [c.days_open(today) for c in closed]
        cells, total = disclosure.column(
            [len(closed), len(of_kind) - len(closed)], len(of_kind), minimum
        )
        kinds.append(
            {
                "kind": kind,
                "label": label,
                "found": total,
                "closed": cells[0],
                "open": cells[1],
                "median_days": statistics.median(days) if len(days) >= minimum else None,
            }
        )
    without = [c for c in cases if c.kind in WITHOUT_SCHOOL]
    closed_without = [c for c in without if c.closed_on is not None]
    spans = []
    counts = []
    for low, high in BUCKETS:
        counts.append(
            sum(
                1
                for c in closed_without
                if c.days_open(today) >= low and (high is None or c.days_open(today) <= high)
            )
        )
        spans.append((low, high))
    counts.append(len(without) - len(closed_without))
    shown, total = disclosure.column(counts, len(without), minimum)
    return {
        "term": term,
        "checks": checks.count(),
        "checked": latest.checked if latest else None,
        "checked_on": latest.day if latest else None,
        "kinds": kinds,
        "without_total": total,
        "buckets": list(zip([*spans, None], shown, strict=True)),
        "min_group": minimum,
    }
