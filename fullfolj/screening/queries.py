"""Reads for screening: the kept aggregates as Polars frames, and the riskzon lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from fullfolj.attendance.columnar import DAY_COLUMNS
from fullfolj.attendance.models import PupilDay, PupilSubjectWeek
from fullfolj.grades.models import Grade, GradeWarning
from fullfolj.ladder.models import LadderTask
from fullfolj.lib import disclosure
from fullfolj.schools.models import Organiser, Placement, Pupil, School, Term

from . import hooks
from .engine import describe
from .engine.wording import format_number
from .evaluation import (
    WHOLE_SCREEN,
    History,
)
from .models import Flag, RuleEvaluation, ScreeningRule, ScreeningRun, rule_name, rule_names
from .outcomes import (
    CROSSING_SCHOOL_DAYS,
    OWN_HORIZON_WEEKS,
)

# --- Frames ---------------------------------------------------------------------------------


def frame(queryset: QuerySet[Any], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """A values() queryset as a Polars frame: one SQL query, fetched whole, no loop per row.

    `columns` maps each values() name to the frame's column name by position and gives its type;
    dates come back as text from SQLite and are parsed by Polars.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    raw = pl.DataFrame(rows, schema=list(columns), orient="row")
    return raw.select(_cast(name, kind, raw.schema[name]) for name, kind in columns.items())


def _cast(name: str, kind: pl.DataType, current: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if kind == pl.Date and current == pl.Utf8:
        return column.str.slice(0, 10).str.to_date("%Y-%m-%d").alias(name)
    if kind == pl.Date and isinstance(current, pl.Datetime):
        return column.dt.date().alias(name)
    return column.cast(kind).alias(name)


I64, DATE, TEXT = pl.Int64(), pl.Date(), pl.Utf8()


def school_days(organiser: Organiser | int, as_of: dt.date, count: int) -> np.ndarray:
    """The organiser's last `count` school days up to `as_of` (days with lessons in PupilDay),
    ascending epoch days: what a school-day window counts in (engine.school_days_of)."""
    org = organiser.pk if isinstance(organiser, Organiser) else organiser
    dates = frame(
        PupilDay.objects.filter(organiser_id=org, date__lte=as_of, scheduled_minutes__gt=0)
        .values_list("date")
        .distinct()
        .order_by("-date")[:count],
        {"date": DATE},
    )
    return np.sort(dates["date"].to_physical().to_numpy().astype(np.int64))


def organiser_history(
    organiser: Organiser | int, *, start: dt.date | None = None, end: dt.date | None = None
) -> History:
    """What a screening reads, for one organiser's pupils between `start` and `end`."""
    org = organiser.pk if isinstance(organiser, Organiser) else organiser
    dates = Q()
    if start is not None:
        dates &= Q(date__gte=start)
    if end is not None:
        dates &= Q(date__lte=end)
    days = frame(
        PupilDay.objects.filter(dates, organiser_id=org)
        .values_list("pupil_id", "date", *DAY_COLUMNS)
        .order_by("pupil_id", "date"),  # the engine reads in this order (the unique index's)
        {
            "pupil_id": I64,
            "date": DATE,
            "lessons": I64,
            "scheduled_minutes": I64,
            "absent_minutes": I64,
            "valid_minutes": I64,
            "invalid_minutes": I64,
            "unknown_minutes": I64,
            "late_minutes": I64,
            "late_count": I64,
        },
    )
    weeks = Q()
    if start is not None:
        weeks &= Q(week__gte=start - dt.timedelta(days=6))
    if end is not None:
        weeks &= Q(week__lte=end)
    subject_weeks = frame(
        PupilSubjectWeek.objects.filter(weeks, organiser_id=org)
        .values_list(
            "pupil_id",
            "subject_id",
            "week",
            "scheduled_minutes",
            "absent_minutes",
            "invalid_minutes",
        )
        .order_by(),
        {
            "pupil_id": I64,
            "subject_id": I64,
            "week": DATE,
            "scheduled_minutes": I64,
            "absent_minutes": I64,
            "invalid_minutes": I64,
        },
    )
    grades = frame(
        Grade.objects.filter(organiser_id=org)
        .values_list("pupil_id", "subject__code", "term_id", "grade", "term__end")
        .order_by(),
        {"pupil_id": I64, "subject_code": TEXT, "term_id": I64, "grade": TEXT, "term_end": DATE},
    )
    warnings = frame(
        GradeWarning.objects.filter(organiser_id=org)
        .values_list("pupil_id", "subject__code", "date")
        .order_by(),
        {"pupil_id": I64, "subject_code": TEXT, "date": DATE},
    )
    placements = frame(
        Placement.objects.filter(organiser_id=org)
        .values_list("pupil_id", "school_id", "start", "end", "school_class__grade")
        .order_by(),
        {"pupil_id": I64, "school_id": I64, "start": DATE, "end": DATE, "grade": I64},
    )
    pupils = frame(
        Pupil.objects.filter(organiser_id=org).values_list("pk", "legal_gender").order_by(),
        {"pupil_id": I64, "gender": TEXT},
    )
    terms = frame(Term.objects.values_list("start", "end").order_by(), {"start": DATE, "end": DATE})
    # Support in place: until cases and measures exist (docs/school-law.md, the support ladder), an absence-ladder task.
    support = frame(
        LadderTask.objects.filter(pupil__organiser_id=org)
        .values_list("pupil_id", "opened_on", "closed_at")
        .order_by(),
        {"pupil_id": I64, "start": DATE, "end": DATE},
    )
    return History(
        days=days,
        terms=terms,
        subject_weeks=subject_weeks,
        grades=grades,
        warnings=warnings,
        placements=placements,
        pupils=pupils,
        support=support,
        dialogue=hooks.dialogue(org, end),
    )


# --- Action taken ---------------------------------------------------------------------------


def pupils_with_action(pupil_ids: Iterable[int]) -> set[int]:
    """Pupils among `pupil_ids` who already have someone acting: an open absence-ladder task,
    and whatever the apps above provide (support: an open case or a measure still running),
    all in one query (hooks.py).
    """
    ids = list(pupil_ids)
    if not ids:
        return set()
    acting = LadderTask.objects.open().filter(pupil_id__in=ids).order_by().values_list("pupil_id")
    others = [provider(ids) for provider in hooks.providers()]
    if others:
        acting = acting.union(*others)
    return {pupil_id for (pupil_id,) in acting}


def flagged_without_action(pupils: QuerySet[Pupil]) -> dict[int | None, int]:
    """Per school: pupils among `pupils` (through the gate) flagged in their organiser's latest
    run with nobody acting yet, the riskzon list's first part, counted for the home page."""
    latest = (
        ScreeningRun.objects.filter(finished_at__isnull=False)
        .order_by("organiser_id", "-as_of", "-started_at", "-pk")
        .values_list("organiser_id", "pk")
    )
    runs: dict[int, int] = {}
    for organiser_id, run_id in latest:
        runs.setdefault(organiser_id, run_id)
    flagged = set(
        Flag.objects.filter(run_id__in=runs.values(), pupil__in=pupils).values_list(
            "school_id", "pupil_id"
        )
    )
    acting = pupils_with_action(p for _s, p in flagged)
    counts: dict[int | None, int] = {}
    for school_id, pupil_id in flagged:
        if pupil_id not in acting:
            counts[school_id] = counts.get(school_id, 0) + 1
    return counts


# --- Riskzon lists --------------------------------------------------------------------------


def latest_runs(organiser_id: int) -> tuple[ScreeningRun | None, ScreeningRun | None]:
    """The organiser's latest finished run and the one before it (for new / left)."""
    runs = list(
        ScreeningRun.objects.filter(
            organiser_id=organiser_id, finished_at__isnull=False
        ).select_related("started_by")[:2]
    )
    return (runs[0] if runs else None, runs[1] if len(runs) > 1 else None)


@dataclass
class RiskRow:
    """One flagged pupil in a riskzon list, with every flag's explanation."""

    pupil: Pupil
    school: School | None
    explanations: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    flag_ids: list[int] = field(default_factory=list)
    is_new: bool = False
    has_action: bool = False
    estimate: object | None = None  # set by the page composing the list, where it may be shown


@dataclass
class Riskzon:
    """A riskzon list: flagged without action first, then the rest; new and left since last run."""

    run: ScreeningRun | None
    previous: ScreeningRun | None
    rows: list[RiskRow]
    left: list[Pupil]

    @property
    def without_action(self) -> list[RiskRow]:
        return [r for r in self.rows if not r.has_action]

    @property
    def with_action(self) -> list[RiskRow]:
        return [r for r in self.rows if r.has_action]

    @property
    def new(self) -> list[RiskRow]:
        return [r for r in self.rows if r.is_new]

    def pupil_ids(self) -> list[int]:
        """Every pupil the list names, for the access log."""
        return [r.pupil.pk for r in self.rows] + [p.pk for p in self.left]


def riskzon(organiser_id: int, pupils: QuerySet[Pupil], school: School | None = None) -> Riskzon:
    """The latest run's flags for `pupils` (already through the gate), optionally one school's."""
    run, previous = latest_runs(organiser_id)
    if run is None:
        return Riskzon(None, None, [], [])
    flags = Flag.objects.filter(run=run, pupil__in=pupils).select_related("pupil", "school")
    if school is not None:
        flags = flags.filter(school=school)
    rows: dict[int, RiskRow] = {}
    for flag in flags.order_by("pupil__last_name", "pupil__first_name", "pupil_id", "rule_code"):
        row = rows.setdefault(flag.pupil_id, RiskRow(flag.pupil, flag.school))
        row.explanations.append(flag.explanation)
        row.rules.append(flag.rule_code)
        row.flag_ids.append(flag.pk)
    before: set[int] = set()
    left: list[Pupil] = []
    if previous is not None:
        earlier = Flag.objects.filter(run=previous, pupil__in=pupils)
        if school is not None:
            earlier = earlier.filter(school=school)
        before = set(earlier.values_list("pupil_id", flat=True))
        left = list(Pupil.objects.filter(pk__in=before - set(rows)))
    acting = pupils_with_action(rows)
    for pupil_id, row in rows.items():
        row.is_new = previous is not None and pupil_id not in before
        row.has_action = pupil_id in acting
    return Riskzon(run, previous, list(rows.values()), left)


@dataclass
class CountRow:
    """Flagged pupils of one school per rule, with small groups hidden (docs/privacy.md)."""

    school: School
    pupils: int
    per_rule: list[int | None]
    flagged: int | None
    new: int | None
    left: int | None
    without_action: int | None


def _shown(count: int) -> int | None:
    """A count is shown only from the minimum group size up; zero reveals nobody."""
    return disclosure.shown(count, settings.FULLFOLJ_MIN_GROUP_SIZE)


def municipality_counts(
    organiser_id: int, schools: QuerySet[School]
) -> tuple[ScreeningRun | None, list[RuleHeading], list[CountRow], int | None]:
    """Per school and rule: flagged pupils in the latest run, new, left, without action; and
    the run's flagged total as it may be shown beside them.

    Every figure goes through `lib.disclosure`: small counts are hidden, and so is a figure
    from which a hidden one could be worked out (the total against the school column, a
    school's flagged pupils against its new ones and those without action).
    """
    run, previous = latest_runs(organiser_id)
    if run is None:
        return None, [], [], None
    minimum = settings.FULLFOLJ_MIN_GROUP_SIZE
    flags = list(Flag.objects.filter(run=run).values_list("school_id", "pupil_id", "rule_code"))
    earlier = (
        list(Flag.objects.filter(run=previous).values_list("school_id", "pupil_id"))
        if previous
        else []
    )
    codes = sorted({code for _s, _p, code in flags}, key=_rule_order(run))
    names = rule_names(codes, organiser_id)
    headings = [RuleHeading(code, names[code]) for code in codes]
    acting = pupils_with_action({p for _s, p, _c in flags})
    placed = dict(
        Placement.objects.active_on(run.as_of)
        .filter(organiser_id=organiser_id)
        .values("school_id")
        .annotate(n=Count("pupil_id", distinct=True))
        .values_list("school_id", "n")
    )
    listed = list(schools.filter(organiser_id=organiser_id).order_by("name"))
    raw = []
    for school in listed:
        mine = {(p, c) for s, p, c in flags if s == school.pk}
        now = {p for p, _c in mine}
        then = {p for s, p in earlier if s == school.pk}
        raw.append((now, then, [sum(1 for _p, c in mine if c == code) for code in codes]))
    flagged, total = disclosure.column(
        [len(now) for now, _t, _r in raw], run.flagged_pupils, minimum
    )
    rows = []
    for school, (now, then, per_rule), shown_flagged in zip(listed, raw, flagged, strict=True):
        new = _shown(len(now - then)) if previous else None
        rows.append(
            CountRow(
                school=school,
                pupils=placed.get(school.pk, 0),
                per_rule=[disclosure.part_of(shown_flagged, _shown(n), minimum) for n in per_rule],
                flagged=shown_flagged,
                new=disclosure.part_of(shown_flagged, new, minimum),
                left=_shown(len(then - now)) if previous else None,
                without_action=disclosure.part_of(
                    shown_flagged, _shown(len(now - acting)), minimum
                ),
            )
        )
    return run, headings, rows, total


@dataclass(frozen=True)
class RuleHeading:
    """A rule as a table heads its column: by name (the code stays for links and sorting)."""

    code: str
    name: str

    def __str__(self) -> str:
        return self.name


def _rule_order(run: ScreeningRun) -> Any:
    order = [r.get("code") for r in run.configuration.get("rules", [])]
    return lambda code: (order.index(code) if code in order else len(order), code)


def pupil_flags(pupil: Pupil) -> tuple[ScreeningRun | None, list[Flag]]:
    """The pupil's flags in their organiser's latest run (for the pupil page)."""
    run, _previous = latest_runs(pupil.organiser_id)
    if run is None:
        return None, []
    flags = list(Flag.objects.filter(run=run, pupil=pupil).order_by("rule_code"))
    names = rule_names([f.rule_code for f in flags], pupil.organiser_id)
    for flag in flags:
        flag.rule_name = names[flag.rule_code]  # type: ignore[attr-defined]
    order = _rule_order(run)
    flags.sort(key=lambda flag: order(flag.rule_code))
    return run, flags


def latest_evaluation(organiser_id: int) -> RuleEvaluation | None:
    """The organiser's latest finished evaluation."""
    return RuleEvaluation.objects.filter(
        organiser_id=organiser_id, status=RuleEvaluation.Status.DONE
    ).first()


def pending_evaluation(organiser_id: int) -> RuleEvaluation | None:
    """The evaluation asked for and not yet done, or the last one if it failed."""
    pending = RuleEvaluation.objects.pending().filter(organiser_id=organiser_id).first()
    if pending is not None:
        return pending
    last = RuleEvaluation.objects.filter(organiser_id=organiser_id).first()
    return last if last is not None and last.status == RuleEvaluation.Status.FAILED else None


def progress_text(pending: RuleEvaluation) -> str:
    """ "Waiting for the worker" / "12 % of the screening dates done"."""
    if pending.status == RuleEvaluation.Status.QUEUED:
        return _("Waiting for the background worker to start it.")
    return _("%(percent)s of the school days screened.") % {
        "percent": format_percent(pending.progress / 100)
    }


def outcome_text(stored: RuleEvaluation) -> str:
    """The outcome an evaluation measured, in words with its units, in the user's language."""
    if stored.outcome_kind == RuleEvaluation.Outcome.NOT_ELIGIBLE:
        return _(
            "Leaving year 9 without eligibility for a vocational programme, among the pupils "
            "who left year 9 during the history. A flag any time before counts as a warning."
        )
    if stored.outcome_kind == RuleEvaluation.Outcome.FAILING:
        return _(
            "F or – in at least %(subjects)s subjects in a term's grades after a term with "
            "fewer, among the pupils given grades. A flag up to %(weeks)s weeks before the "
            "term's end counts as a warning."
        ) % {"subjects": stored.subjects, "weeks": OWN_HORIZON_WEEKS}
    return _(
        "Absence above %(level)s over %(days)s school days, after a period below it. A flag "
        "up to %(weeks)s weeks before counts as a warning."
    ) % {
        "level": format_percent(stored.level / 100),
        "days": _school_days(CROSSING_SCHOOL_DAYS),
        "weeks": OWN_HORIZON_WEEKS,
    }


def _school_days(count: int) -> str:
    return ngettext("%(count)s school day", "%(count)s school days", count) % {"count": count}


def format_percent(share: float | None, places: int = 0) -> str:
    """A share as a percentage with its unit in the user's language: 0.41 → "41 %"."""
    if share is None:
        return "–"
    value = Decimal(str(round(share * 100, places)))
    return pgettext("unit", "%(number)s %%") % {"number": format_number(value)}


@dataclass
class RuleInUse:
    """One rule of the organiser as the rule page lists it."""

    code: str
    name: str
    description: str
    active: bool


def rules_in_use(organiser: Organiser) -> list[RuleInUse]:
    """The organiser's rules (its own, else the shipped defaults), named and described."""
    return [
        RuleInUse(r.code, r.label, describe(r.to_engine()), r.active)
        for r in ScreeningRule.objects.for_organiser(organiser).order_by("order", "code")
    ]


@dataclass
class RuleFigures:
    """One row of the rule page: the rule by name and in words, its figures and its groups."""

    code: str
    description: str
    figures: dict[str, Any]
    groups: list[dict[str, Any]]
    name: str = ""
    shown: dict[str, str] = field(default_factory=dict)  # figures with their units


def evaluation_rows(stored: RuleEvaluation, organiser: Organiser) -> list[RuleFigures]:
    """The stored figures per rule with each rule described in Swedish, and per gender and
    school the flag rate and precision; groups under the minimum size are left out."""
    rules = {r.code: r for r in ScreeningRule.objects.for_organiser(organiser)}
    schools = dict(School.objects.filter(organiser=organiser).values_list("pk", "name"))
    genders = {"F": _("girls"), "M": _("boys")}
    minimum = settings.FULLFOLJ_MIN_GROUP_SIZE
    rows = []
    for figures in stored.per_rule:
        code = figures["rule_id"]
        name = ""
        if code == WHOLE_SCREEN:
            name = _("The whole screen")
            description = _("Any of the rules")
        elif code in rules:
            name = rules[code].label
            description = describe(rules[code].to_engine())
        else:
            name = rule_name(code) or code
            description = _("(rule since removed)")
        figures = _masked(figures, "flagged", ("precision",))
        figures = _masked(figures, "outcomes", ("sensitivity", "median_weeks"))
        groups = []
        for group in stored.per_group:
            if group["rule_id"] != code or group["pupils"] < minimum:
                continue
            group = _masked(group, "flagged", ("flag_rate", "precision"))
            if group["group"] == "gender":
                label = genders.get(group["value"], group["value"] or "–")
            else:
                label = schools.get(int(group["value"])) if group["value"] else None
                if label is None:
                    continue  # another organiser's school (a pupil who moved)
            groups.append(
                {
                    **group,
                    "label": label,
                    "flag_rate_shown": format_percent(group["flag_rate"]),
                    "precision_shown": format_percent(group["precision"]),
                }
            )
        shown = {
            key: format_percent(figures.get(key))
            for key in ("precision", "sensitivity", "specificity", "confirmed")
        }
        weeks = figures.get("median_weeks")
        shown["median_weeks"] = (
            "–"
            if weeks is None
            else ngettext("%(weeks)s week", "%(weeks)s weeks", 1 if weeks == 1 else 2)
            % {"weeks": format_number(Decimal(str(round(weeks, 1))))}
        )
        rows.append(RuleFigures(code, description, figures, groups, name, shown))
    return rows


def _masked(row: dict[str, Any], count: str, derived: tuple[str, ...]) -> dict[str, Any]:
    """The row with `count` and the figures computed from it hidden (None) when the count is
    a small group (1 to the minimum size less one): such figures could point at pupils."""
    if _shown(int(row.get(count) or 0)) is not None:
        return row
    return {**row, count: None, **dict.fromkeys(derived)}


def for_pupil(pupil: Pupil, viewer: object) -> dict[str, object] | None:
    """The pupil record's screening section: the flags of the latest run, if there was one."""
    run, flags = pupil_flags(pupil)
    return {"run": run, "flags": flags} if run is not None else None
