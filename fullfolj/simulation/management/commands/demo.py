"""`fullfolj demo`: build the demo municipality once, print a login per role and serve it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from fullfolj.schools.models import Role, StaffRole
from fullfolj.simulation.loader import DEMO_PASSWORD, default_truth_path


class Command(BaseCommand):
    help = "Migrate, simulate a municipality of about 2,000 pupils (once), and serve the site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pupils", type=int, default=2000)
        parser.add_argument("--no-serve", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("simulate", pupils=options["pupils"], years=3, seed=1, if_empty=True)
        truth = default_truth_path()
        if truth.exists():
            self.stdout.write(
                f"The rules against the simulator's truth: "
                f"fullfolj screen --evaluate --truth {truth}"
            )
        self.stdout.write(self.style.SUCCESS(f"Logins (password “{DEMO_PASSWORD}”):"))
        for role, label in Role.choices:
            holder = (
                StaffRole.objects.filter(role=role)
                .select_related("staff", "school")
                .order_by("-organiser__kind", "school__name", "staff__username")
                .first()
            )
            if holder:
                where = holder.school.name if holder.school else holder.organiser.name
                self.stdout.write(f"  {label:<32} {holder.staff.username:<24} {where}")
        if options["no_serve"]:
            return
        port = os.environ.get("PORT", "8000")
        worker = subprocess.Popen([sys.executable, "-m", "fullfolj.cli", "worker"])
        try:
            call_command(
                "runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True
            )
        finally:
            worker.terminate()
