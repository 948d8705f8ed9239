"""Writes for screening: a recorded run of every rule over an organiser's pupils."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fullfolj.schools.models import Organiser, Staff, Subject, Term

from . import engine
from .models import Flag, RuleEvaluation, ScreeningRule, ScreeningRun, rule_snapshot
from .queries import organiser_history, school_days


class NoSchoolDays(Exception):
    """A screening date with no school days: nothing to screen."""


def rules_for(organiser: Organiser | int) -> list[ScreeningRule]:
    """The organiser's active rules (its own, else the shipped defaults)."""
    return list(ScreeningRule.objects.for_organiser(organiser).active().order_by("order", "code"))


def compute_flags(
    organiser: Organiser, as_of: dt.date, rules: list[ScreeningRule]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(indicators, flags) for the organiser's pupils at `as_of`; NoSchoolDays if none.

    Reads only the kept aggregates (PupilDay, PupilSubjectWeek), grades, F-warnings and
    placements, from the earliest date any rule's window reaches.
    """
    term = Term.objects.containing(as_of).first()
    if term is None:
        raise NoSchoolDays(
            gettext("%(date)s is in no term: there are no school days to screen.")
            % {"date": f"{as_of:%Y-%m-%d}"}
        )
    engine_rules = [r.to_engine() for r in rules]
    windows = engine.windows_for(engine_rules)
    reach = engine.school_day_reach(windows)
    school = school_days(organiser, as_of, reach) if reach else None
    first = min(w.bounds(as_of, term.start, school)[0] for w in windows)
    history = organiser_history(organiser, start=min(first, term.start), end=as_of)
    try:
        indicators = engine.compute_indicators(
            history.days,
            as_of=as_of,
            term_start=term.start,
            windows=windows,
            subject_weeks=history.subject_weeks,
            grades=history.grades,
            warnings=history.warnings,
            placements=history.placements,
            support=history.support,
            school_days=school,
        )
    except engine.NoSchoolDaysError as error:
        raise NoSchoolDays(str(error)) from None
    return indicators, engine.screen(indicators, engine_rules)


@transaction.atomic
def run_screening(
    organiser: Organiser,
    as_of: dt.date,
    *,
    by: Staff | None = None,
    source: str = ScreeningRun.Source.CLI,
) -> ScreeningRun:
    """Screen every pupil of `organiser` at `as_of` and record the run with its flags.

    Runs by hand (`by` the principal or administrator), by the daily job and from the CLI
    (`by=None`). The run keeps the rules as used, so later edits do not rewrite history.
    Raises NoSchoolDays when the date has no school days in its term's last four weeks.
    """
    started = timezone.now()
    rules = rules_for(organiser)
    indicators, flags = compute_flags(organiser, as_of, rules)
    run = ScreeningRun.objects.create(
        organiser=organiser,
        as_of=as_of,
        source=source,
        started_by=by,
        started_at=started,
        configuration={"rules": [rule_snapshot(r) for r in rules], "grade_rules": "default"},
    )
    schools = (
        dict(indicators.select("pupil_id", "school_id").iter_rows())
        if ("school_id" in indicators.columns)
        else {}
    )
    by_code = {r.code: r for r in rules}
    names = dict(Subject.objects.values_list("pk", "name"))
    rows = [
        Flag(
            run=run,
            pupil_id=flag["pupil_id"],
            organiser=organiser,
            school_id=schools.get(flag["pupil_id"]),
            rule=by_code[flag["rule_id"]],
            rule_code=flag["rule_id"],
            value=_value(flag),
            threshold=Decimal(flag["threshold"]),
            explanation=engine.explain(flag, names),
        )
        for flag in flags.to_dicts()
    ]
    Flag.objects.bulk_create(rows, batch_size=1000)
    run.pupils = indicators.height
    run.flagged_pupils = flags["pupil_id"].n_unique() if flags.height else 0
    run.flags = len(rows)
    run.finished_at = timezone.now()
    run.save(update_fields=["pupils", "flagged_pupils", "flags", "finished_at"])
    return run


def _value(flag: dict[str, Any]) -> Decimal | None:
    if not flag["value_den"]:
        return None
    value = Decimal(flag["value_num"]) / Decimal(flag["value_den"])
    return value.quantize(Decimal("0.0001"))


@transaction.atomic
def save_evaluation(organiser: Organiser, result: Any) -> RuleEvaluation:
    """Keep the figures of an evaluation for the organiser's page (replaces older ones)."""
    evaluation = result.evaluation
    RuleEvaluation.objects.filter(organiser=organiser).delete()
    return RuleEvaluation.objects.create(
        organiser=organiser,
        computed_at=timezone.now(),
        outcome=evaluation.outcome,
        screenings=evaluation.dates,
        per_rule=evaluation.per_rule.to_dicts(),
        per_group=evaluation.per_group.to_dicts() if evaluation.per_group.height else [],
        early_warning=result.early_warning or {},
    )
