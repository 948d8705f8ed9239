"""`fullfolj worker`: run background tasks (guardian notices, nightly jobs) from the database queue."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from fullfolj.exchange import tasks as exchange_tasks
from fullfolj.ladder import tasks as ladder_tasks
from fullfolj.notices import tasks as notice_tasks
from fullfolj.records import tasks as records_tasks


class Command(BaseCommand):
    help = "Start one background worker (django-tasks with the database backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="process the queue, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        # Queue what a killed worker left behind, the daily ladder run, the nightly imports and
        # the daily retention run (all idempotent).
        notice_tasks.start()
        ladder_tasks.start()
        exchange_tasks.start()
        records_tasks.start()
        call_command("db_worker", batch=options["batch"], interval=1.0, reload=False)
