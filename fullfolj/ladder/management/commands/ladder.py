"""`fullfolj ladder`: run the daily absence-ladder evaluation by hand (the worker runs it daily)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.ladder import actions, defaults
from fullfolj.lib import clock
from fullfolj.schools.models import Organiser


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--date {value!r}: give the day as YYYY-MM-DD.") from error


class Command(BaseCommand):
    help = "Evaluate the absence ladder (frånvarotrappa) for every pupil and open due tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_date, help="the day, YYYY-MM-DD (default today)")
        parser.add_argument("--organiser", type=int, help="only this organiser's pupils (id)")
        parser.add_argument(
            "--install-defaults",
            action="store_true",
            help="create the default ladder if there are no steps, then stop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["install_defaults"]:
            self.stdout.write(f"ladder: {defaults.install()} default steps created")
            return
        organiser = None
        if options["organiser"] is not None:
            organiser = Organiser.objects.filter(pk=options["organiser"]).first()
            if organiser is None:
                raise CommandError(f"--organiser {options['organiser']}: no such organiser.")
        day = options["date"] or clock.today()
        started = time.perf_counter()
        opened = actions.evaluate_ladder(organiser, day)
        self.stdout.write(
            f"ladder: {day}: {len(opened)} tasks opened in {time.perf_counter() - started:.2f} s"
        )
