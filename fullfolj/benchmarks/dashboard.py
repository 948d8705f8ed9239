"""`fullfolj bench dashboard`: the municipality dashboard and the regional view, from the kept
aggregates, on a generated municipality in PostgreSQL (the attendance benchmark's data, in a
database of this benchmark's own: `fullfolj_dashbench_N`, or `--pg-database`).

Timed: the municipality dashboard of the largest organiser (every table, charts included, as
the page and the exports build it), the same page through Django's test Client (rendering
included), and the regional view over every organiser of the data, all sharing. Baseline: the
administration's existing absence overview page (`elevakt:overview`, through the same Client),
which reads the same per-day sums for one term. Target: the dashboard under 1 s at 20,000 pupils, the regional view under 2 s
(at the region's 120,000 pupils the regional view reads six times the rows; see DEVELOPERS.md).
"""

from __future__ import annotations

from fullfolj.benchmarks import Options, Report

DEFAULT_PUPILS = 20_000


def run(options: Options, report: Report) -> None:
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from fullfolj.benchmarks import attendance

    database = options.extra.get("pg_database") or f"fullfolj_dashbench_{options.pupils}"
    database = attendance.prepare_database(
        options.pupils, attendance.SEED, report, database=database
    )
    with (
        attendance.use_database(database),
        override_settings(
            FULLFOLJ_TODAY=attendance.TODAY.isoformat(), ALLOWED_HOSTS=["testserver"], DEBUG=False
        ),
    ):
        call_command("migrate", verbosity=0)
        from django.db import connection

        # A restored dump has no planner statistics until autovacuum comes round; a running
        # database has them. Without them PostgreSQL sorts the per-day rows on disk instead of
        # hashing them (untimed, a few seconds at 20,000 pupils).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        from django.contrib.auth.models import User

        from fullfolj.lib import clock
        from fullfolj.reports.actions import set_up_region
        from fullfolj.reports.dashboard import Filters, dashboard
        from fullfolj.reports.regional import regional_view
        from fullfolj.schools.models import (
            Organiser,
            Placement,
            Role,
            School,
            Staff,
            StaffRole,
            Term,
        )

        today = clock.today()
        biggest = (
            Placement.objects.active_on(today)
            .values_list("organiser_id", flat=True)
            .order_by("organiser_id")
        )
        counts: dict[int, int] = {}
        for organiser_id in biggest:
            counts[organiser_id] = counts.get(organiser_id, 0) + 1
        organiser = Organiser.objects.get(pk=max(counts, key=lambda k: (counts[k], -k)))
        schools = list(School.objects.filter(organiser=organiser).order_by("name"))
        term = Term.at(today)
        assert term is not None  # noqa: S101 - the data hold the term
        filters = Filters(term.start, term.end)
        report.say(
            f"dashboard on {database}: {organiser.name}, {len(schools)} schools, "
            f"{counts[organiser.pk]:,} pupils placed; region of {len(counts)} organisers"
        )
        staff, _created = Staff.objects.get_or_create(
            username="bench-dashboard", defaults={"first_name": "Bench", "last_name": "Dashboard"}
        )
        if staff.user is None:
            staff.user = User.objects.create_user("bench-dashboard")
            staff.save()
        StaffRole.objects.get_or_create(
            staff=staff, organiser=organiser, school=None, role=Role.ADMINISTRATION
        )
        region = set_up_region(
            "Benchmark region",
            sharing=list(Organiser.objects.filter(pk__in=counts)),
            not_sharing=[],
            analysts=[staff],
        )
        repeat = options.repeat
        client = Client()
        client.force_login(staff.user)
        overview_url = reverse("elevakt:overview")
        overview, _o = report.time("overview", lambda: client.get(overview_url), repeat=repeat)
        built, made = report.time(
            "dashboard",
            lambda: dashboard(schools, filters, title="bench", per_teacher=False),
            repeat=repeat,
        )
        url = reverse("reports:municipality")
        page, response = report.time("page", lambda: client.get(url), repeat=repeat)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        regional, _r = report.time(
            "regional", lambda: regional_view(region, filters), repeat=repeat
        )
        report.say(f"  {len(made.tables)} tables; messages: {made.messages or 'none'}")
        report.figure("overview", round(overview, 3), "s")
        report.figure("dashboard", round(built, 3), "s")
        report.figure("page", round(page, 3), "s")
        report.figure("regional", round(regional, 3), "s")
        report.figure("pupils", options.pupils, "")
