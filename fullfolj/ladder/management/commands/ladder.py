"""`fullfolj ladder --evaluate [--date YYYY-MM-DD]`: run the absence ladder for every pupil."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.ladder import actions, defaults
from fullfolj.lib import clock


class Command(BaseCommand):
    help = "Evaluate the absence ladder (frånvarotrappa) for every pupil and open due tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--evaluate", action="store_true", help="evaluate every pupil")
        parser.add_argument("--date", type=dt.date.fromisoformat, help="the day (default today)")
        parser.add_argument("--install-defaults", action="store_true",
                            help="create the default ladder if there are no steps")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["install_defaults"]:
            self.stdout.write(f"ladder: {defaults.install()} default steps created")
        if not options["evaluate"]:
            if not options["install_defaults"]:
                raise CommandError("Nothing to do: give --evaluate (and optionally --date).")
            return
        day = options["date"] or clock.today()
        started = time.perf_counter()
        opened = actions.evaluate_ladder(day)
        self.stdout.write(f"ladder: {day}: {len(opened)} tasks opened in "
                          f"{time.perf_counter() - started:.2f} s")
