"""The dashboards for systematic quality work (systematiskt kvalitetsarbete): one school's or one
organiser's figures for a period, by grade year and gender, read from the kept aggregates (the
per-month sums `PupilMonth`, and the per-day sums `PupilDay` for a month the period cuts; never
the lesson marks). Every count of pupils goes through
`suppression`; see docs/reports.md for what each table counts.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import polars as pl
from django.db.models import Count, DateField, F, Func, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fullfolj.attendance.models import Lesson, PupilDay, PupilMonth
from fullfolj.attendance.queries import at_least
from fullfolj.attendance.store import next_month
from fullfolj.grades.models import Grade
from fullfolj.ladder.models import LadderTask
from fullfolj.lib import charts, clock
from fullfolj.schools.models import Placement, Pupil, School, Term
from fullfolj.screening.engine.grades import GradeRules, grade_indicators
from fullfolj.support import followups
from fullfolj.support.models import Case, Measure

from .suppression import Margins
from .tables import Report, Table, hide, share, small

BANDS = ((0, 5), (5, 10), (10, 15), (15, 20), (20, None))  # absence rate bands, per cent
LEVELS = (10, 15, 20)
TREND_TERMS = 4


@dataclass(frozen=True)
class Filters:
    """The period and the pupils a dashboard counts."""

    start: dt.date
    end: dt.date
    grade: int | None = None
    gender: str | None = None  # Pupil.Gender

    @property
    def until(self) -> dt.date:
        """The period's end, or today if it ends later: nothing after today is counted."""
        return min(self.end, clock.today())


class NoPupils(Exception):
    """The period or the filters leave nothing to count: shown as a message, not an error."""


@dataclass(frozen=True)
class Scope:
    """The pupils counted: each with the school, grade year and gender of their latest placement
    within the period."""

    pupils: dict[int, tuple[int, int | None, str]]  # pupil -> (school, grade, gender)
    # The same pupils as a subquery: the database joins it instead of a list of ids
    # (thousands of parameters at a municipality's scale).
    query: QuerySet[Any] | None = None

    def ids(self) -> list[int] | QuerySet[Any]:
        return self.query if self.query is not None else list(self.pupils)


def scope(schools: Sequence[School], filters: Filters) -> Scope:
    """The pupils placed at these schools at some time in the period, after the filters."""
    rows = (
        Placement.objects.filter(school__in=schools, start__lte=filters.until)
        .filter(Q(end__isnull=True) | Q(end__gte=filters.start))
        .order_by("start")
        .values_list("pupil_id", "school_id", "school_class__grade", "pupil__legal_gender")
    )
    pupils: dict[int, tuple[int, int | None, str]] = {}
    for pupil, school, grade, gender in rows:
        pupils[pupil] = (school, grade, gender)
    query = rows
    if filters.grade is not None:
        query = query.filter(school_class__grade=filters.grade)
    if filters.gender is not None:
        query = query.filter(pupil__legal_gender=filters.gender)
    chosen = _chosen(pupils, filters)
    # Without filters every placed pupil counts; with them, a pupil whose grade year changed
    # within the period is chosen by the latest placement in Python, so the list is exact.
    exact = filters.grade is None and filters.gender is None
    return Scope(chosen, query.values("pupil_id") if exact else None)


def _chosen(
    pupils: dict[int, tuple[int, int | None, str]], filters: Filters
) -> dict[int, tuple[int, int | None, str]]:
    return {
        p: v
        for p, v in pupils.items()
        if (filters.grade is None or v[1] == filters.grade)
        and (filters.gender is None or v[2] == filters.gender)
    }


def scopes(organisers: Sequence[int], filters: Filters) -> dict[int, Scope]:
    """`scope` of each organiser's schools, read in one query (the regional view's members)."""
    rows = (
        Placement.objects.filter(school__organiser__in=organisers, start__lte=filters.until)
        .filter(Q(end__isnull=True) | Q(end__gte=filters.start))
        .order_by("start")
        .values_list(
            "school__organiser_id",
            "pupil_id",
            "school_id",
            "school_class__grade",
            "pupil__legal_gender",
        )
    )
    per_organiser: dict[int, dict[int, tuple[int, int | None, str]]] = defaultdict(dict)
    for organiser, pupil, school, grade, gender in rows:
        per_organiser[organiser][pupil] = (school, grade, gender)
    return {org: Scope(_chosen(per_organiser[org], filters)) for org in organisers}


def school_days(schools: Sequence[School], filters: Filters) -> bool:
    """Whether the period holds any registered school day for these schools."""
    return PupilDay.objects.filter(
        organiser__in={s.organiser_id for s in schools},
        date__gte=filters.start,
        date__lte=filters.until,
        scheduled_minutes__gt=0,
    ).exists()


def dashboard(
    schools: Sequence[School], filters: Filters, *, title: str, per_teacher: bool
) -> Report:
    """Every table of the dashboard for these schools (a school's, or an organiser's)."""
    report = Report(title=title, subtitle=_period(filters))
    if filters.end < filters.start:
        report.messages.append(_("The period ends before it starts: choose the dates again."))
        return report
    if not school_days(schools, filters):
        report.messages.append(
            _("The period has no school days with registered lessons: choose another period.")
        )
        return report
    pupils = scope(schools, filters)
    if not pupils.pupils:
        report.messages.append(
            _("No pupils match the filters in this period: widen the grade year or gender.")
        )
        return report
    # One pass over the per-day rows of the period, grouped per pupil and month, feeds every
    # absence table (the trend's term equal to the period included).
    months = _pupil_months(pupils, filters)
    report.tables += [
        distribution(pupils, months),
        levels_per_month(months),
        validity_per_month(months),
        trend(pupils, filters, months),
        eligibility(pupils, filters),
        ladder_steps(pupils, filters),
        cases_and_measures(pupils, filters),
        follow_ups(pupils, filters, schools),
        adapted_study_path(pupils, filters),
        registration(schools, filters, per_teacher=per_teacher),
    ]
    return report


def _period(filters: Filters) -> str:
    text = _("%(start)s to %(end)s") % {
        "start": date_format(filters.start, "Y-m-d"),
        "end": date_format(filters.end, "Y-m-d"),
    }
    if filters.grade is not None:
        text += ", " + _("grade year %(grade)s") % {"grade": filters.grade}
    if filters.gender:
        text += ", " + (_("girls") if filters.gender == Pupil.Gender.FEMALE else _("boys"))
    return text


MonthRows = dict[int, dict[dt.date, tuple[int, int, int, int, int]]]


class MonthStart(Func):
    """The first day of a date's month. Unlike TruncMonth, no cast through a time zone (a
    DateField holds none): PostgreSQL truncates a plain timestamp, a third cheaper per row."""

    output_field = DateField()
    template = "DATE(%(expressions)s, 'start of month')"  # SQLite

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler,
            connection,
            template="DATE_TRUNC('month', %(expressions)s::timestamp)::date",
            **extra_context,
        )


def month_parts(
    start: dt.date, until: dt.date
) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The months of `start` to `until` read whole from PupilMonth, and the stretches of days
    read from PupilDay: a month the period cuts is read whole when no pupil has a school day in
    it outside the period (a term starting after the summer, a period ending today)."""
    whole: list[dt.date] = []
    parts: list[tuple[dt.date, dt.date]] = []
    month = start.replace(day=1)
    while month <= until:
        following = next_month(month)
        first, last = max(month, start), min(following - dt.timedelta(days=1), until)
        cut = first > month or last < following - dt.timedelta(days=1)
        outside = Q(date__gte=month, date__lt=first) | Q(date__gt=last, date__lt=following)
        if cut and PupilDay.objects.filter(outside).exists():
            parts.append((first, last))
        else:
            whole.append(month)
        month = following
    return whole, parts


def _pupil_months(pupils: Scope, filters: Filters) -> MonthRows:
    """Scheduled, absent, valid, invalid and unknown minutes per pupil and month (PupilMonth,
    and PupilDay for a month the period cuts)."""
    figures = ["scheduled_minutes", "absent_minutes", "valid_minutes", "invalid_minutes"]
    figures.append("unknown_minutes")
    whole, parts = month_parts(filters.start, filters.until)
    out: MonthRows = defaultdict(dict)
    for pupil_id, month, *sums in PupilMonth.objects.filter(
        month__in=whole, pupil_id__in=pupils.ids()
    ).values_list("pupil_id", "month", *figures):
        out[pupil_id][month] = tuple(sums)
    for first, last in parts:
        rows = (
            PupilDay.objects.filter(date__gte=first, date__lte=last)
            .filter(pupil_id__in=pupils.ids())
            .values("pupil_id")
            .annotate(**{name: Sum(name) for name in figures})
            .values_list("pupil_id", *figures)
        )
        for pupil_id, *sums in rows:
            out[pupil_id][first.replace(day=1)] = tuple(sums)
    return out


def pupil_totals(pupil_ids: Any, filters: Filters) -> dict[int, tuple[int, int, int, int]]:
    """Scheduled, absent, valid and invalid minutes per pupil over the period, summed in the
    database (PupilMonth, and PupilDay for a month the period cuts): one row a pupil."""
    figures = ["scheduled_minutes", "absent_minutes", "valid_minutes", "invalid_minutes"]
    whole, parts = month_parts(filters.start, filters.until)
    sources: list[QuerySet[Any]] = [PupilMonth.objects.filter(month__in=whole)]
    sources += [PupilDay.objects.filter(date__range=part) for part in parts]
    out: dict[int, tuple[int, int, int, int]] = {}
    for source in sources:
        rows = (
            source.filter(pupil_id__in=pupil_ids)
            .values("pupil_id")
            .annotate(**{f"sum_{name}": Sum(name) for name in figures})
            .values_list("pupil_id", *(f"sum_{name}" for name in figures))
        )
        for pupil_id, s, a, v, i in rows:
            before = out.get(pupil_id, (0, 0, 0, 0))
            out[pupil_id] = (before[0] + s, before[1] + a, before[2] + v, before[3] + i)
    return out


def _period_sums(pupils: Scope, start: dt.date, until: dt.date) -> dict[str, Any]:
    """Scheduled, absent, valid and invalid minutes summed over the period, and the pupils with
    any school day in it (PupilMonth, and PupilDay for a month the period cuts)."""
    sums = {"s": Sum("scheduled_minutes"), "a": Sum("absent_minutes")}
    sums |= {"v": Sum("valid_minutes"), "i": Sum("invalid_minutes")}
    whole, parts = month_parts(start, until)
    kept = PupilMonth.objects.filter(month__in=whole, pupil_id__in=pupils.ids())
    if not parts:
        return kept.aggregate(**sums, n=Count("pupil_id", distinct=True))
    days = PupilDay.objects.filter(pupil_id__in=pupils.ids())
    days = days.filter(reduce(operator.or_, (Q(date__range=part) for part in parts)))
    found = [kept.aggregate(**sums), days.aggregate(**sums)]
    total = {k: sum(f[k] or 0 for f in found) for k in sums}
    ids = set(kept.values_list("pupil_id", flat=True)) | set(
        days.values_list("pupil_id", flat=True)
    )
    return total | {"n": len(ids)}


def _band(absent: int, scheduled: int) -> int:
    for index, (low, high) in enumerate(BANDS):
        if (high is None or absent * 100 < high * scheduled) and absent * 100 >= low * scheduled:
            return index
    return len(BANDS) - 1


def _band_label(index: int) -> str:
    low, high = BANDS[index]
    if high is None:
        return _("%(low)s %% or more") % {"low": low}
    return _("%(low)s to under %(high)s %%") % {"low": low, "high": high}


def distribution(pupils: Scope, months: MonthRows) -> Table:
    """Pupils per band of absence over the period, girls and boys apart (with totals)."""
    genders: list[str] = [Pupil.Gender.FEMALE, Pupil.Gender.MALE]
    counts = [[0, 0] for _band_ in BANDS]
    for pupil, per_month in months.items():
        scheduled = sum(m[0] for m in per_month.values())
        if not scheduled:
            continue
        absent = sum(m[1] for m in per_month.values())
        gender = pupils.pupils[pupil][2]
        counts[_band(absent, scheduled)][genders.index(gender) if gender in genders else 1] += 1
    shown = hide(counts, Margins.BOTH)
    rows = [
        (
            _band_label(i),
            [*shown.cells[i], shown.row_totals[i], share(shown.row_totals[i], shown.grand_total)],
        )
        for i in range(len(BANDS))
    ]
    total = (
        _("All"),
        [*shown.column_totals, shown.grand_total, 100.0 if shown.grand_total else None],
    )
    table = Table(
        key="fordelning",
        title=_("Distribution of absence rates"),
        header=[_("Absence in the period"), _("Girls"), _("Boys"), _("Pupils"), _("Share")],
        units=["count", "count", "count", "percent"],
        rows=rows,
        total_row=total,
        note=_("Pupils by their absence over the whole period, valid and invalid together."),
    )
    table.chart = charts.stacked_bars(
        "chart-fordelning",
        table.title,
        [label for label, _v in rows],
        [charts.Series(_("Share of pupils"), [v[3] for _l, v in rows])],
        description=_("Share of pupils in each band of absence. The numbers are in the table."),
    )
    return table


def levels_per_month(months: MonthRows) -> Table:
    """Per month: pupils with school days, and those at 10, 15 and 20 % absence or more.

    The counts are suppressed as bands (under 10, 10-15, 15-20, 20 or more) with the month's
    pupils as each row's total; the cumulative counts and shares are read from the visible bands.
    """
    per_month: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for per_pupil in months.values():
        for month, (scheduled, absent, *_rest) in per_pupil.items():
            if not scheduled:
                continue
            band = sum(1 for level in LEVELS if at_least(absent, scheduled, level))
            per_month[month][band] += 1
    ordered = sorted(per_month)
    shown = hide([per_month[m] for m in ordered], Margins.ROWS)
    rows = []
    for i, month in enumerate(ordered):
        cells, total = shown.cells[i], shown.row_totals[i]
        at_levels = []
        for k in range(1, 4):
            part = cells[k:]
            at_levels.append(None if any(c is None for c in part) else sum(c or 0 for c in part))
        rows.append(
            (
                date_format(month, "Y-m"),
                [total, *at_levels, *(share(c, total) for c in at_levels)],
            )
        )
    table = Table(
        key="nivaer-per-manad",
        title=_("Pupils with high absence, per month"),
        header=[
            _("Month"),
            _("Pupils"),
            _("%(low)s %% or more") % {"low": 10},
            _("%(low)s %% or more") % {"low": 15},
            _("%(low)s %% or more") % {"low": 20},
            _("Share at 10 %"),
            _("Share at 15 %"),
            _("Share at 20 %"),
        ],
        units=["count", "count", "count", "count", "percent", "percent", "percent"],
        rows=rows,
    )
    table.chart = charts.horizontal_bars(
        "chart-nivaer",
        table.title,
        [label for label, _v in rows],
        [
            charts.Series(
                _("%(level)s %% or more") % {"level": level}, [v[4 + k] for _l, v in rows]
            )
            for k, level in enumerate(LEVELS)
        ],
        stacked=False,
        description=_(
            "Share of pupils at each level of absence, per month. The numbers are in the table."
        ),
    )
    return table


def validity_per_month(months: MonthRows) -> Table:
    """Valid, invalid and not yet settled absence per month, as shares of scheduled time."""
    sums: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for per_pupil in months.values():
        for month, (s, a, v, i, u) in per_pupil.items():
            row = sums[month]
            row[0] += s
            row[1] += a
            row[2] += v
            row[3] += i
            row[4] += u
            row[5] += 1 if s else 0
    rows = []
    for month in sorted(sums):
        s, a, v, i, u, n = sums[month]
        hidden = small(n)
        rates = [None if hidden else share(x, s) for x in (a, v, i, u)]
        rows.append((date_format(month, "Y-m"), [None if hidden else n, *rates]))
    table = Table(
        key="giltig-ogiltig",
        title=_("Valid and invalid absence per month"),
        header=[
            _("Month"),
            _("Pupils"),
            _("Absence"),
            _("Valid"),
            _("Invalid"),
            _("Not yet known"),
        ],
        units=["count", "percent", "percent", "percent", "percent"],
        rows=rows,
    )
    table.chart = charts.stacked_bars(
        "chart-giltig",
        table.title,
        [label for label, _v in rows],
        [
            charts.Series(_("Valid"), [v[2] for _l, v in rows]),
            charts.Series(_("Invalid"), [v[3] for _l, v in rows]),
            charts.Series(_("Not yet known"), [v[4] for _l, v in rows]),
        ],
        description=_(
            "Absence per month as a share of scheduled time. The numbers are in the table."
        ),
    )
    return table


def _terms_until(day: dt.date, count: int) -> list[Term]:
    return list(Term.objects.filter(start__lte=day).order_by("-start")[:count])[::-1]


def _sums(months: MonthRows) -> dict[str, int]:
    """The period's totals from the per-pupil-and-month rows, as `trend` reads a term."""
    totals = [0, 0, 0, 0]
    for per_pupil in months.values():
        for s, a, v, i, _u in per_pupil.values():
            totals[0] += s
            totals[1] += a
            totals[2] += v
            totals[3] += i
    return dict(zip("savi", totals, strict=True)) | {"n": len(months)}


def trend(pupils: Scope, filters: Filters, months: MonthRows | None = None) -> Table:
    """Absence per term over the last terms, for the pupils counted now. A term whose days are
    the period's is summed from the period's rows (`months`) instead of read again."""
    rows = []
    for term in _terms_until(filters.until, TREND_TERMS):
        end = min(term.end, clock.today())
        if months is not None and (term.start, end) == (filters.start, filters.until):
            sums: dict[str, Any] = _sums(months)
        else:
            sums = _period_sums(pupils, term.start, end)
        n = sums["n"] or 0
        hidden = small(n)
        rates = [None if hidden else share(sums[k] or 0, sums["s"] or 0) for k in ("a", "v", "i")]
        rows.append((str(term), [None if hidden else n, *rates]))
    table = Table(
        key="trend",
        title=_("Absence term by term"),
        header=[_("Term"), _("Pupils"), _("Absence"), _("Valid"), _("Invalid")],
        units=["count", "percent", "percent", "percent"],
        rows=rows,
        note=_("The pupils counted in the period, in each of the last terms."),
    )
    table.chart = charts.stacked_bars(
        "chart-trend",
        table.title,
        [label for label, _v in rows],
        [
            charts.Series(_("Valid"), [v[2] for _l, v in rows]),
            charts.Series(_("Invalid"), [v[3] for _l, v in rows]),
        ],
        description=_("Absence per term, valid and invalid stacked. The numbers are in the table."),
    )
    return table


def grade_figures(pupil_ids: Iterable[int], as_of: dt.date) -> pl.DataFrame:
    """Passed subjects, meritvärde and eligibility from each pupil's latest grades by `as_of`."""
    ids = list(pupil_ids)
    # The latest two graded terms hold every pupil's latest grades but those of a newcomer.
    terms = Term.objects.filter(end__lte=as_of).order_by("-end")[:2]
    rows = list(
        Grade.objects.filter(
            pupil_id__in=ids, term__in=list(terms), term__end__lte=as_of
        ).values_list("pupil_id", "subject__code", "grade", "term__end")
    )
    schema = {"pupil_id": pl.Int64, "subject_code": pl.Utf8, "grade": pl.Utf8, "term_end": pl.Date}
    frame = pl.DataFrame(rows, schema=schema, orient="row").lazy()
    return grade_indicators(frame, as_of, GradeRules()).collect()


def eligibility(pupils: Scope, filters: Filters) -> Table:
    """Per grade year 6-9, from the latest grades by the period's end: eligible for a vocational
    programme or not (the forecast for those not yet in year 9), and the mean meritvärde."""
    years = [6, 7, 8, 9]
    graded = [p for p, v in pupils.pupils.items() if v[1] in years]
    figures = grade_figures(graded, filters.until)
    counts = {y: [0, 0] for y in years}
    merit: dict[int, list[float]] = {y: [] for y in years}
    for row in figures.iter_rows(named=True):
        year = pupils.pupils[row["pupil_id"]][1]
        if year is None:  # graded pupils have a grade year; a class-less placement has none
            continue
        counts[year][0 if row["vocational_eligible"] else 1] += 1
        merit[year].append(row["merit_x10"] / 10)
    shown = hide([counts[y] for y in years], Margins.BOTH)
    rows = []
    for i, year in enumerate(years):
        total = shown.row_totals[i]
        mean = sum(merit[year]) / len(merit[year]) if total and merit[year] else None
        rows.append(
            (
                _("Year %(grade)s") % {"grade": year},
                [
                    total,
                    shown.cells[i][0],
                    shown.cells[i][1],
                    share(shown.cells[i][0], total),
                    mean,
                ],
            )
        )
    all_mean = [m for y in years for m in merit[y]]
    total_row = (
        _("All"),
        [
            shown.grand_total,
            shown.column_totals[0],
            shown.column_totals[1],
            share(shown.column_totals[0], shown.grand_total),
            sum(all_mean) / len(all_mean) if shown.grand_total and all_mean else None,
        ],
    )
    table = Table(
        key="behorighet",
        title=_("Eligibility and meritvärde by grade year"),
        header=[
            _("Grade year"),
            _("Pupils with grades"),
            _("Eligible"),
            _("Not eligible"),
            _("Share eligible"),
            _("Mean meritvärde"),
        ],
        units=["count", "count", "count", "percent", "number"],
        rows=rows,
        total_row=total_row,
        note=_(
            "From each pupil's latest term grades: eligibility for a vocational programme "
            "(Swedish, English, mathematics and five more passed). Before year 9 it is a forecast."
        ),
    )
    table.chart = charts.horizontal_bars(
        "chart-behorighet",
        table.title,
        [label for label, _v in [*rows, total_row]],
        [charts.Series(_("Share eligible"), [v[3] for _l, v in [*rows, total_row]])],
        stacked=False,
        description=_("Share eligible per grade year. The numbers are in the table."),
    )
    return table


def ladder_steps(pupils: Scope, filters: Filters) -> Table:
    """Ladder steps opened and closed in the period, per step."""
    tasks = LadderTask.objects.filter(pupil_id__in=pupils.ids())
    opened = dict(
        tasks.filter(opened_on__gte=filters.start, opened_on__lte=filters.until)
        .values_list("step__order", "step__name")
        .annotate(n=Count("pk"))
        .values_list("step__name", "n")
    )
    closed = dict(
        tasks.filter(closed_at__date__gte=filters.start, closed_at__date__lte=filters.until)
        .values_list("step__name")
        .annotate(n=Count("pk"))
        .values_list("step__name", "n")
    )
    orders = dict(
        tasks.filter(step__name__in=set(opened) | set(closed)).values_list(
            "step__name", "step__order"
        )
    )
    names = sorted(set(opened) | set(closed), key=lambda n: (orders.get(n, 0), n))
    shown = hide([[opened.get(n, 0), closed.get(n, 0)] for n in names] or [[0, 0]], Margins.COLUMNS)
    rows = [(name, shown.cells[i]) for i, name in enumerate(names)]
    return Table(
        key="trappan",
        title=_("Ladder steps opened and closed"),
        header=[_("Step"), _("Opened"), pgettext("steps counted", "Closed")],
        units=["count", "count"],
        rows=rows,
        total_row=(_("All"), list(shown.column_totals)) if names else None,
    )


def cases_and_measures(pupils: Scope, filters: Filters) -> Table:
    """Cases opened and measures started in the period, measures by kind."""
    ids = pupils.ids()
    cases = Case.objects.filter(
        pupil_id__in=ids, opened_at__date__gte=filters.start, opened_at__date__lte=filters.until
    ).count()
    kinds = dict(
        Measure.objects.filter(
            case__pupil_id__in=ids, start__gte=filters.start, start__lte=filters.until
        )
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    labels = dict(Measure.Kind.choices)
    keys = [k for k in Measure.Kind.values if kinds.get(k)]
    cells, total = _column([kinds[k] for k in keys])
    case_cell, _none = _column([cases])
    rows = [(_("Cases opened"), [case_cell[0]])]
    rows += [(capfirst(str(labels[k])), [cells[i]]) for i, k in enumerate(keys)]
    return Table(
        key="arenden",
        title=_("Cases and measures"),
        header=[_("What"), _("Number")],
        units=["count"],
        rows=rows,
        total_row=(_("Measures in all"), [total]) if keys else None,
    )


def _column(counts: list[int]) -> tuple[list[int | None], int | None]:
    if not counts:
        return [], 0
    shown = hide([[c] for c in counts], Margins.COLUMNS)
    return [r[0] for r in shown.cells], shown.column_totals[0]


def follow_ups(pupils: Scope, filters: Filters, schools: Sequence[School]) -> Table:
    """Follow-ups of measures in the period: done, and overdue now.

    As the support app counts them (docs/eht.md): a follow-up is done by an evaluation on or
    after its date, after which the measure's next follow-up date is set. Done: measures
    evaluated in the period. Overdue: running measures whose follow-up date fell in the period
    (up to today) with no evaluation since. The share is done / (done + overdue).
    """
    ids = pupils.ids()
    done = dict(
        Measure.objects.filter(
            case__pupil_id__in=ids,
            evaluations__evaluated_on__gte=filters.start,
            evaluations__evaluated_on__lte=filters.until,
        )
        .values_list("case__school_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("case__school_id", "n")
    )
    overdue = dict(
        followups.due_by(filters.until)
        .filter(case__pupil_id__in=ids, follow_up_on__gte=filters.start)
        .values_list("case__school_id")
        .annotate(n=Count("pk"))
        .values_list("case__school_id", "n")
    )
    order = [s for s in schools if s.pk in done or s.pk in overdue]
    shown = hide(
        [[done.get(s.pk, 0), overdue.get(s.pk, 0)] for s in order] or [[0, 0]], Margins.BOTH
    )
    rows = [
        (s.name, [*shown.cells[i], share(shown.cells[i][0], shown.row_totals[i])])
        for i, s in enumerate(order)
    ]
    total = (
        _("All"),
        [*shown.column_totals, share(shown.column_totals[0], shown.grand_total)],
    )
    return Table(
        key="uppfoljning",
        title=_("Follow-ups of measures"),
        header=[_("School"), _("Followed up"), _("Overdue now"), _("Share followed up")],
        units=["count", "count", "percent"],
        rows=rows,
        total_row=total if len(rows) > 1 else None,
        note=_(
            "Followed up: measures evaluated in the period. Overdue: measures whose follow-up "
            "date fell in the period and that have not been evaluated since."
        ),
    )


def adapted_study_path(pupils: Scope, filters: Filters) -> Table:
    """Pupils with an adapted study path (anpassad studiegång) in each of the last terms."""
    terms = _terms_until(filters.until, TREND_TERMS)
    return adapted_study_path_table(pupils.ids(), terms, _("Adapted study path per term"))


def adapted_study_path_table(pupil_ids: Any, terms: Iterable[Term], title: str) -> Table:
    """Pupils (of `pupil_ids`, a list or a subquery) with an adapted study path running in each
    term: the dashboard's trend and the evaluation report's two terms."""
    rows = []
    for term in terms:
        n = (
            Measure.objects.filter(
                case__pupil_id__in=pupil_ids,
                kind=Measure.Kind.ADAPTED_STUDY_PATH,
                start__lte=term.end,
            )
            .filter(Q(closed_at__isnull=True) | Q(closed_at__date__gte=term.start))
            .values("case__pupil_id")
            .distinct()
            .count()
        )
        rows.append((str(term), [None if small(n) else n]))
    return Table(
        key="anpassad-studiegang",
        title=title,
        header=[_("Term"), _("Pupils")],
        units=["count"],
        rows=rows,
    )


def registration(schools: Sequence[School], filters: Filters, *, per_teacher: bool) -> Table:
    """Lessons registered the same day, per school (and per teacher within a school).

    The school inspectorate fined a school for gaps in exactly this (docs/reports.md).
    """
    lessons = Lesson.objects.filter(
        group__school__in=schools, date__gte=filters.start, date__lte=filters.until
    ).annotate(
        # the first save; lessons loaded from another system carry only their last save
        registered_on=TruncDate(Coalesce("first_registered_at", "registered_at"))
    )
    counts = Count("pk")
    same_day = Count("pk", filter=Q(registered_on=F("date")))
    label_fields = (
        ["teacher__first_name", "teacher__last_name"] if per_teacher else ["group__school__name"]
    )
    rows: list[tuple[str, list[float | None]]] = []
    for r in (
        lessons.values(*label_fields)
        .annotate(n=counts, same=same_day)
        .order_by(*label_fields[::-1])
    ):
        if per_teacher:
            label = " ".join(str(r.get(k) or "") for k in label_fields).strip() or _("(no teacher)")
        else:
            label = str(r.get("group__school__name"))
        rows.append((label, [r["n"], r["same"], share(r["same"], r["n"])]))
    n = sum(r[1][0] or 0 for r in rows)
    same = sum(r[1][1] or 0 for r in rows)
    table = Table(
        key="registrering",
        title=_("Lessons registered the same day"),
        header=[
            _("Teacher") if per_teacher else _("School"),
            _("Lessons"),
            _("Same day"),
            _("Share"),
        ],
        units=["integer", "integer", "percent"],
        rows=rows,
        total_row=(_("All"), [n, same, share(same, n)]),
        note=_("Lessons in the period up to today; registered the same day they were held."),
    )
    return table
