"""The evaluation report of a project's list of pupils between two terms (seed 001, Åmål; see
"The evaluation report" in docs/reports.md): who remains, attendance change in three classes,
eligibility for the list and the whole school by gender, the relation between attendance change
and change in passed subjects with its uncertainty, and adapted study paths per term.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Sum
from django.utils.translation import gettext as _

from fullfolj.attendance.models import PupilDay
from fullfolj.grades.models import PASSING_GRADES, Grade
from fullfolj.lib import charts, clock, formatting
from fullfolj.schools.models import Placement, Pupil, School, Term

from . import stats
from .dashboard import adapted_study_path_table, grade_figures
from .suppression import Margins
from .tables import Report, Table, hidden_text, hide, share, small

DEFAULT_THRESHOLD = 5  # percentage points of attendance: more is a change (seed 001)
# A year-9 placement that ends this close to its school year's end finished compulsory school.
FINISHED_WITHIN = dt.timedelta(days=30)


@dataclass(frozen=True)
class Request:
    """What the report is asked for: the list's pupils, its schools, two terms, the threshold."""

    title: str
    pupil_ids: Sequence[int]
    schools: Sequence[School]
    first: Term
    second: Term
    threshold: float = DEFAULT_THRESHOLD


def _absence(pupil_ids: Sequence[int], term: Term) -> dict[int, float]:
    """Each pupil's absence rate (per cent of scheduled time) in the term, up to today."""
    rows = (
        PupilDay.objects.filter(
            pupil_id__in=pupil_ids, date__gte=term.start, date__lte=min(term.end, clock.today())
        )
        .values("pupil_id")
        .annotate(s=Sum("scheduled_minutes"), a=Sum("absent_minutes"))
    )
    return {r["pupil_id"]: 100.0 * r["a"] / r["s"] for r in rows if r["s"]}


def _passed(pupil_ids: Sequence[int], term: Term) -> dict[int, int]:
    """Passed subjects per pupil among the term's grades (pupils graded that term only)."""
    out: dict[int, int] = {}
    for pupil, grade in Grade.objects.filter(pupil_id__in=pupil_ids, term=term).values_list(
        "pupil_id", "grade"
    ):
        out[pupil] = out.get(pupil, 0) + (grade in PASSING_GRADES)
    return out


def evaluate(request: Request) -> Report:
    """The report's tables, or the message that explains why there is nothing to show."""
    first, second = request.first, request.second
    report = Report(
        title=request.title,
        subtitle=_("%(first)s compared with %(second)s") % {"first": first, "second": second},
    )
    if second.start <= first.start:
        report.messages.append(
            _("The second term must come after the first: %(first)s is not before %(second)s.")
            % {"first": first, "second": second}
        )
        return report
    if second.start > clock.today():
        report.messages.append(
            _("%(term)s has not started yet: choose a term that has begun.") % {"term": second}
        )
        return report
    ids = list(dict.fromkeys(request.pupil_ids))
    if not ids:
        report.messages.append(_("The list has no pupils: choose another list."))
        return report
    as_of = min(second.end, clock.today())
    remaining, moved, national, introductory = _movement(ids, request.schools, as_of)
    report.tables.append(_movement_table(len(ids), moved, national, introductory, len(remaining)))
    if not remaining:
        report.messages.append(
            _(
                "Every pupil in the list has moved away or left school by %(term)s: there is no "
                "one left to compare."
            )
            % {"term": second}
        )
        return report
    before, after = _absence(remaining, first), _absence(remaining, second)
    report.tables.append(_change_table(remaining, before, after, request.threshold))
    report.tables.append(_eligibility_table(ids, request.schools, first, second))
    passed_before, passed_after = _passed(remaining, first), _passed(remaining, second)
    both = [
        p
        for p in remaining
        if p in before and p in after and p in passed_before and p in passed_after
    ]
    found = stats.correlation(
        [before[p] - after[p] for p in both],  # attendance change = minus the absence change
        [passed_after[p] - passed_before[p] for p in both],
    )
    report.tables.append(_correlation_table(found))
    report.texts.append(relation_in_words(found))
    report.tables.append(_adapted_table(ids, first, second))
    return report


def _movement(
    ids: list[int], schools: Sequence[School], as_of: dt.date
) -> tuple[list[int], int, int, int]:
    """(remaining pupils, moved away, left for a national programme, left for an introductory
    programme). A pupil whose last placement by `as_of` was in year 9 and ended with its school
    year (by `as_of`) finished compulsory school; any other pupil remains while placed at a
    school of the list's organiser on `as_of`. One who finished compulsory
    school, for a national programme when eligible on their last grades (a vocational
    programme's rule), else for an introductory programme (IM). Anyone else gone moved away."""
    organisers = {s.organiser_id for s in schools}
    placed_now = set(
        Placement.objects.active_on(as_of)
        .filter(pupil_id__in=ids, organiser__in=organisers)
        .values_list("pupil_id", flat=True)
    )
    finished: dict[int, bool] = {}
    for pupil, grade, end, year_end in (
        Placement.objects.filter(pupil_id__in=ids, start__lte=as_of)
        .order_by("start")
        .values_list("pupil_id", "school_class__grade", "end", "school_class__school_year__end")
    ):
        finished[pupil] = bool(
            grade == 9 and end and year_end and year_end - FINISHED_WITHIN <= end <= as_of
        )
    leavers = [p for p in ids if finished.get(p)]
    gone = [p for p in ids if p not in placed_now or finished.get(p)]
    eligible = {
        row["pupil_id"]
        for row in grade_figures(leavers, as_of).iter_rows(named=True)
        if row["vocational_eligible"]
    }
    national = sum(1 for p in leavers if p in eligible)
    return (
        [p for p in ids if p in placed_now and not finished.get(p)],
        len(gone) - len(leavers),
        national,
        len(leavers) - national,
    )


def _movement_table(selected: int, moved: int, national: int, im: int, remaining: int) -> Table:
    cells, total = _column([moved, national, im, remaining], selected)
    return Table(
        key="urval",
        title=_("Selected, left and remaining"),
        header=[_("Pupils"), _("Number")],
        units=["count"],
        rows=[
            (_("Moved away"), [cells[0]]),
            (_("Left for a national programme"), [cells[1]]),
            (_("Left for an introductory programme"), [cells[2]]),
            (_("Remaining"), [cells[3]]),
        ],
        total_row=(_("Selected"), [total]),
    )


def _column(cells: list[int], total: int) -> tuple[list[int | None], int | None]:
    """A column whose parts make up the total (the total is checked)."""
    if sum(cells) != total:
        raise ValueError("The parts do not add up to the total.")
    shown = hide([[c] for c in cells], Margins.COLUMNS)
    return [r[0] for r in shown.cells], shown.column_totals[0]


def _change_table(
    remaining: list[int], before: dict[int, float], after: dict[int, float], threshold: float
) -> Table:
    improved = worsened = unchanged = unknown = 0
    for pupil in remaining:
        if pupil not in before or pupil not in after:
            unknown += 1
            continue
        change = before[pupil] - after[pupil]  # attendance rose by this many points
        if change > threshold:
            improved += 1
        elif change < -threshold:
            worsened += 1
        else:
            unchanged += 1
    cells, total = _column([improved, worsened, unchanged, unknown], len(remaining))
    limit = formatting.number(threshold)
    table = Table(
        key="narvaroforandring",
        title=_("Attendance change per pupil"),
        header=[_("Change"), _("Pupils"), _("Share")],
        units=["count", "percent"],
        rows=[
            (
                _("Improved by more than %(points)s points") % {"points": limit},
                [cells[0], share(cells[0], total)],
            ),
            (
                _("Worsened by more than %(points)s points") % {"points": limit},
                [cells[1], share(cells[1], total)],
            ),
            (
                _("Unchanged (within %(points)s points)") % {"points": limit},
                [cells[2], share(cells[2], total)],
            ),
            (_("Not in school both terms"), [cells[3], share(cells[3], total)]),
        ],
        total_row=(_("Remaining"), [total, 100.0 if total else None]),
        note=_(
            "Attendance is the share of scheduled time present; the change is in percentage points."
        ),
    )
    table.chart = charts.horizontal_bars(
        "chart-forandring",
        table.title,
        [label for label, _v in table.rows],
        [charts.Series(_("Share of pupils"), [share(c, total) for c in cells])],
        stacked=False,
        description=_(
            "Share of the remaining pupils in each class of change. The numbers are in the table."
        ),
    )
    return table


def _eligibility_row(pupil_ids: Sequence[int], term: Term) -> list[int | float | None]:
    """Pupils graded in the term and the share eligible: all, girls, boys (suppressed)."""
    graded = set(
        Grade.objects.filter(pupil_id__in=pupil_ids, term=term).values_list("pupil_id", flat=True)
    )
    genders = dict(Pupil.objects.filter(pk__in=graded).values_list("pk", "legal_gender"))
    counts = [[0, 0], [0, 0]]  # girls, boys x eligible, not
    for row in grade_figures(graded, term.end).iter_rows(named=True):
        counts[0 if genders[row["pupil_id"]] == Pupil.Gender.FEMALE else 1][
            0 if row["vocational_eligible"] else 1
        ] += 1
    shown = hide(counts, Margins.BOTH)
    girls, boys, everyone = shown.row_totals[0], shown.row_totals[1], shown.grand_total
    return [
        everyone,
        share(shown.column_totals[0], everyone),
        girls,
        share(shown.cells[0][0], girls),
        boys,
        share(shown.cells[1][0], boys),
    ]


def _eligibility_table(
    ids: list[int], schools: Sequence[School], first: Term, second: Term
) -> Table:
    rows = []
    for term in (first, second):
        rows.append((_("The list, %(term)s") % {"term": term}, _eligibility_row(ids, term)))
    for term in (first, second):
        school_pupils = list(
            Grade.objects.filter(school__in=schools, term=term)
            .values_list("pupil_id", flat=True)
            .distinct()
        )
        rows.append(
            (
                _("The whole school, %(term)s") % {"term": term},
                _eligibility_row(school_pupils, term),
            )
        )
    table = Table(
        key="behorighet",
        title=_("Eligibility for upper secondary, the list and the whole school"),
        header=[
            _("Group and term"),
            _("Pupils with grades"),
            _("Eligible, all"),
            _("Girls with grades"),
            _("Eligible, girls"),
            _("Boys with grades"),
            _("Eligible, boys"),
        ],
        units=["count", "percent", "count", "percent", "count", "percent"],
        rows=rows,
        note=_("Pupils graded in the term; eligible for a vocational programme on those grades."),
    )
    table.chart = charts.horizontal_bars(
        "chart-behorighet-lista",
        table.title,
        [label for label, _v in rows],
        [
            charts.Series(_("All"), [v[1] for _l, v in rows]),
            charts.Series(_("Girls"), [v[3] for _l, v in rows]),
            charts.Series(_("Boys"), [v[5] for _l, v in rows]),
        ],
        stacked=False,
        description=_(
            "Share eligible for the list and the whole school per term. The numbers are in the table."
        ),
    )
    return table


def _correlation_table(found: stats.Correlation) -> Table:
    return Table(
        key="samband",
        title=_("Attendance change and change in passed subjects"),
        header=[_("Figure"), _("Value")],
        units=["text"],
        rows=[
            (
                _("Pupils with attendance and grades both terms"),
                [hidden_text() if small(found.n) else formatting.number(found.n, 0)],
            ),
            (_("Correlation (r)"), [_decimal(found.r)]),
            (_("95 % interval, lower"), [_decimal(found.low)]),
            (_("95 % interval, upper"), [_decimal(found.high)]),
        ],
    )


def _decimal(value: float | None) -> str:
    return "–" if value is None else formatting.number(value, 2)


def relation_in_words(found: stats.Correlation) -> str:
    """The correlation as a principal reads it; "no clear relation" only when the interval
    includes zero."""
    if found.r is None:
        if found.n < stats.MINIMUM_PAIRS:
            return _(
                "Too few pupils have attendance and grades in both terms to measure a relation "
                "(at least %(minimum)s are needed)."
            ) % {"minimum": stats.MINIMUM_PAIRS}
        return _(
            "Either attendance or the number of passed subjects changed in the same way for "
            "every pupil, so no relation can be measured."
        )
    figures = {
        "r": _decimal(found.r),
        "low": _decimal(found.low),
        "high": _decimal(found.high),
        "n": found.n,
    }
    if not found.is_clear:
        return (
            _(
                "No clear relation between attendance change and change in passed subjects: the "
                "correlation is %(r)s, but with %(n)s pupils the 95 %% interval runs from %(low)s to "
                "%(high)s and includes zero, so the data fit no relation at all."
            )
            % figures
        )
    words = {
        ("weak", True): _("a weak positive relation"),
        ("moderate", True): _("a moderate positive relation"),
        ("strong", True): _("a strong positive relation"),
        ("weak", False): _("a weak negative relation"),
        ("moderate", False): _("a moderate negative relation"),
        ("strong", False): _("a strong negative relation"),
    }
    figures["relation"] = words[(stats.strength(found.r), found.r > 0)]
    direction = (
        _("pupils whose attendance rose tended to pass more subjects")
        if found.r > 0
        else _("pupils whose attendance rose tended to pass fewer subjects")
    )
    return _(
        "There is %(relation)s: %(direction)s. The correlation is %(r)s, and with %(n)s pupils "
        "the 95 %% interval runs from %(low)s to %(high)s. A relation does not show that one "
        "caused the other."
    ) % {**figures, "direction": direction}


def _adapted_table(ids: list[int], first: Term, second: Term) -> Table:
    title = _("Pupils in the list with an adapted study path")
    return adapted_study_path_table(ids, (first, second), title)
