"""`fullfolj simulate`: fill the database with a simulated municipality, or write it as Parquet."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.lib import clock
from fullfolj.schools.models import Pupil
from fullfolj.simulation import engine, loader, parquet


def school_year_start(day: dt.date) -> int:
    """The calendar year in which the school year containing `day` began (August)."""
    return day.year if day.month >= 8 else day.year - 1


class Command(BaseCommand):
    help = (
        "Simulate a municipality. Into the database: YEARS school years ending with the current "
        "one, cut at --until (default today). With --out: complete school years as Parquet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pupils", type=int, default=2000)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", help="write Parquet files to this directory instead")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="today, YYYY-MM-DD")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if the database has pupils"
        )
        parser.add_argument(
            "--truth",
            type=Path,
            help="into the database: write the ground truth to this Parquet file (default: "
            "the data directory, named after the database)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["pupils"] < 50 or options["years"] < 1:
            raise CommandError("--pupils must be at least 50 and --years at least 1.")
        until = options["until"] or clock.today()
        started = time.perf_counter()
        if options["out"]:
            params = engine.Parameters(
                pupils=options["pupils"],
                years=options["years"],
                seed=options["seed"],
                first_school_year=school_year_start(until) - options["years"],
            )
            counts = parquet.write(params, options["out"])
            where = options["out"]
        else:
            if options["if_empty"] and Pupil.objects.exists():
                self.stdout.write("simulate: the database already holds a municipality; kept it.")
                return
            if Pupil.objects.exists():
                raise CommandError("The database already holds pupils; use an empty database.")
            params = engine.Parameters(
                pupils=options["pupils"],
                years=options["years"],
                seed=options["seed"],
                first_school_year=school_year_start(until) - options["years"] + 1,
            )
            truth = options["truth"] or loader.default_truth_path()
            now = clock.now() if until == clock.today() else None
            stream = self._with_progress(engine.simulate(params), params, until)
            counts = loader.load(stream, until=until, truth=truth, now=now)
            where = f"the database (cut at {until})"
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"simulate: {counts.get('pupils', 0)} pupils, {counts.get('lessons', 0)} lessons, "
            f"{counts.get('attendance', 0)} attendance rows, {counts.get('grades', 0)} grades "
            f"written to {where} in {seconds:.1f} s"
        )
        if not options["out"]:
            self.stdout.write(
                f"simulate: ground truth in {truth}; evaluate the rules against it with "
                f"`fullfolj screen --evaluate --truth {truth}`"
            )

    def _with_progress(
        self, stream: Iterable[tuple[str, pl.DataFrame]], params: engine.Parameters, until: dt.date
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        """The stream as it is, with a line each tenth of the way to `until` (attendance comes
        week by week and is most of the work)."""
        first = dt.date(params.first_school_year, 8, 1)
        span = max((until - first).days, 1)
        told = 0
        for table, frame in stream:
            yield table, frame
            if table != "attendance" or frame.is_empty():
                continue
            latest = frame["date"].max()
            if not isinstance(latest, dt.date):
                continue
            reached = min(latest, until)
            tenths = min(10, (reached - first).days * 10 // span)
            if tenths > told:
                told = tenths
                self.stdout.write(f"simulate: {tenths * 10} % (attendance up to {reached})")
                self.stdout.flush()
