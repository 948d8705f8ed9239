"""`fullfolj screen`: screen every pupil now, queue the daily job, or evaluate the rules."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Pupil
from fullfolj.screening import actions, rule_quality
from fullfolj.screening.models import RuleEvaluation


class Command(BaseCommand):
    help = (
        "Screen every pupil at a date and record the run (one line per organiser). "
        "--daily queues the daily screening for the worker (run it from cron once a day); "
        "--evaluate measures each rule on the organiser's own history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, help="YYYY-MM-DD, default today")
        parser.add_argument("--organiser", type=int, help="organiser id, default every one")
        parser.add_argument(
            "--daily", action="store_true", help="queue today's screening for the worker (for cron)"
        )
        parser.add_argument(
            "--evaluate",
            action="store_true",
            help="precision, sensitivity, specificity and warning time per rule",
        )
        parser.add_argument(
            "--weeks",
            type=int,
            default=rule_quality.CONFIRM_WEEKS,
            help="--evaluate: weeks after a flag in which absence must pass 20 %%",
        )
        parser.add_argument(
            "--weekly",
            action="store_true",
            help="--evaluate: screen every Monday in term, not every school day "
            "(printed for comparison, not saved for the rule page)",
        )
        parser.add_argument(
            "--outcome",
            choices=[rule_quality.ABSENCE, rule_quality.NOT_ELIGIBLE, rule_quality.FAILING],
            default=rule_quality.ABSENCE,
            help="--evaluate: the observed outcome: absence passing --level %% over 20 school "
            "days after a period below it (default), leaving year 9 without eligibility, or F in "
            "--subjects subjects or more in a term's grades",
        )
        parser.add_argument(
            "--level", type=int, default=20, help="--evaluate: the absence level in percent"
        )
        parser.add_argument(
            "--subjects",
            type=int,
            default=2,
            help="--evaluate: subjects with F for --outcome failing",
        )
        parser.add_argument(
            "--truth",
            type=Path,
            help="--evaluate: the simulator's ground truth (a Parquet file, as "
            "`fullfolj simulate` writes it) for the early-warning figures",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisers = self._organisers(options["organiser"])
        if options["daily"]:
            from fullfolj.screening.tasks import screen_daily

            result = screen_daily.enqueue()
            self.stdout.write(f"screen: daily screening queued ({result.id})")
            return
        if options["truth"] and not options["evaluate"]:
            raise CommandError("--truth is read only with --evaluate.")
        if options["evaluate"]:
            weekday = 1 if options["weekly"] else None
            truth = _read_truth(options["truth"]) if options["truth"] else None
            if not 5 <= options["level"] <= 50:
                raise CommandError("screen: --level is a percentage from 5 to 50.")
            if not 1 <= options["subjects"] <= 17:
                raise CommandError("screen: --subjects is a number from 1 to 17.")
            outcome = (options["outcome"], options["level"], options["subjects"])
            results = [
                self._evaluate(organiser, options["weeks"], weekday, truth, outcome)
                for organiser in organisers
            ]
            self._early_warning(results, weekday)
            return
        as_of = options["date"] or clock.today()
        for organiser in organisers:
            started = time.perf_counter()
            try:
                run = actions.run_screening(organiser, as_of)
            except actions.NoSchoolDays as error:
                raise CommandError(f"screen: {organiser.name}: {error}") from None
            self.stdout.write(
                f"screen: {organiser.name} {as_of}: {run.pupils} pupils, {run.flagged_pupils} "
                f"flagged ({run.flags} flags) in {time.perf_counter() - started:.1f} s"
            )

    def _organisers(self, organiser_id: int | None) -> list[Organiser]:
        if organiser_id is not None:
            try:
                return [Organiser.objects.get(pk=organiser_id)]
            except Organiser.DoesNotExist:
                raise CommandError(f"No organiser with id {organiser_id}.") from None
        with_pupils = Pupil.objects.values("organiser_id")
        found = list(Organiser.objects.filter(pk__in=with_pupils).order_by("pk"))
        if not found:
            raise CommandError("No organiser has pupils: nothing to screen.")
        return found

    def _evaluate(
        self,
        organiser: Organiser,
        weeks: int,
        weekday: int | None,
        truth: pl.DataFrame | None,
        outcome: tuple[str, int, int],
    ) -> rule_quality.OrganiserEvaluation:
        rules = actions.rules_for(organiser)
        kind, level, subjects = outcome
        result = rule_quality.evaluate_organiser(
            organiser,
            rules,
            weeks=weeks,
            weekday=weekday,
            truth=truth,
            outcome=kind,
            level=level,
            subjects=subjects,
        )
        if weekday is None:  # the rule page describes the daily schedule
            actions.save_evaluation(
                organiser,
                result,
                into=RuleEvaluation(
                    organiser=organiser,
                    computed_at=timezone.now(),
                    outcome_kind=kind,
                    level=level,
                    subjects=subjects,
                ),
            )
        out = self.stdout.write
        ev = result.evaluation
        out(f"screen --evaluate: {organiser.name}, {ev.dates} screenings ({_schedule(weekday)})")
        out(f"outcome: {ev.outcome}")
        out(
            f"precision_20: share of flagged pupils whose absence over 20 school days passed "
            f"20 % within {weeks} weeks of a flag (all pupils, from the kept daily aggregates)"
        )
        for row in ev.per_rule.iter_rows(named=True):
            out(
                f"rule {row['rule_id']}: flagged={row['flagged']} "
                f"precision={_f(row['precision'])} "
                f"precision_20={_f(result.confirmed.get(row['rule_id']))} "
                f"sensitivity={_f(row['sensitivity'])} specificity={_f(row['specificity'])} "
                f"median_weeks={_f(row['median_weeks'])}"
            )
        if ev.per_group.height:
            for row in ev.per_group.iter_rows(named=True):
                out(
                    f"group {row['rule_id']} {row['group']}={row['value']}: "
                    f"pupils={row['pupils']} flag_rate={_f(row['flag_rate'])} "
                    f"precision={_f(row['precision'])}"
                )
        return result

    def _early_warning(
        self, results: list[rule_quality.OrganiserEvaluation], weekday: int | None
    ) -> None:
        """Last, the whole screen against the simulator's truth over every organiser."""
        early = rule_quality.pooled_early_warning(results)
        if early is None:
            self.stdout.write(
                "early_warning: no simulator ground truth for these pupils "
                "(give it with --truth FILE)"
            )
            return
        out = self.stdout.write
        out(
            f"early_warning: attendance rules {', '.join(early['rules']) or '(none)'} over every "
            f"organiser: {early['outcomes']} escalations crossed 20 % after the first "
            f"screening, {early['recalled']} of them flagged from the escalation's start and "
            f"before the crossing; {early['flagged']} pupils flagged at some screening"
        )
        out(
            f"early_warning: {early['already']} more escalations began when the pupil's "
            "absence was already over 20 %: no warning can come before their crossing, so "
            "recall leaves them out (a flag on them still counts as correct for precision)"
        )
        out(
            f"early_warning: {early['unreachable']} of the {early['outcomes']} crossed before "
            f"any screening after their start ({_schedule(weekday)}): recall can reach at most "
            f"{_f(1 - early['unreachable'] / early['outcomes']) if early['outcomes'] else '–'}"
        )
        out(f"early_warning: recall={_f(early['recall'])}")
        out(f"early_warning: precision={_f(early['precision'])}")
        out(f"early_warning: median_weeks={_f(early['median_weeks'])}")


def _read_truth(path: Path) -> pl.DataFrame:
    try:
        truth = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise CommandError(f"screen: cannot read the ground truth {path}: {error}") from None
    missing = set(rule_quality.TRUTH_COLUMNS) - set(truth.columns)
    if missing:
        raise CommandError(f"screen: {path} lacks the columns {', '.join(sorted(missing))}.")
    return truth


def _schedule(weekday: int | None) -> str:
    return "every Monday in term" if weekday else "every school day in term, as the daily job does"


def _f(value: object) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
