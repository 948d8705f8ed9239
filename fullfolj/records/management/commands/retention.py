"""`fullfolj retention [--dry-run]`: remove what has passed its retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fullfolj.records import retention
from fullfolj.schools.models import Organiser


class Command(BaseCommand):
    help = "Remove what has passed each organiser's retention periods; counts are recorded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would go; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry = options["dry_run"]
        counts = retention.run(dry_run=dry)
        names = dict(Organiser.objects.filter(pk__in=counts).values_list("pk", "name"))
        verb = "would remove" if dry else "removed"
        if not counts:
            self.stdout.write("No organiser has retention periods: nothing removed.")
        for org, per_kind in counts.items():
            for kind, count in per_kind.items():
                self.stdout.write(f"{names[org]}: {kind}: {verb} {count}")
