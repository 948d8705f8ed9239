"""`fullfolj bench dashboard`: the municipality dashboard and the regional view, from the kept
aggregates, on a generated municipality in PostgreSQL (the attendance benchmark's data, in a
database of this benchmark's own: `fullfolj_dashbench_N`, or `--pg-database`).

Timed: the municipality dashboard of the largest organiser (every table, charts included, as
the page and the exports build it), the same page through Django's test Client (rendering
included), and the regional view over every organiser of the data, all sharing. Baseline: the
administration's existing absence overview page (`elevakt:overview`, through the same Client),
which reads the same per-day sums for one term. Target: the dashboard under 1 s at 20,000 pupils,
the regional view under 2 s at the region's scale.

The region (120,000 pupils, 13 municipalities and the independent schools' organisers; 12,000
with --small) is simulated and loaded into a database of its own, `fullfolj_dashbench_region_N`,
kept between runs: only what the regional view reads (organisers, schools, terms, classes,
pupils, placements, and the per-month sums PupilMonth made from the simulated lesson records
up to the data's last day). No lesson rows and no per-day rows: the view reads neither for
months the period holds whole.
"""

from __future__ import annotations

from typing import Any

from fullfolj.benchmarks import Options, Report

DEFAULT_PUPILS = 20_000
REGION_PUPILS = 120_000
REGION_VERSION = "1"  # bump when the region's loading changes


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
    region_pupils = REGION_PUPILS // 10 if options.small else REGION_PUPILS
    region_database = prepare_region(region_pupils, report)
    with (
        attendance.use_database(region_database),
        override_settings(FULLFOLJ_TODAY=attendance.TODAY.isoformat(), DEBUG=False),
    ):
        from fullfolj.reports.actions import set_up_region
        from fullfolj.reports.dashboard import Filters
        from fullfolj.reports.regional import regional_view
        from fullfolj.schools.models import Organiser, Term

        term = Term.at(attendance.TODAY)
        assert term is not None  # noqa: S101 - the data hold the term
        organisers = list(Organiser.objects.order_by("pk"))
        region = set_up_region("Region", sharing=organisers, not_sharing=[], analysts=[])
        filters = Filters(term.start, term.end)
        seconds, view = report.time(
            f"regional_{region_pupils // 1000}k",
            lambda: regional_view(region, filters),
            repeat=repeat,
        )
        rows = view.tables[0].rows if view.tables else []
        counted = sum(int(r[1][0] or 0) for r in rows)
        report.say(
            f"  region: {len(organisers)} organisers side by side, {counted:,} pupils counted"
        )
        report.figure(f"regional_{region_pupils // 1000}k", round(seconds, 3), "s")


def prepare_region(pupils: int, report: Report) -> str:
    """The region's database, kept from an earlier run or simulated and loaded (a few minutes
    at 120,000 pupils): the tables the regional view reads, PupilMonth summed from the
    simulated lesson records up to the data's last day."""
    import time

    from django.core.management import call_command
    from django.db import connection, transaction

    from fullfolj.benchmarks import attendance

    database = f"fullfolj_dashbench_region_{pupils}"
    key = f"region-{pupils}-s{attendance.SEED}-{attendance.LAST_DAY:%Y%m%d}-v{REGION_VERSION}"
    if attendance._marker(database) == key:
        report.say(f"  {database} holds {key} (kept from an earlier run)")
        return database
    attendance._admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    attendance._admin_sql(f'CREATE DATABASE "{database}"')
    started = time.perf_counter()
    with attendance.use_database(database):
        call_command("migrate", verbosity=0)
        report.say(f"  simulating a region of {pupils:,} pupils up to {attendance.LAST_DAY} …")
        with transaction.atomic():
            months = _load_region(pupils)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("CREATE TABLE bench_marker (key text NOT NULL)")
            cursor.execute("INSERT INTO bench_marker VALUES (%s)", [key])
    report.say(
        f"  loaded {key} into {database} in {time.perf_counter() - started:.0f} s "
        f"({months:,} pupil months)"
    )
    return database


_REGION_TABLES = ("organisers", "schools", "school_years", "terms", "pupils", "classes")


def _load_region(pupils: int) -> int:
    """The region's small tables through the simulation's loader, and PupilMonth summed from
    its lesson records week by week (never stored); the number of pupil months."""
    import polars as pl

    from fullfolj.attendance.models import PupilMonth
    from fullfolj.attendance.store import MONTHS
    from fullfolj.benchmarks import attendance
    from fullfolj.simulation import engine, loader

    last_day = attendance.LAST_DAY
    first_year = (
        (last_day.year if last_day.month >= 8 else last_day.year - 1) - attendance.YEARS + 1
    )
    params = engine.Parameters(
        pupils=pupils, years=attendance.YEARS, seed=attendance.SEED, first_school_year=first_year
    )
    feed = loader.Loader(last_day)
    parts: list[pl.DataFrame] = []
    lesson_organiser = pl.DataFrame()
    for table, frame in engine.simulate(params):
        if table in (*_REGION_TABLES, "placements"):
            feed.feed(table, frame)
        elif table == "groups":
            feed._prepare_groups(frame)  # which organiser each lesson's group belongs to
        elif table == "lessons":
            first_day: Any = frame["date"].min()
            if first_day > last_day:
                break  # the weeks after the data's last day
            groups = frame["group_id"].replace_strict(feed.group_organiser)
            lesson_organiser = frame.select(
                pl.col("id").cast(pl.Int32).alias("lesson_id"), groups.alias("organiser_id")
            )
        elif table == "attendance":
            parts.append(_month_sums(frame.filter(pl.col("date") <= last_day), lesson_organiser))
    months = (
        pl.concat(parts)
        .group_by("pupil_id", "month")
        .agg(pl.col("organiser_id").min(), pl.exclude("organiser_id").sum())
    )
    loader.bulk_insert(PupilMonth._meta.db_table, months.select(MONTHS.columns))
    loader.reset_sequences()
    return months.height


def _month_sums(frame: Any, lesson_organiser: Any) -> Any:
    """One week's lesson records summed per pupil and month, in PupilMonth's columns (a week
    across a month's end gives two rows a pupil; the caller sums the weeks)."""
    import polars as pl

    absent = pl.col("absent_minutes").cast(pl.Int64)
    return (
        frame.join(lesson_organiser, on="lesson_id", how="left")
        .with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .group_by("pupil_id", "month")
        .agg(
            pl.col("organiser_id").min(),
            pl.col("date").n_unique().cast(pl.Int64).alias("days"),
            pl.len().cast(pl.Int64).alias("lessons"),
            pl.col("scheduled_minutes").cast(pl.Int64).sum(),
            absent.sum().alias("absent_minutes"),
            absent.filter(pl.col("is_valid") == True).sum().alias("valid_minutes"),  # noqa: E712
            absent.filter(pl.col("is_valid") == False).sum().alias("invalid_minutes"),  # noqa: E712
            absent.filter(pl.col("is_valid").is_null()).sum().alias("unknown_minutes"),
            pl.col("late_minutes").cast(pl.Int64).sum(),
            (pl.col("late_minutes") > 0).sum().cast(pl.Int64).alias("late_count"),
        )
    )
