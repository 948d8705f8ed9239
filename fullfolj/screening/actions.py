"""Writes for screening: a recorded run of every rule over an organiser's pupils."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fullfolj.lib.jobs import enqueue_once
from fullfolj.schools.models import Organiser, Staff, Subject, Term

from . import engine, rule_quality
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
            dialogue=history.dialogue,
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


def save_evaluation(
    organiser: Organiser, result: Any, into: RuleEvaluation | None = None
) -> RuleEvaluation:
    """Keep the figures of an evaluation for the organiser's page; older finished ones go.

    `into` is the requested evaluation the figures belong to (from the page); without it (the
    command line) a finished one is made for the absence outcome at 20 %.
    """
    evaluation = result.evaluation
    with transaction.atomic():
        done = into or RuleEvaluation(organiser=organiser, computed_at=timezone.now())
        done.outcome = evaluation.outcome
        done.screenings = evaluation.dates
        done.per_rule = [
            {**row, "confirmed": result.confirmed.get(row["rule_id"])}
            for row in evaluation.per_rule.to_dicts()
        ]
        done.per_group = evaluation.per_group.to_dicts() if evaluation.per_group.height else []
        done.early_warning = result.early_warning or {}
        done.status = RuleEvaluation.Status.DONE
        done.progress = 100
        done.finished_at = timezone.now()
        done.save()
        RuleEvaluation.objects.filter(
            organiser=organiser, status=RuleEvaluation.Status.DONE
        ).exclude(pk=done.pk).delete()
    return done


def request_evaluation(
    organiser: Organiser,
    *,
    outcome: str,
    level: int = 20,
    subjects: int = 2,
    by: Staff | None = None,
) -> tuple[RuleEvaluation, bool]:
    """Ask the worker to evaluate the organiser's rules against `outcome` (the rule page):
    (the request, whether it is new).

    One evaluation per organiser is waiting or running at a time: asking again while one is
    returns that one (one left running for a day by a stopped worker no longer counts). The
    worker's task takes every queued request (`run_requested`).
    """
    from .tasks import evaluate_rules

    with transaction.atomic():
        Organiser.objects.select_for_update().filter(pk=organiser.pk).first()
        pending = RuleEvaluation.objects.pending().filter(organiser=organiser).first()
        if pending is not None:
            return pending, False
        requested = RuleEvaluation.objects.create(
            organiser=organiser,
            computed_at=timezone.now(),
            outcome="",
            outcome_kind=outcome,
            level=level,
            subjects=subjects,
            status=RuleEvaluation.Status.QUEUED,
            progress=0,
            requested_by=by,
        )
    transaction.on_commit(lambda: enqueue_once(evaluate_rules, timezone.now()))
    return requested, True


def run_requested() -> list[int]:
    """Evaluate every queued request, oldest first, saving progress as the dates are screened.

    A request that fails is marked so with the reason and the next goes on.
    """
    done = []
    for requested in RuleEvaluation.objects.filter(status=RuleEvaluation.Status.QUEUED).order_by(
        "computed_at", "pk"
    ):
        claimed = RuleEvaluation.objects.filter(
            pk=requested.pk, status=RuleEvaluation.Status.QUEUED
        ).update(status=RuleEvaluation.Status.RUNNING)
        if not claimed:
            continue  # another worker took it
        try:
            run_evaluation(requested)
        except Exception as error:  # the page shows why, and the next request still runs
            RuleEvaluation.objects.filter(pk=requested.pk).update(
                status=RuleEvaluation.Status.FAILED, error=str(error)[:2000]
            )
            continue
        done.append(requested.pk)
    return done


def run_evaluation(requested: RuleEvaluation) -> RuleEvaluation:
    """Evaluate the organiser's rules for one request, telling the row its progress."""
    last = [-1]

    def progress(done: int, total: int) -> None:
        percent = min(99, done * 100 // total) if total else 0
        if percent != last[0]:
            last[0] = percent
            RuleEvaluation.objects.filter(pk=requested.pk).update(progress=percent)

    organiser = requested.organiser
    result = rule_quality.evaluate_organiser(
        organiser,
        rules_for(organiser),
        outcome=requested.outcome_kind,
        level=requested.level,
        subjects=requested.subjects,
        progress=progress,
    )
    requested.refresh_from_db()
    return save_evaluation(organiser, result, into=requested)
