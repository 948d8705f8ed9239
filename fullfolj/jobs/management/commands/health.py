"""`fullfolj health`: the /halsa/ answer on the command line, for a container without a web server."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj import health


class Command(BaseCommand):
    help = "Print the installation's health as JSON; fail when the database does not answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--worker",
            action="store_true",
            help="also fail when tasks wait past their time (the worker's health check)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        answer = health.report()
        self.stdout.write(json.dumps(answer))
        if answer["status"] != "ok":
            raise CommandError("the database does not answer")
        if options["worker"] and answer["worker"]["status"] != "ok":
            raise CommandError(f"the worker is {answer['worker']['status']}")
