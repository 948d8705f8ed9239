"""`fullfolj demo`: build the demo municipality once, print a login per role and serve it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils.translation import gettext

from fullfolj.kasam.models import PupilLogin
from fullfolj.lib import clock
from fullfolj.lib.runtime import settle
from fullfolj.schools.models import Pupil, Role, School, Staff
from fullfolj.screening.models import RuleEvaluation
from fullfolj.simulation import demo
from fullfolj.simulation.loader import DEMO_PASSWORD


class Command(BaseCommand):
    help = (
        "Migrate, simulate a municipality of about 2,000 pupils up to today and bring it to "
        "life (once), print a login per role, and serve the site."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pupils", type=int, default=2000)
        parser.add_argument("--no-serve", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        out = self.stdout.write
        if connection.vendor == "sqlite":
            # The build reads and writes a database of about a gigabyte: a page cache of 256 MB
            # for this connection (SQLite's default is 2 MB) keeps its indexes in memory.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        out("demo: migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        fresh = not Pupil.objects.exists()
        if fresh:
            out(f"demo: simulating {options['pupils']} pupils over three school years …")
        call_command("simulate", pupils=options["pupils"], years=3, seed=1, if_empty=True)
        serve = not options["no_serve"]
        # Served: the rule evaluation runs beside the site, so the first page comes sooner.
        cast = (
            demo.bring_to_today(clock.today(), out, evaluate=not serve)
            if fresh
            else demo.saved_cast()
        )
        if fresh:
            cpu = time.process_time()
            out(f"demo: built in {time.perf_counter() - started:.0f} s ({cpu:.0f} s CPU)")
        if cast is None:
            cast = demo.choose_cast(clock.today())
        self.print_logins(cast)
        if not serve:
            return
        port = os.environ.get("PORT", "8000")
        helpers = [subprocess.Popen([sys.executable, "-m", "fullfolj.cli", "worker"])]
        if not RuleEvaluation.objects.exists():  # a fresh build, or one stopped before it ended
            out("demo: the rule evaluation runs beside the site; its page fills when it is done")
            evaluation = [sys.executable, "-m", "fullfolj.cli", *demo.EVALUATE]
            helpers.append(subprocess.Popen(evaluation))  # noqa: S603 - our own command
        settle()  # as a production server's start does (fullfolj/wsgi.py)
        try:
            call_command(
                "runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True
            )
        finally:
            for helper in helpers:
                helper.terminate()

    def print_logins(self, cast: demo.Cast) -> None:
        self.stdout.write(self.style.SUCCESS(f"Logins (password “{DEMO_PASSWORD}”):"))
        names = dict(
            Staff.objects.filter(username__in=[*cast.usernames.values(), cast.sender]).values_list(
                "username", "first_name"
            )
        )
        port = os.environ.get("PORT", "8000")
        school = School.objects.select_related("organiser").filter(name=cast.school).first()
        organiser = school.organiser.name if school else ""
        where: dict[str, str] = {
            Role.SCHOOL_DOCTOR: organiser,
            Role.ATTENDANCE_OFFICER: organiser,
            Role.ADMINISTRATION: f"{organiser}, admin: http://127.0.0.1:{port}/admin/",
        }
        for role, label in Role.choices:
            username = cast.usernames.get(role)
            if username in names:
                line = f"  {label:<32} {username:<24} {where.get(role, cast.school)}"
                self.stdout.write(line)
        if cast.sender in names:
            sender_label = gettext("mentor, year 6 (handovers)")
            sender_school = demo.sending_school(cast.sender)
            self.stdout.write(f"  {sender_label:<32} {cast.sender:<24} {sender_school}")
        pupil = PupilLogin.objects.select_related("user").order_by("pk").first()
        if pupil is not None:  # the KASAM questionnaire, and nothing else
            kasam = gettext("pupil (KASAM questionnaire)")
            self.stdout.write(f"  {kasam:<32} {pupil.user.username:<24} {cast.school}")
        # No device is made for the demo's logins: the set-up is part of what the demo shows.
        self.stdout.write(
            gettext(
                "Student-health entries and investigations ask for two-step verification: the "
                "first time, the page shows a QR code for an authenticator app (%(url)s)."
            )
            % {"url": f"http://127.0.0.1:{port}/tvastegsverifiering/ny/"}
        )
