"""`fullfolj bench pages`: the server side of the main pages, each as its login sees it.

Every page is one entry of PAGES: a name, the role whose login opens it, and a function that
builds its URL from the chosen people and objects (a `Scene`). A page whose URL does not
resolve on this build (a page not built yet) is listed as missing and skipped.

The pages run through Django's test Client in this process (middleware, session, gate, access
log, template; no network, no static files), each login with its own client. One untimed request
per page counts its queries and rows; then every page is requested in turn, round after round,
so a burst of load from other work on the machine falls on every page alike. Redirects are
followed and timed (a home that sends its role on is one visit). Every final answer must be 200.

The data, two ways:

- a generated municipality (`--pupils N`, default 20,000; `--small` 2,000) in PostgreSQL: the
  attendance benchmark's database (`fullfolj_attbench_N`, or `--pg-database`, kept between runs
  and restored from its cached dump), with "today" the day after its data; a screening run and the absence
  ladder's tasks are made once when missing, as the nightly jobs would have, and the support
  cases of every term simulated (simulation/support.py), as the schools would have written them;
- `--demo`: the settings' database as `fullfolj demo` built it (SQLite unless DATABASE_URL says
  otherwise), at the real date or FULLFOLJ_TODAY.

Each role's login is the holder with the most to show: the principal and student-health staff
of the school with the most pupils, the mentor with the most mentees, the teacher with the most
lessons in the last week, the administration of that school's organiser. The pupil page shows
that school's pupil with the most absence this term; the case page its open case with the most
entries.

The baseline, `floor`: the login page requested by the principal's client, the cost every page
pays before it reads anything (session, the staff record, middleware, the base template).

Figures per page: `<page>_p50`, `<page>_p95` (ms, wall time), `<page>_cpu_p95` (this process's
CPU: Python, Django and, on SQLite, the database; on a machine shared with other work the wall
time says more about the neighbours) and `<page>_queries`; then the slowest p95 and how many
pages are over the 150 ms target. The reads the benchmark makes
are removed from the access log afterwards: they were no one's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fullfolj.benchmarks import Options, Report

DEFAULT_PUPILS = 20_000
SEED = 1
TARGET_MS = 150.0  # p95 per page at 20,000 pupils (DEVELOPERS.md)
ROUNDS_PER_REPEAT = 7  # --repeat 3 gives 21 timed requests per page


@dataclass
class Scene:
    """Who opens the pages and what they open: chosen once per run."""

    today: dt.date
    logins: dict[str, Any] = field(default_factory=dict)  # role -> Staff
    school: Any = None  # the school with the most pupils
    pupil: Any = None  # its pupil with the most absence this term
    lesson: Any = None  # the teacher's latest lesson up to today
    case: Any = None  # the school's open case with the longest timeline
    search: str = ""  # a last name to search for


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # the login's role (fullfolj.schools.models.Role's value)
    url: Callable[[Scene], str | None]  # None: nothing to open for this login in this data


def _reverse(name: str, *args: object, query: str = "") -> str:
    from django.urls import reverse

    return reverse(name, args=args) + (f"?{query}" if query else "")


def _home(scene: Scene) -> str:
    return _reverse("elevakt:home")


def _school(name: str, query: str = "") -> Callable[[Scene], str | None]:
    return lambda s: _reverse(name, s.school.pk, query=query) if s.school else None


def _evaluation(scene: Scene) -> str | None:
    """The evaluation report of the latest screening run's flagged pupils at the school, between
    the terms the report's form offers first (the two latest ended, else the two latest begun)."""
    from fullfolj.schools.models import Term
    from fullfolj.screening.models import ScreeningRun

    if scene.school is None:
        return None
    run = (
        ScreeningRun.objects.filter(
            organiser_id=scene.school.organiser_id, flag_rows__school=scene.school
        )
        .order_by("-as_of", "-pk")
        .first()
    )
    terms = list(Term.objects.filter(end__lt=scene.today).order_by("-start")[:2])
    if len(terms) < 2:
        terms = list(Term.objects.filter(start__lte=scene.today).order_by("-start")[:2])
    if run is None or len(terms) < 2:
        return None
    query = f"source=run-{run.pk}&first={terms[1].pk}&second={terms[0].pk}"
    return _reverse("reports:evaluation", query=query)


PAGES: tuple[Page, ...] = (
    Page("floor", "principal", lambda s: _reverse("login")),
    Page("home_teacher", "teacher", _home),
    Page("home_mentor", "mentor", _home),
    Page("home_principal", "principal", _home),
    Page("home_nurse", "school_nurse", _home),
    Page("home_doctor", "school_doctor", _home),
    Page("home_officer", "attendance_officer", _home),
    Page("home_admin", "administration", _home),
    Page("today", "teacher", lambda s: _reverse("attendance:today")),
    Page(
        "register",
        "teacher",
        lambda s: _reverse("attendance:lesson-register", s.lesson.pk) if s.lesson else None,
    ),
    Page("week", "teacher", lambda s: _reverse("attendance:week")),
    Page("to_register", "teacher", lambda s: _reverse("attendance:to-register")),
    Page("my_pupils", "mentor", lambda s: _reverse("elevakt:my-pupils")),
    Page("mentees_absence", "mentor", lambda s: _reverse("attendance:mentees-absence")),
    Page("settle", "mentor", lambda s: _reverse("attendance:settle")),
    Page("tasks", "mentor", lambda s: _reverse("ladder:my-tasks")),
    Page(
        "pupil", "principal", lambda s: _reverse("elevakt:pupil", s.pupil.pk) if s.pupil else None
    ),
    Page("school_list", "principal", _school("elevakt:school-pupils")),
    Page("risk_list", "principal", _school("elevakt:school-riskzon")),
    Page("search", "principal", lambda s: _reverse("elevakt:search", query=f"q={s.search}")),
    Page("risk_municipality", "administration", lambda s: _reverse("elevakt:municipality-riskzon")),
    Page("overview", "administration", lambda s: _reverse("elevakt:overview")),
    Page("case", "principal", lambda s: _reverse("support:case", s.case.pk) if s.case else None),
    Page("follow_ups", "principal", lambda s: _reverse("followup:follow-ups")),
    Page("eht_agenda", "school_nurse", _school("followup:eht-agenda")),
    Page("oversight", "attendance_officer", lambda s: _reverse("compulsory:home")),
    Page("oversight_report", "administration", lambda s: _reverse("compulsory:report")),
    Page("arriving", "principal", lambda s: _reverse("handover:arriving")),
    Page("to_write", "mentor", lambda s: _reverse("handover:to-write")),
    Page("bank", "mentor", lambda s: _reverse("bank:index")),
    # an entry with its outcome figures across the municipality (the demo's most used one)
    Page("bank_entry", "mentor", lambda s: _reverse("bank:entry", "lektionsstruktur")),
    Page("dashboard_school", "principal", _school("reports:school")),
    Page("dashboard_municipality", "administration", lambda s: _reverse("reports:municipality")),
    Page("evaluation", "principal", _evaluation),
)


@dataclass
class Timed:
    page: Page
    url: str
    queries: int = 0
    rows: int = 0  # table rows in the final answer: what the page lists
    size: int = 0  # bytes of the final answer
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU (Python and Django)


# --- The data -------------------------------------------------------------------------------


def run(options: Options, report: Report) -> None:
    from django.test.utils import override_settings

    # The test Client calls itself "testserver"; DEBUG off so no query log grows.
    quiet = override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False)
    if options.extra.get("demo"):
        from django.db import connection

        report.say(f"pages on the demo database ({connection.vendor}: {_database_name()})")
        with quiet:
            _measure(options, report, prepare=False)
        return
    from fullfolj.benchmarks import attendance

    seed = int(options.extra.get("seed", SEED))
    database = attendance.prepare_database(
        options.pupils, seed, report, database=options.extra.get("pg_database")
    )
    with (
        attendance.use_database(database),
        quiet,
        override_settings(FULLFOLJ_TODAY=attendance.TODAY.isoformat()),
    ):
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # other apps' newer migrations, if any
        report.say(f"pages on {database}")
        _measure(options, report, prepare=True)


def _database_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def prepare_state(today: dt.date, report: Report) -> None:
    """What the nightly jobs would have left: a screening run per organiser with pupils and
    the absence ladder's tasks, made once when missing (untimed)."""
    from fullfolj.ladder import actions as ladder
    from fullfolj.ladder.models import LadderTask
    from fullfolj.schools.models import Organiser, Placement
    from fullfolj.screening import actions as screening
    from fullfolj.screening.models import ScreeningRun
    from fullfolj.simulation.support import simulate_support
    from fullfolj.support.models import Measure

    organisers = Organiser.objects.filter(
        pk__in=Placement.objects.active_on(today).values("organiser_id")
    )
    for organiser in organisers:
        if ScreeningRun.objects.filter(organiser=organiser, finished_at__isnull=False).exists():
            continue
        started = time.perf_counter()
        try:
            run = screening.run_screening(organiser, today)
        except screening.NoSchoolDays as error:
            report.say(f"  no screening for {organiser.name}: {error}")
            continue
        report.say(
            f"  screened {organiser.name} at {today}: {run.flagged_pupils:,} of "
            f"{run.pupils:,} pupils flagged ({time.perf_counter() - started:.1f} s)"
        )
    if not LadderTask.objects.exists():
        started = time.perf_counter()
        opened = ladder.evaluate_ladder(as_of=today - dt.timedelta(days=1))
        report.say(
            f"  absence ladder: {len(opened):,} tasks opened "
            f"({time.perf_counter() - started:.1f} s)"
        )
    if not Measure.objects.exists():  # the ladder opens cases by itself, never a measure
        started = time.perf_counter()
        made = simulate_support(today)
        report.say(
            f"  support: {made['cases']:,} cases, {made['measures']:,} measures, "
            f"{made['minutes']:,} EHT minutes ({time.perf_counter() - started:.1f} s)"
        )


def choose_scene(today: dt.date) -> Scene:
    """The holders with the most to show, and the objects their pages open."""
    from django.db.models import Count, Sum

    from fullfolj.attendance.models import Lesson, PupilDay
    from fullfolj.schools.calendar import term_and_recent_windows
    from fullfolj.schools.models import Mentorship, Placement, Role, School, Staff, StaffRole
    from fullfolj.support.models import Case

    scene = Scene(today=today)
    staff = Staff.objects.select_related("user")
    placed = Placement.objects.active_on(today)
    biggest = placed.values("school_id").annotate(n=Count("pk")).order_by("-n", "school_id").first()
    school_id = biggest["school_id"] if biggest else None
    holders = StaffRole.objects.select_related("staff__user", "school", "organiser").filter(
        staff__user__isnull=False
    )
    if school_id is not None:
        scene.school = School.objects.select_related("organiser").get(pk=school_id)
        for role in (Role.PRINCIPAL, Role.SCHOOL_NURSE, Role.SCHOOL_DOCTOR):
            held = holders.filter(role=role, school_id=school_id).first()
            held = held or holders.filter(role=role).order_by("pk").first()
            if held:
                scene.logins[role] = held.staff
        for role in (Role.ADMINISTRATION, Role.ATTENDANCE_OFFICER):
            held = holders.filter(role=role, organiser=scene.school.organiser).first()
            held = held or holders.filter(role=role).order_by("pk").first()
            if held:
                scene.logins[role] = held.staff
    mentor = (
        Mentorship.objects.active_on(today)
        .filter(mentor__user__isnull=False)
        .values("mentor_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "mentor_id")
        .first()
    )
    if mentor:
        scene.logins[Role.MENTOR] = staff.get(pk=mentor["mentor_id"])
    week = Lesson.objects.filter(
        date__gt=today - dt.timedelta(days=7), date__lte=today, teacher__user__isnull=False
    )
    teacher = week.values("teacher_id").annotate(n=Count("pk")).order_by("-n", "teacher_id").first()
    if teacher:
        scene.logins[Role.TEACHER] = staff.get(pk=teacher["teacher_id"])
        scene.lesson = (
            week.filter(teacher_id=teacher["teacher_id"]).order_by("-date", "-start").first()
        )
    if scene.school is not None:
        start, end = term_and_recent_windows(today)["term"]
        absent = (
            PupilDay.objects.filter(
                pupil_id__in=placed.filter(school=scene.school).values("pupil_id"),
                date__gte=start,
                date__lte=end,
            )
            .values("pupil_id")
            .annotate(a=Sum("absent_minutes"))
            .order_by("-a", "pupil_id")
            .first()
        )
        pupil = placed.filter(school=scene.school).select_related("pupil").first()
        if absent:
            pupil = placed.filter(pupil_id=absent["pupil_id"]).select_related("pupil").first()
        if pupil:
            scene.pupil = pupil.pupil
            scene.search = pupil.pupil.last_name
        scene.case = (
            Case.objects.open()
            .filter(school=scene.school)
            .annotate(n=Count("entries"))
            .order_by("-n", "pk")
            .first()
        )
    return scene


# --- The run --------------------------------------------------------------------------------


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _get(client: Any, url: str) -> Any:
    response = client.get(url, follow=True)
    if response.status_code != 200:
        raise RuntimeError(
            f"{url} answered {response.status_code} after {len(response.redirect_chain)} "
            f"redirects:\n{response.content[:2000]!r}"
        )
    return response


@contextlib.contextmanager
def _reads_undone() -> Iterator[None]:
    """Remove the access log rows the benchmark's requests write: they were no one's reads."""
    from django.db.models import Max

    from fullfolj.access.models import AccessLog

    last = AccessLog.objects.aggregate(last=Max("pk"))["last"] or 0
    try:
        yield
    finally:
        # A queryset delete: the model's own delete() refuses, as it should for real reads.
        AccessLog.objects.filter(pk__gt=last).delete()


def pages_to_time(scene: Scene, only: Sequence[str] = ()) -> tuple[list[Timed], list[str]]:
    """The pages with a URL on this build and a login in this data; the rest, with why."""
    from django.urls import NoReverseMatch

    chosen, skipped = [], []
    for page in PAGES:
        if only and page.name not in only and page.name != "floor":
            continue
        if page.role not in scene.logins:
            skipped.append(f"{page.name}: no {page.role} with a login in this data")
            continue
        try:
            url = page.url(scene)
        except NoReverseMatch:
            skipped.append(f"{page.name}: not on this build")
            continue
        if url is None:
            skipped.append(f"{page.name}: nothing to open in this data")
            continue
        chosen.append(Timed(page, url))
    return chosen, skipped


def _measure(options: Options, report: Report, *, prepare: bool) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fullfolj.lib import clock
    from fullfolj.lib.runtime import settle
    from fullfolj.schools.models import Pupil

    today = clock.today()
    if prepare:
        prepare_state(today, report)
    scene = choose_scene(today)
    timed, skipped = pages_to_time(scene, options.extra.get("only", ()))
    settle()  # the process is set up as a server's start leaves it (fullfolj/wsgi.py)
    pupils = Pupil.objects.count()
    rounds = max(1, options.repeat) * ROUNDS_PER_REPEAT
    report.say(
        f"  {pupils:,} pupils, today {today}; {len(timed)} pages x {rounds} requests"
        + (f"; {scene.school.name}" if scene.school else "")
    )
    for line in skipped:
        report.say(f"  skipped {line}")
    clients: dict[str, Any] = {}
    for role, staff in scene.logins.items():
        clients[role] = Client()
        clients[role].force_login(staff.user)
    with _reads_undone():
        for item in timed:
            with CaptureQueriesContext(connection) as queries:
                response = _get(clients[item.page.role], item.url)
            item.queries = len(queries.captured_queries)
            item.size = len(response.content)
            item.rows = response.content.count(b"<tr")
        for _round in range(rounds):
            for item in timed:
                client = clients[item.page.role]
                started, cpu = time.perf_counter(), time.process_time()
                _get(client, item.url)
                item.seconds.append(time.perf_counter() - started)
                item.cpu.append(time.process_time() - cpu)
    _print(report, timed, pupils)


def _print(report: Report, timed: list[Timed], pupils: int) -> None:
    report.say(
        f"  {'page':<18} {'login':<18} {'p50':>7} {'p95':>7} {'cpu p50':>8} "
        f"{'queries':>7} {'rows':>5} {'KB':>5}  url"
    )
    figures: dict[str, tuple[float, float]] = {}
    for item in timed:
        p50 = statistics.median(item.seconds) * 1000
        p95 = _percentile(item.seconds, 0.95) * 1000
        figures[item.page.name] = (p50, p95)
        report.say(
            f"  {item.page.name:<18} {item.page.role:<18} {p50:7.1f} {p95:7.1f} "
            f"{statistics.median(item.cpu) * 1000:8.1f} {item.queries:7d} {item.rows:5d} "
            f"{item.size / 1024:5.0f}  {item.url}"
        )
    one, five, fifteen = os.getloadavg()
    report.say(
        f"  (ms, n={len(timed[0].seconds) if timed else 0} per page; load average "
        f"{one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs)"
    )
    report.figure("pupils", pupils, "")
    for item in timed:
        p50, p95 = figures[item.page.name]
        report.figure(f"{item.page.name}_p50", round(p50, 1), "ms")
        report.figure(f"{item.page.name}_p95", round(p95, 1), "ms")
        report.figure(
            f"{item.page.name}_cpu_p95", round(_percentile(item.cpu, 0.95) * 1000, 1), "ms"
        )
        report.figure(f"{item.page.name}_queries", item.queries, "")
    pages = [item for item in timed if item.page.name != "floor"]
    if pages:
        slowest = max(pages, key=lambda item: figures[item.page.name][1])
        report.say(f"  slowest: {slowest.page.name}")
        report.figure("slowest_p95", round(figures[slowest.page.name][1], 1), "ms")
        over = sum(1 for item in pages if figures[item.page.name][1] > TARGET_MS)
        report.figure("over_150ms", over, "")
