"""`fullfolj model evaluate|train|results`: check the method, evaluate it on our history, train it.

fullfolj model evaluate --csv FILE --target COL --positive VALUE [--drop COL] ...
fullfolj model evaluate [--organiser ID]      # held-out history against the rule screen
fullfolj model train [--organiser ID]         # fit on the history, store it switched off
fullfolj model results [--write]              # the public data sets; rewrites RESULTS.md
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from fullfolj.riskmodel import actions, dataset, engine, holdout, results
from fullfolj.riskmodel.cli import EXIT_BAD_INPUT, evaluate_csv_command
from fullfolj.riskmodel.models import ProtectedColumn
from fullfolj.schools.models import Organiser

NO_HISTORY = (
    "model: there is no history in the database to evaluate (no organiser with "
    "pupils). To check the method on a file, give it: fullfolj model evaluate --csv FILE "
    "--target COLUMN --positive VALUE"
)

# Passed on to the CSV check as they are: single values, then repeatable ones, then switches.
CSV_OPTIONS = (
    "target",
    "positive",
    "folds",
    "repeats",
    "k_fraction",
    "threshold",
    "max_rows",
    "jobs",
    "pdf",
)
CSV_LISTS = ("drop", "audit", "protected", "use_protected", "labels", "categorical", "learner")
CSV_SWITCHES = ("details", "no_importance")


class Command(BaseCommand):
    help = "The opt-in risk model: evaluate (a CSV, or our own history) and train."

    def add_arguments(self, parser: CommandParser) -> None:
        actions_ = parser.add_subparsers(dest="action", required=True)
        evaluate = actions_.add_parser(
            "evaluate",
            help="cross-validate on a CSV (--csv), or compare with the rule screen on "
            "held-out history",
        )
        evaluate.add_argument("--csv", help="a history file, one row per pupil")
        evaluate.add_argument("--target", help="--csv: the outcome column")
        evaluate.add_argument("--positive", help="--csv: the at-risk value (Dropout, <10)")
        for name in ("drop", "audit", "protected", "use-protected", "categorical"):
            evaluate.add_argument(f"--{name}", action="append", default=[], metavar="COLUMN")
        evaluate.add_argument(
            "--labels", action="append", default=[], metavar="COLUMN=CODE:LABEL,..."
        )
        evaluate.add_argument("--folds", type=int, default=None)
        evaluate.add_argument("--repeats", type=int, default=None)
        evaluate.add_argument("--k-fraction", type=float, default=None)
        evaluate.add_argument("--threshold", type=float, default=None)
        evaluate.add_argument("--max-rows", type=int, default=None)
        evaluate.add_argument("--pdf", metavar="FILE")
        evaluate.add_argument("--details", action="store_true")
        evaluate.add_argument("--no-importance", action="store_true")
        evaluate.add_argument(
            "--jobs",
            type=int,
            default=None,
            help=f"folds fitted in parallel (default: every core, here {engine.DEFAULT_JOBS})",
        )
        self._history_options(evaluate)
        train = actions_.add_parser("train", help="fit on the organiser's history (off)")
        self._history_options(train)
        results_ = actions_.add_parser(
            "results", help="rerun the checks on the public data sets; --write rewrites RESULTS.md"
        )
        results_.add_argument("--data", type=Path, default=results.DEFAULT_DATA)
        results_.add_argument("--jobs", type=int, default=engine.DEFAULT_JOBS)
        results_.add_argument("--write", action="store_true", help="rewrite RESULTS.md's table")

    def _history_options(self, parser: CommandParser) -> None:
        parser.add_argument("--organiser", type=int, help="organiser id (default: every one)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--horizon-weeks", type=int, default=dataset.HORIZON_WEEKS)
        parser.add_argument(
            "--learner",
            action="append",
            choices=list(engine.LEARNERS),
            default=None,
            help="candidate learner (repeatable; default every one)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "results":
            self._results(options)
            return
        if options["action"] == "evaluate" and options["csv"]:
            self._evaluate_csv(options)
            return
        learners = tuple(options.get("learner") or engine.LEARNERS)
        organisers = self._organisers(options["organiser"])
        if not organisers:
            raise CommandError(NO_HISTORY)
        for organiser in organisers:
            started = time.monotonic()
            try:
                if options["action"] == "train":
                    model = actions.train_model(
                        organiser,
                        seed=options["seed"],
                        learners=learners,
                        horizon_weeks=options["horizon_weeks"],
                    )
                    self.stdout.write(
                        f"model: {organiser.name}: trained {model.learner} on {model.rows} rows "
                        f"({model.pupils} pupils, {model.data_start}–{model.data_end}), "
                        f"{model.estimates.count()} estimates, switched off; run `fullfolj "
                        f"model evaluate` and read it in the admin before switching it on "
                        f"({time.monotonic() - started:.0f} s)"
                    )
                else:
                    self._evaluate_history(organiser, options, learners, started)
            except (actions.RiskModelRefused, ValueError) as error:
                raise CommandError(f"model: {organiser.name}: {error}") from None

    def _evaluate_history(
        self,
        organiser: Organiser,
        options: dict[str, Any],
        learners: tuple[str, ...],
        started: float,
    ) -> None:
        result, model = actions.evaluate_organiser(
            organiser,
            seed=options["seed"],
            learners=learners,
            horizon_weeks=options["horizon_weeks"],
        )
        lines = holdout.lines(result)
        self.stdout.write(f"organiser: {organiser.name}")
        stored = (
            f"stored on the model trained {model.trained_at:%Y-%m-%d %H:%M} (id {model.pk})"
            if model
            else "no trained model to store it on: run `fullfolj model train` first"
        )
        self.stdout.write(f"evaluation: {stored}")
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"seconds: {time.monotonic() - started:.1f}")

    def _evaluate_csv(self, options: dict[str, Any]) -> None:
        argv = ["--csv", options["csv"], "--seed", str(options["seed"])]
        for name in CSV_OPTIONS:
            if options[name] is not None:
                argv += [f"--{name.replace('_', '-')}", str(options[name])]
        for name in CSV_LISTS:
            for value in options[name] or ():
                argv += [f"--{name.replace('_', '-')}", value]
        for name in CSV_SWITCHES:
            if options[name]:
                argv.append(f"--{name.replace('_', '-')}")
        for name in admin_protected_columns():
            argv += ["--protected", name]
        out, err = io.StringIO(), io.StringIO()
        code = evaluate_csv_command(argv, out, err, progress=self.stderr)
        self.stdout.write(out.getvalue(), ending="")
        if code:
            raise CommandError(err.getvalue().strip(), returncode=EXIT_BAD_INPUT)

    def _results(self, options: dict[str, Any]) -> None:
        try:
            outcomes = results.run(
                options["data"],
                jobs=options["jobs"],
                note=lambda text: self.stderr.write(text),
            )
        except (FileNotFoundError, RuntimeError) as error:
            raise CommandError(str(error)) from None
        block = results.table(outcomes, jobs=options["jobs"], day=f"{timezone.localdate()}")
        if options["write"]:
            path = results.RESULTS_MD
            path.write_text(results.rewrite(path.read_text(encoding="utf-8"), block), "utf-8")
            self.stdout.write(f"model results: {path} rewritten")
        else:
            self.stdout.write(block)

    def _organisers(self, organiser_id: int | None) -> list[Organiser]:
        try:
            organisers = Organiser.objects.order_by("pk")
            if organiser_id is not None:
                organisers = organisers.filter(pk=organiser_id)
                if not organisers:
                    raise CommandError(f"model: no organiser with id {organiser_id}")
            return [org for org in organisers if org.pupils.exists()]
        except DatabaseError:  # a fresh install: the tables are not there yet
            raise CommandError(NO_HISTORY) from None


def admin_protected_columns() -> list[str]:
    """The column names the administrator listed as protected (none before the first migrate)."""
    try:
        return list(ProtectedColumn.objects.values_list("name", flat=True))
    except DatabaseError:
        return []
