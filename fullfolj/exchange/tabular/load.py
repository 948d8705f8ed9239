"""Importing a file of pupils or of lesson attendance, all or nothing (docs/exchange.md).

Every row is read and checked first; if any row is bad, the report lists each one (line, column,
reason) and nothing is written. Otherwise the rows are written in one transaction; a rule of
ours that refuses a row then (placements that overlap) rolls everything back and is reported
the same way. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fullfolj.attendance.actions import refresh_pupil_days
from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance
from fullfolj.attendance.store import PRESENT, Pair
from fullfolj.lib import clock, personnummer
from fullfolj.schools import models as s

from . import reader as r
from . import records
from .common import Cells as Cells
from .common import Column as Column
from .common import Problem as Problem
from .common import Rejected as Rejected
from .common import Result as Result
from .common import find_columns as find_columns
from .common import mapped as mapped
from .common import pnr as _pnr
from .common import school_year_of as _school_year
from .common import schools_of as _schools

# --- pupils ---------------------------------------------------------------------------------


PUPIL_COLUMNS = (
    Column("pnr", ("personnummer", "personal identity number")),
    Column("first", ("förnamn", "first name")),
    Column("last", ("efternamn", "last name")),
    Column("school", ("skolenhetskod", "school-unit code")),
    Column("class", ("klass", "class"), required=False),
    Column("start", ("startdatum", "start"), required=False),
    Column("protected", ("skyddad identitet", "protected identity"), required=False),
    Column("address", ("adress", "address"), required=False),
)


@dataclass
class _PupilPlan:
    line: int
    pnr: str
    first: str
    last: str
    school: s.School
    klass: s.SchoolClass | None
    start: dt.date
    protected: bool
    address: str


def _plan_pupils(
    rows: Iterable[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> tuple[list[_PupilPlan], list[Problem]]:
    problems: list[Problem] = []
    plans: list[_PupilPlan] = []
    schools = _schools(organiser)
    seen: dict[str, int] = {}
    today = clock.today()
    for raw in rows:
        row = Cells(raw, columns, problems)
        pnr = row.get("pnr", _pnr)
        first, last = row.get("first"), row.get("last")
        code = row.get("school")
        school = schools.get(code or "")
        if code and school is None:
            row.fail("school", _("No school unit has the code %(code)s.") % {"code": code})
        known = len(problems)
        start = row.get("start", r.date)
        start_read = len(problems) == known  # a bad date is reported once, not again by class
        start = start or today
        protected = bool(row.get("protected", r.yes_no))
        address = row.get("address") or ""
        klass = None
        name = row.get("class")
        if name and school is not None and start_read:
            year = _school_year(start)
            klass = s.SchoolClass.objects.filter(
                school=school, school_year=year, name__iexact=name
            ).first()
            if klass is None:
                row.fail(
                    "class",
                    _("%(school)s has no class %(name)s in the school year of %(date)s.")
                    % {"school": school.name, "name": name, "date": start},
                )
        if pnr and pnr in seen:
            row.fail("pnr", _("The pupil is also on line %(line)s.") % {"line": seen[pnr]})
        if pnr:
            seen.setdefault(pnr, row.line)
        for key, value, limit in (
            ("first", first, 100),
            ("last", last, 100),
            ("address", address, 200),
        ):
            if value and len(value) > limit:
                row.fail(key, _("is longer than %(limit)s characters.") % {"limit": limit})
        if row.ok and school is not None:
            plans.append(
                _PupilPlan(
                    row.line,
                    pnr,
                    first,
                    last,
                    school,
                    klass,
                    start,
                    protected,
                    "" if protected else address,
                )
            )
    if organiser is not None:  # pupils in another organiser's records are not ours to change
        wanted = [plan.pnr for plan in plans]
        others: set[str] = set()
        for start in range(0, len(wanted), 5000):
            others.update(
                s.Pupil.objects.filter(personnummer__in=wanted[start : start + 5000])
                .exclude(organiser=organiser)
                .values_list("personnummer", flat=True)
            )
        for plan in plans:
            if plan.pnr in others:
                problems.append(
                    Problem(
                        plan.line,
                        columns["pnr"].label,
                        _("The pupil belongs to another organiser's records."),
                    )
                )
        problems.sort(key=lambda problem: problem.line)
    return plans, problems


def _write_pupils(plans: list[_PupilPlan], result: Result) -> list[Problem]:
    problems: list[Problem] = []
    for plan in plans:
        birth = personnummer.parse(plan.pnr)
        values = {
            "first_name": plan.first,
            "last_name": plan.last,
            "birth_date": birth.birth_date,
            "legal_gender": birth.legal_gender,
            "protected_identity": plan.protected,
            "address": plan.address,
        }
        pupil = s.Pupil.objects.filter(personnummer=plan.pnr).first()
        changed = False
        if pupil is None:
            pupil = s.Pupil(personnummer=plan.pnr, organiser_id=plan.school.organiser_id, **values)
            changed = True
        else:
            for name, value in values.items():
                if getattr(pupil, name) != value:
                    setattr(pupil, name, value)
                    changed = True
        created = pupil.pk is None
        try:
            if changed:
                pupil.save()
            placement = (
                s.Placement.objects.active_on(plan.start)
                .filter(pupil=pupil, school=plan.school)
                .first()
            )
            if placement is None:
                placement = s.Placement(
                    pupil=pupil,
                    school=plan.school,
                    organiser_id=plan.school.organiser_id,
                    start=plan.start,
                    school_class=plan.klass,
                )
                placement.save()
                changed = True
            elif plan.klass is not None and placement.school_class_id != plan.klass.pk:
                placement.school_class = plan.klass
                placement.save()
                changed = True
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                column = "Startdatum" if name == "start" else name
                problems.append(Problem(plan.line, column, " ".join(messages)))
            continue
        if created:
            result.created += 1
        elif changed:
            result.changed += 1
        else:
            result.unchanged += 1
    return problems


# --- lesson attendance ----------------------------------------------------------------------


ATTENDANCE_COLUMNS = (
    Column("pnr", ("personnummer", "personal identity number")),
    Column("school", ("skolenhetskod", "school-unit code")),
    Column("group", ("grupp", "group")),
    Column("subject", ("ämne", "subject")),
    Column("date", ("datum", "date")),
    Column("time", ("starttid", "start time")),
    Column("minutes", ("minuter", "minutes")),
    Column("absent", ("frånvaro (min)", "frånvaro", "absent minutes"), required=False),
    Column("late", ("sen ankomst (min)", "sen ankomst", "late minutes"), required=False),
    Column("valid", ("giltig", "valid"), required=False),
)


@dataclass
class _MarkPlan:
    line: int
    pupil: int
    organiser: int
    group: int
    subject: int
    term: int
    start: dt.datetime
    minutes: int
    absent: int
    late: int
    valid: bool | None


def _plan_marks(
    rows: Iterable[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> tuple[list[_MarkPlan], list[Problem]]:
    problems: list[Problem] = []
    plans: list[_MarkPlan] = []
    schools = _schools(organiser)
    subjects: dict[str, int] = {}
    for known in s.Subject.objects.all():
        subjects[known.code.casefold()] = subjects[known.name.casefold()] = known.pk
    terms = list(s.Term.objects.all())
    groups: dict[tuple[int, str, int], int] = {
        (g.school_id, g.name.casefold(), g.school_year_id): g.pk
        for g in s.TeachingGroup.objects.all()
    }
    years = list(s.SchoolYear.objects.all())
    pupils: dict[str, tuple[int, int]] = {}
    seen: dict[tuple[int, int, dt.datetime], int] = {}
    zone = timezone.get_current_timezone()
    rows = list(rows)
    wanted = set()
    for raw in rows:
        cell = next((raw.values[n] for n in columns["pnr"].names if n in raw.values), None)
        with contextlib.suppress(r.BadValue):  # reported with the row
            wanted.add(_pnr(cell))
    for chunk in range(0, len(wanted), 5000):
        part = sorted(wanted)[chunk : chunk + 5000]
        held = s.Pupil.objects.filter(personnummer__in=part)
        if organiser is not None:
            held = held.filter(organiser=organiser)
        for pk, pnr, holder in held.values_list("pk", "personnummer", "organiser_id"):
            pupils[pnr] = (pk, holder)
    for raw in rows:
        row = Cells(raw, columns, problems)
        pnr = row.get("pnr", _pnr)
        if pnr and pnr not in pupils:
            row.fail("pnr", _("No pupil has the personal identity number %(pnr)s.") % {"pnr": pnr})
        code = row.get("school")
        school = schools.get(code or "")
        if code and school is None:
            row.fail("school", _("No school unit has the code %(code)s.") % {"code": code})
        day = row.get("date", r.date)
        at = row.get("time", r.clock)
        minutes = row.get("minutes", lambda v: r.whole(v, low=1, high=300))
        absent = row.get("absent", lambda v: r.whole(v, low=0, high=300)) or 0
        late = row.get("late", lambda v: r.whole(v, low=0, high=300)) or 0
        valid = row.get("valid", r.yes_no)
        subject_name = row.get("subject")
        subject = subjects.get((subject_name or "").casefold())
        if subject_name and subject is None:
            row.fail("subject", _("No subject is called %(name)s.") % {"name": subject_name})
        term = next((t for t in terms if day and t.start <= day <= t.end), None)
        if day and term is None:
            row.fail("date", _("%(date)s is in no term.") % {"date": day})
        group = None
        name = row.get("group")
        if name and school is not None and term is not None:
            year = next((y for y in years if y.start <= day <= y.end), None)
            group = groups.get((school.pk, name.casefold(), year.pk if year else 0))
            if group is None:
                row.fail(
                    "group",
                    _("%(school)s has no group %(name)s in the school year of %(date)s.")
                    % {"school": school.name, "name": name, "date": day},
                )
        if minutes and absent > minutes:
            row.fail(
                "absent",
                _("%(absent)s minutes absent is more than the lesson's %(minutes)s.")
                % {"absent": absent, "minutes": minutes},
            )
        elif minutes and absent + late > minutes:
            row.fail(
                "late",
                _("Late and absent minutes together are more than the lesson's %(minutes)s.")
                % {"minutes": minutes},
            )
        if not row.ok or group is None or subject is None or term is None:
            continue
        start = dt.datetime.combine(day, at, zone)
        pupil, holder = pupils[pnr]
        key = (pupil, group, start)
        if key in seen:
            row.fail(
                "pnr",
                _("The same pupil and lesson are also on line %(line)s.") % {"line": seen[key]},
            )
            continue
        seen[key] = row.line
        plans.append(
            _MarkPlan(
                row.line,
                pupil,
                holder,
                group,
                subject,
                term.pk,
                start,
                minutes,
                absent,
                late,
                valid if absent else None,
            )
        )
    return plans, problems


def _write_marks(plans: list[_MarkPlan], result: Result) -> list[Problem]:
    problems: list[Problem] = []
    now = timezone.now()
    lessons: dict[tuple[int, int, dt.datetime], Lesson] = {}
    if plans:
        days = [plan.start for plan in plans]
        for lesson in Lesson.objects.filter(
            group_id__in={plan.group for plan in plans},
            start__gte=min(days),
            start__lte=max(days),
        ):
            lessons[(lesson.group_id, lesson.subject_id, lesson.start)] = lesson
    for plan in plans:
        key = (plan.group, plan.subject, plan.start)
        found = lessons.get(key)
        if found is None:
            lessons[key] = Lesson.objects.create(
                group_id=plan.group,
                subject_id=plan.subject,
                term_id=plan.term,
                date=timezone.localdate(plan.start),
                start=plan.start,
                minutes=plan.minutes,
                registered_at=now,
                first_registered_at=now,
            )
        elif found.minutes != plan.minutes:
            problems.append(
                Problem(
                    plan.line,
                    "Minuter",
                    _("The lesson at that time lasts %(minutes)s minutes.")
                    % {"minutes": found.minutes},
                )
            )
    if problems:
        return problems
    existing = {
        (mark.lesson_id, mark.pupil_id): mark
        for mark in LessonAttendance.objects.filter(
            lesson_id__in={lesson.pk for lesson in lessons.values()},
            pupil_id__in={plan.pupil for plan in plans},
        ).select_related("reason")
    }
    created: list[LessonAttendance] = []
    updated: list[LessonAttendance] = []
    history: list[AttendanceChange] = []
    pairs: set[Pair] = set()
    for plan in plans:
        lesson = lessons[(plan.group, plan.subject, plan.start)]
        mark = existing.get((lesson.pk, plan.pupil))
        old = mark.snapshot() if mark else None
        if mark is None:
            mark = LessonAttendance(
                lesson=lesson,
                pupil_id=plan.pupil,
                organiser_id=plan.organiser,
                date=lesson.date,
                scheduled_minutes=lesson.minutes,
            )
        mark.absent_minutes, mark.late_minutes, mark.is_valid = plan.absent, plan.late, plan.valid
        if mark.reason_id and mark.reason and mark.reason.is_valid != plan.valid:
            mark.reason = None
        new = mark.snapshot()
        if old == new:
            result.unchanged += 1
            continue
        if mark.pk is None:
            created.append(mark)
            result.created += 1
        else:
            updated.append(mark)
            result.changed += 1
        pairs.add((plan.pupil, lesson.date))
        if (old or PRESENT) != new:
            history.append(
                AttendanceChange(
                    attendance=mark,
                    lesson=lesson,
                    version=lesson.version,
                    changed_by=None,
                    changed_at=now,
                    old=old,
                    new=new,
                )
            )
    LessonAttendance.objects.bulk_create(created, batch_size=2000)
    LessonAttendance.objects.bulk_update(
        updated, ["absent_minutes", "late_minutes", "is_valid", "reason"], batch_size=2000
    )
    AttendanceChange.objects.bulk_create(history, batch_size=2000)
    refresh_pupil_days(pairs)
    # Registered in the school system: not lessons for our teachers to register.
    Lesson.objects.filter(
        pk__in=[lesson.pk for lesson in lessons.values()], registered_at__isnull=True
    ).update(registered_at=now, first_registered_at=now)
    return problems


KINDS: dict[str, tuple[tuple[Column, ...], Callable[..., Any], Callable[..., Any]]] = {
    "pupils": (PUPIL_COLUMNS, _plan_pupils, _write_pupils),
    "attendance": (ATTENDANCE_COLUMNS, _plan_marks, _write_marks),
    **records.KINDS,
}


class _DryRun(Exception):
    pass


Progress = Callable[[str, int, int], None]  # (checking or writing, rows done, rows in all)


def _counted(rows: Iterable[r.Row], progress: Progress, total: int) -> Iterator[r.Row]:
    for done, row in enumerate(rows, start=1):
        if done % 1000 == 0:
            progress("checking", done, max(total, done))
        yield row


def import_file(
    kind: str,
    raw: bytes,
    *,
    name: str = "",
    dry_run: bool = False,
    organiser: s.Organiser | None = None,
    columns: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> Result:
    """Import a file of `kind` (pupils, guardians, groups, timetable, attendance, grades), all
    or nothing; with `organiser`, only into that organiser's schools and pupils (the upload
    page of its administration). `columns` maps our columns to the file's own headers (a
    preset); `progress` hears how far the rows have been checked, then that writing began.

    Large lesson-attendance CSV files on PostgreSQL take fast.py's way (the same meaning).
    Raises FileRejected (the file as a whole) or Rejected (every bad row); nothing is written
    then. A dry run checks and writes everything, then rolls it back.
    """
    from . import fast  # it builds on this module

    wanted, plan, write = KINDS[kind]
    wanted = mapped(wanted, columns or {})
    total = raw.count(b"\n") if not raw.startswith(r.XLSX_MAGIC) else 0
    report = progress or (lambda _status, _done, _total: None)
    report("checking", 0, total)
    if kind == "attendance" and fast.usable(raw, name):
        done = fast.import_attendance(raw, dry_run=dry_run, organiser=organiser, columns=wanted)
        if done is not None:
            return done
    headers, rows = r.read(raw, name)
    found = find_columns(headers, wanted)
    plans, problems = plan(_counted(rows, report, total), found, organiser)
    if problems:
        raise Rejected(problems)
    report("writing", len(plans), len(plans))
    result = Result(rows=len(plans))
    try:
        with transaction.atomic():
            problems = write(plans, result)
            if problems:
                raise Rejected(problems)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result
