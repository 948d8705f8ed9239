"""`fullfolj bench attendance`: saving a lesson register and running the absence ladder.

Over a simulated municipality loaded into its own PostgreSQL database (`fullfolj_attbench_N`,
kept between runs and marked with the data set's key; a `pg_dump` of it is cached under
`cache_dir()` so a dropped database comes back without simulating again), one run times:

- `save`: a 30-pupil lesson's first registration posted through the real view
  (`attendance:lesson-register`, Django's test Client, urlencoded as a browser posts it, the
  lesson's teacher logged in), a few pupils absent or late, as a teacher saves it; HTTP and
  all, commit included;
- `correct`: the same lessons corrected right after (two marks changed), again through the view;
  for both, beside the wall time, this process's CPU time (the view runs in it): on a shared
  machine the gap between the two is waiting, for the database or for a CPU;
- `action`: the first registration by `attendance.actions.register_lesson` called directly;
- `naive`: the baseline, the same registration written row by row as idiomatic ORM code would
  (get_or_create and save per pupil, one history row, aggregate refresh and notice scheduling
  per change), over the first NAIVE_LESSONS lessons of each pass;
- `ladder`: `ladder.actions.evaluate_ladder` for every placed pupil on the data's last day,
  from a state without tasks (the heaviest evaluation: every triggered step opens a task).

The registered lessons are the last data day's, with their group topped up to 30 pupils for
that one day from the same school; before each timed pass their marks, history, aggregates and
notices are reset, so every run measures the same work. "Today" is the next school day, so
every lesson has started whatever the hour. Peak memory includes the load when this run had
to simulate the data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fullfolj.benchmarks import Options, Report, cache_dir

DEFAULT_PUPILS = 10_000
SEED = 1
YEARS = 1
LAST_DAY = dt.date(2025, 11, 19)  # a Wednesday mid autumn term; the data end here
TODAY = dt.date(2025, 11, 20)  # the benchmark's "today": the day after the data
GROUP_SIZE = 30
LESSONS = 40  # lessons registered per pass; repeat passes give repeat x LESSONS saves
NAIVE_LESSONS = 10  # the baseline is slow: its median needs fewer
FORM_ENCODED = "application/x-www-form-urlencoded"
PG_URL = os.environ.get("FULLFOLJ_BENCH_PG", "postgres://postgres@127.0.0.1:5432")  # no dbname
DATA_VERSION = "1"  # bump when the data set's preparation changes


@dataclass(frozen=True)
class Registered:
    """One benchmark lesson: its id, its teacher's user and the marks to post."""

    lesson_id: int
    user_id: int
    staff_id: int
    pupils: tuple[int, ...]


def _key(pupils: int, seed: int) -> str:
    return f"attendance-{pupils}-s{seed}-{LAST_DAY:%Y%m%d}-v{DATA_VERSION}"


def _database(pupils: int) -> str:
    return f"fullfolj_attbench_{pupils}"


# --- The database ---------------------------------------------------------------------------


def _admin_sql(statement: str) -> None:
    import psycopg

    try:
        admin = psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise RuntimeError(
            f"bench attendance needs PostgreSQL at {PG_URL} (FULLFOLJ_BENCH_PG): {error}"
        ) from error
    with admin:
        admin.execute(statement)


def _marker(database: str) -> str | None:
    """The key the database was loaded with, or None when it is missing or incomplete."""
    import psycopg

    try:
        with psycopg.connect(f"{PG_URL}/{database}", connect_timeout=5) as conn:
            row = conn.execute("SELECT key FROM bench_marker").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


@contextlib.contextmanager
def use_database(database: str) -> Iterator[None]:
    """Point Django's default connection at the benchmark database for the `with` block."""
    import dj_database_url
    from django.db import connections

    connections["default"].close()
    original = connections.settings["default"]
    bench = dict(original)
    bench.update(dj_database_url.parse(f"{PG_URL}/{database}"))
    bench["OPTIONS"] = {}
    bench["CONN_MAX_AGE"] = 0
    connections.settings["default"] = bench
    with contextlib.suppress(AttributeError):
        del connections["default"]
    try:
        yield
    finally:
        connections["default"].close()
        connections.settings["default"] = original
        with contextlib.suppress(AttributeError):
            del connections["default"]


def prepare_database(pupils: int, seed: int, report: Report, database: str | None = None) -> str:
    """The loaded benchmark database: kept, restored from the cached dump, or simulated.

    `database`: another name than this benchmark's own (another benchmark's copy)."""
    database, key = database or _database(pupils), _key(pupils, seed)
    if _marker(database) == key:
        report.say(f"  {database} holds {key} (kept from an earlier run)")
        return database
    dump = cache_dir() / f"{key}.dump"
    _admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin_sql(f'CREATE DATABASE "{database}"')
    started = time.perf_counter()
    pg_restore, pg_dump = shutil.which("pg_restore"), shutil.which("pg_dump")
    if dump.exists() and pg_restore:
        subprocess.run(  # noqa: S603 - our own arguments
            [pg_restore, "--no-owner", "-j", "2", "-d", f"{PG_URL}/{database}", str(dump)],
            check=True,
        )
        # A restored dump has no planner statistics nor visibility map (index-only scans need
        # it); a running database has both from autovacuum.
        subprocess.run(  # noqa: S603 - our own arguments
            [shutil.which("psql") or "psql", "-q", "-c", "VACUUM ANALYZE", f"{PG_URL}/{database}"],
            check=True,
        )
        report.say(f"  restored {database} from {dump} in {time.perf_counter() - started:.1f} s")
        return database
    with use_database(database):
        _load(pupils, seed, key, report)
    report.say(f"  loaded {key} into {database} in {time.perf_counter() - started:.1f} s")
    if pg_dump:
        partial = dump.with_suffix(".partial")
        subprocess.run(  # noqa: S603 - our own arguments
            [pg_dump, "-Fc", "-Z", "1", "-f", str(partial), f"{PG_URL}/{database}"], check=True
        )
        partial.rename(dump)
        report.say(f"  cached a dump in {dump} ({dump.stat().st_size / 1e6:.0f} MB)")
    return database


def _load(pupils: int, seed: int, key: str, report: Report) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from fullfolj.simulation import engine, loader

    call_command("migrate", verbosity=0)
    first_year = (LAST_DAY.year if LAST_DAY.month >= 8 else LAST_DAY.year - 1) - YEARS + 1
    params = engine.Parameters(pupils=pupils, years=YEARS, seed=seed, first_school_year=first_year)
    report.say(f"  simulating {pupils:,} pupils up to {LAST_DAY} into PostgreSQL …")
    with override_settings(FULLFOLJ_TODAY=TODAY.isoformat()):
        counts = loader.load(engine.simulate(params), until=LAST_DAY)
    report.say(
        f"  {counts.get('attendance', 0):,} lesson records, "
        f"{counts.get('pupil_days', 0):,} pupil days"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("CREATE TABLE bench_marker (key text NOT NULL)")
        cursor.execute("INSERT INTO bench_marker VALUES (%s)", [key])


# --- The lessons ----------------------------------------------------------------------------


def choose_lessons(count: int) -> list[Registered]:
    """`count` lessons of the last data day, each group topped up to GROUP_SIZE for that day."""
    from django.db.models import Count, Q

    from fullfolj.attendance.models import Lesson
    from fullfolj.schools.models import GroupMembership, Placement

    lessons = list(
        Lesson.objects.filter(date=LAST_DAY, teacher__user__isnull=False)
        .annotate(
            size=Count(
                "group__memberships",
                filter=Q(group__memberships__start__lte=LAST_DAY)
                & (
                    Q(group__memberships__end__isnull=True)
                    | Q(group__memberships__end__gte=LAST_DAY)
                ),
            )
        )
        .filter(size__gte=15, size__lte=GROUP_SIZE)
        .select_related("group", "teacher")
        .order_by("-size", "pk")[: count * 3]
    )
    chosen: list[Registered] = []
    used_groups: set[int] = set()
    for lesson in lessons:
        teacher = lesson.teacher
        if lesson.group_id in used_groups or len(chosen) == count:
            continue
        if teacher is None or teacher.user_id is None:  # nobody could post the register
            continue
        used_groups.add(lesson.group_id)
        members = set(lesson.members().values_list("pk", flat=True))
        if len(members) < GROUP_SIZE:
            extra = (
                Placement.objects.active_on(LAST_DAY)
                .filter(school_id=lesson.group.school_id)
                .exclude(pupil_id__in=members)
                .order_by("pupil_id")
                .values_list("pupil_id", flat=True)[: GROUP_SIZE - len(members)]
            )
            # Through TODAY: the register shows the pupils in the group today (the gate).
            GroupMembership.objects.bulk_create(
                GroupMembership(group_id=lesson.group_id, pupil_id=pupil, start=LAST_DAY, end=TODAY)
                for pupil in extra
            )
            members = set(lesson.members().values_list("pk", flat=True))
        chosen.append(Registered(lesson.pk, teacher.user_id, teacher.pk, tuple(sorted(members))))
    return chosen


def reset(lessons: Sequence[Registered]) -> None:
    """Back to "not registered": no marks, history, notices or aggregates from earlier passes."""
    from django.db import transaction

    from fullfolj.attendance.actions import refresh_pupil_days
    from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance
    from fullfolj.notices.models import GuardianNotice

    ids = [item.lesson_id for item in lessons]
    pupils = {pupil for item in lessons for pupil in item.pupils}
    with transaction.atomic():
        AttendanceChange.objects.filter(lesson_id__in=ids).delete()
        LessonAttendance.objects.filter(lesson_id__in=ids).delete()
        Lesson.objects.filter(pk__in=ids).update(version=0, registered_at=None, registered_by=None)
        GuardianNotice.objects.filter(pupil_id__in=pupils, date=LAST_DAY).delete()
        refresh_pupil_days({(pupil, LAST_DAY) for pupil in pupils})


def entries(item: Registered, rng: random.Random) -> dict[int, dict[str, str]]:
    """A typical register: four pupils absent (invalid, ill, not yet known, part), two late."""
    picked = rng.sample(item.pupils, 6)
    return {
        picked[0]: {"absent_whole": "on", "status": "OGIL"},
        picked[1]: {"absent_whole": "on", "status": "SJUK"},
        picked[2]: {"absent_whole": "on", "status": "unknown"},
        picked[3]: {"absent_minutes": "20", "status": "TANDL"},
        picked[4]: {"late_minutes": "5", "status": "unknown"},
        picked[5]: {"late_minutes": "12", "status": "unknown"},
    }


def form_data(item: Registered, marks: dict[int, dict[str, str]], state: str) -> dict:
    """What the register form posts: every pupil's id, their entries and the signed state the
    page was loaded in."""
    data: dict[str, object] = {"state": state, "pupil": [str(p) for p in item.pupils]}
    for pupil in item.pupils:
        data[f"p{pupil}-status"] = "unknown"
        for name, value in marks.get(pupil, {}).items():
            data[f"p{pupil}-{name}"] = value
    return data


def corrected(marks: dict[int, dict[str, str]]) -> dict[int, dict[str, str]]:
    """The mentor's usual correction: the unknown absence turns out valid, one late was present."""
    fixed = {pupil: dict(entry) for pupil, entry in marks.items()}
    for entry in fixed.values():
        if entry.get("absent_whole") and entry["status"] == "unknown":
            entry["status"] = "SJUK"
            break
    late = [pupil for pupil, entry in fixed.items() if "late_minutes" in entry]
    del fixed[late[0]]
    return fixed


def as_marks(
    item: Registered, marks: dict[int, dict[str, str]], minutes: int, reasons: dict
) -> list:
    from fullfolj.attendance.actions import Mark

    result = []
    for pupil in item.pupils:
        entry = marks.get(pupil, {})
        absent = minutes if entry.get("absent_whole") else int(entry.get("absent_minutes", 0))
        reason = reasons.get(entry.get("status", ""))
        result.append(
            Mark(
                pupil_id=pupil,
                absent_minutes=absent,
                late_minutes=int(entry.get("late_minutes", 0)),
                is_valid=reason.is_valid if reason else None,
                reason=reason,
            )
        )
    return result


def naive_register(lesson: Any, marks: Sequence[Any], *, by: Any) -> None:
    """The baseline: the register written row by row, as straightforward ORM code would."""
    from django.db import transaction
    from django.db.models import Count, F, Q, Sum

    from fullfolj.attendance.actions import PRESENT
    from fullfolj.attendance.columnar import DAY_COLUMNS
    from fullfolj.attendance.models import (
        AttendanceChange,
        Lesson,
        LessonAttendance,
        PupilDay,
        PupilSubjectWeek,
    )
    from fullfolj.attendance.store import PERIODS
    from fullfolj.lib import clock
    from fullfolj.notices import actions as notices
    from fullfolj.schools.models import Pupil

    monday = lesson.date - dt.timedelta(days=lesson.date.weekday())
    with transaction.atomic():
        Lesson.objects.filter(pk=lesson.pk).update(
            version=F("version") + 1, registered_at=clock.now(), registered_by=by
        )
        lesson.refresh_from_db()
        for mark in marks:
            pupil = Pupil.objects.get(pk=mark.pupil_id)
            row, created = LessonAttendance.objects.get_or_create(
                lesson=lesson,
                pupil=pupil,
                defaults={
                    "organiser_id": pupil.organiser_id,
                    "date": lesson.date,
                    "scheduled_minutes": lesson.minutes,
                },
            )
            old = None if created else row.snapshot()
            for field, value in mark.as_fields().items():
                setattr(row, field, value)
            row.full_clean(validate_unique=False, validate_constraints=False)
            new = row.snapshot()
            if old == new:
                continue
            row.save()
            if (old or PRESENT) != new:
                AttendanceChange.objects.create(
                    attendance=row,
                    lesson=lesson,
                    version=lesson.version,
                    changed_by=by,
                    changed_at=clock.now(),
                    old=old,
                    new=new,
                )
            day = LessonAttendance.objects.filter(pupil=pupil, date=row.date).aggregate(
                lessons=Count("pk"),
                scheduled=Sum("scheduled_minutes"),
                absent=Sum("absent_minutes"),
                valid=Sum("absent_minutes", filter=Q(is_valid=True)),
                invalid=Sum("absent_minutes", filter=Q(is_valid=False)),
                unknown=Sum("absent_minutes", filter=Q(is_valid__isnull=True)),
                late=Sum("late_minutes"),
                late_count=Count("pk", filter=Q(late_minutes__gt=0)),
            )
            PupilDay.objects.update_or_create(
                pupil=pupil,
                date=row.date,
                defaults={"organiser_id": pupil.organiser_id}
                | {
                    f"{k}_minutes" if k not in ("lessons", "late_count") else k: v or 0
                    for k, v in day.items()
                },
            )
            for period in PERIODS:
                first = period.start(row.date)
                in_period = PupilDay.objects.filter(
                    pupil=pupil, date__gte=first, date__lt=period.following(first)
                ).aggregate(
                    days=Count("pk"),
                    **{name: Sum(name) for name in DAY_COLUMNS},
                )
                lookup: dict[str, Any] = {"pupil": pupil, period.key: first}
                period.model.objects.update_or_create(
                    defaults={"organiser_id": pupil.organiser_id} | in_period, **lookup
                )
            week = LessonAttendance.objects.filter(
                pupil=pupil,
                lesson__subject_id=lesson.subject_id,
                date__gte=monday,
                date__lt=monday + dt.timedelta(days=7),
            ).aggregate(
                scheduled=Sum("scheduled_minutes"),
                absent=Sum("absent_minutes"),
                invalid=Sum("absent_minutes", filter=Q(is_valid=False)),
            )
            PupilSubjectWeek.objects.update_or_create(
                pupil=pupil,
                subject_id=lesson.subject_id,
                week=monday,
                defaults={"organiser_id": pupil.organiser_id}
                | {f"{k}_minutes": v or 0 for k, v in week.items()},
            )
            notices.schedule_for_days([(pupil.pk, row.date)])


# --- The run --------------------------------------------------------------------------------


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _summary(report: Report, label: str, seconds: Sequence[float]) -> tuple[float, float]:
    p50, p95 = statistics.median(seconds) * 1000, _percentile(seconds, 0.95) * 1000
    report.say(
        f"  {label:<9} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
        f"(min {min(seconds) * 1000:.1f}, max {max(seconds) * 1000:.1f}, n={len(seconds)})"
    )
    return p50, p95


def run(options: Options, report: Report) -> None:
    from django.test.utils import override_settings

    seed = int(options.extra.get("seed", SEED))
    database = prepare_database(options.pupils, seed, report)
    # The test Client calls itself "testserver"; DEBUG off so no query log grows.
    with (
        use_database(database),
        override_settings(
            FULLFOLJ_TODAY=TODAY.isoformat(), ALLOWED_HOSTS=["testserver"], DEBUG=False
        ),
    ):
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # other apps' newer migrations, if any
        _measure(options, report)


def _measure(options: Options, report: Report) -> None:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from fullfolj.attendance.actions import register_lesson
    from fullfolj.attendance.forms import RegisterForm
    from fullfolj.attendance.models import AbsenceReason, Lesson, LessonAttendance
    from fullfolj.ladder import actions as ladder
    from fullfolj.ladder.models import LadderTask
    from fullfolj.schools.models import Pupil, Staff

    pupils = Pupil.objects.count()
    lessons = choose_lessons(LESSONS)
    if len(lessons) < LESSONS // 2:
        raise RuntimeError(f"only {len(lessons)} lessons on {LAST_DAY} to register")
    sizes = [len(item.pupils) for item in lessons]
    report.say(
        f"attendance on {_database(options.pupils)}: {pupils:,} pupils, "
        f"{LessonAttendance.objects.count():,} lesson records; registering {len(lessons)} "
        f"lessons of {LAST_DAY} ({min(sizes)}–{max(sizes)} pupils) x {options.repeat}"
    )
    reasons = {r.code: r for r in AbsenceReason.objects.all()}
    users = {u.pk: u for u in User.objects.filter(pk__in={item.user_id for item in lessons})}
    staff = {s.pk: s for s in Staff.objects.filter(pk__in={item.staff_id for item in lessons})}
    client = Client()
    times: dict[str, list[float]] = {"save": [], "correct": [], "action": [], "naive": []}
    # This process's own CPU per save (Python and Django, not the database server's share).
    cpu_times: dict[str, list[float]] = {"save": [], "correct": []}
    rng = random.Random(1)  # noqa: S311 - which pupils are absent, not a secret
    repeat = max(1, options.repeat)
    for _pass in range(repeat):
        plans = [entries(item, rng) for item in lessons]
        reset(lessons)
        for item, marks in zip(lessons, plans, strict=True):
            client.force_login(users[item.user_id])
            url = reverse("attendance:lesson-register", args=[item.lesson_id])
            for kind, posted in (("save", marks), ("correct", corrected(marks))):
                # The page as the teacher loaded it (untimed), as the browser would post it.
                state = RegisterForm(Lesson.objects.get(pk=item.lesson_id)).state
                # Encoded as the browser sends the form (no enctype): urlencoded, not multipart.
                body = urlencode(form_data(item, posted, state), doseq=True)
                started, cpu = time.perf_counter(), time.process_time()
                response = client.post(url, body, content_type=FORM_ENCODED)
                times[kind].append(time.perf_counter() - started)
                cpu_times[kind].append(time.process_time() - cpu)
                if response.status_code != 302:
                    raise RuntimeError(
                        f"lesson {item.lesson_id}: {kind} answered "
                        f"{response.status_code}:\n{response.content[:2000]!r}"
                    )
        _check(lessons)
        for kind, write, count in (
            ("action", register_lesson, len(lessons)),
            ("naive", naive_register, NAIVE_LESSONS),
        ):
            reset(lessons)
            for item, marks in zip(lessons[:count], plans[:count], strict=True):
                lesson = Lesson.objects.select_related("group").get(pk=item.lesson_id)
                rows = as_marks(item, marks, lesson.minutes, reasons)
                started = time.perf_counter()
                write(lesson, rows, by=staff[item.staff_id])
                times[kind].append(time.perf_counter() - started)
            _check(lessons[:count])

    figures = {kind: _summary(report, kind, seconds) for kind, seconds in times.items()}
    # The view runs in this process: its CPU beside the wall time shows how much of the wall
    # time was waiting (for the database, or for a CPU other processes held).
    cpu_ms = {
        kind: (statistics.median(values) * 1000, _percentile(values, 0.95) * 1000)
        for kind, values in cpu_times.items()
    }
    for kind, (p50, p95) in cpu_ms.items():
        report.say(
            f"  {kind:<9} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms of this process's CPU "
            "(Python and Django)"
        )
    # Other work on the machine slows every commit; say how busy it was.
    one, five, fifteen = os.getloadavg()
    report.say(f"  load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs")

    ladder_seconds: list[float] = []
    opened = 0
    try:
        for _run in range(repeat):
            LadderTask.objects.all().delete()
            started = time.perf_counter()
            opened = len(ladder.evaluate_ladder(as_of=LAST_DAY))
            ladder_seconds.append(time.perf_counter() - started)
    except Exception as error:  # the save figures still count; say why the ladder has none
        report.say(f"  ladder    failed: {type(error).__name__}: {error}")
    if ladder_seconds:
        report.say(
            f"  ladder    median {statistics.median(ladder_seconds):.3f} s  "
            f"(min {min(ladder_seconds):.3f}, max {max(ladder_seconds):.3f}, n={repeat}); "
            f"{opened:,} tasks opened"
        )

    report.figure("pupils", pupils, "")
    for kind in ("save", "correct", "action", "naive"):
        report.figure(f"{kind}_p50", round(figures[kind][0], 1), "ms")
        report.figure(f"{kind}_p95", round(figures[kind][1], 1), "ms")
    for kind in ("save", "correct"):
        report.figure(f"{kind}_cpu_p50", round(cpu_ms[kind][0], 1), "ms")
        report.figure(f"{kind}_cpu_p95", round(cpu_ms[kind][1], 1), "ms")
    report.figure("naive_vs_action", round(figures["naive"][0] / figures["action"][0], 1), "x")
    if ladder_seconds:
        report.figure("ladder", round(statistics.median(ladder_seconds), 3), "s")
        report.figure("ladder_tasks", opened, "")


def _check(lessons: Sequence[Registered]) -> None:
    """Each pass must leave every lesson with one mark per pupil, four of them absences."""
    from django.db.models import Count, Q

    from fullfolj.attendance.models import LessonAttendance

    counts = {
        lesson: (n, absent)
        for lesson, n, absent in LessonAttendance.objects.filter(
            lesson_id__in=[item.lesson_id for item in lessons]
        )
        .values("lesson_id")
        .annotate(n=Count("pk"), absent=Count("pk", filter=Q(absent_minutes__gt=0)))
        .values_list("lesson_id", "n", "absent")
    }
    for item in lessons:
        if counts.get(item.lesson_id) != (len(item.pupils), 4):
            raise RuntimeError(
                f"lesson {item.lesson_id}: (marks, absences) "
                f"{counts.get(item.lesson_id)}, expected ({len(item.pupils)}, 4)"
            )
