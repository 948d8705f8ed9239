"""Importing files of guardians, groups with their members, the timetable's lessons and grades,
all or nothing, the same way as load.py's pupils and attendance (docs/exchange.md).

Each kind has its columns, a planner that reads and checks every row before anything is written
(a bad row is reported with its line, column and reason), and a writer that runs inside the one
transaction of load.import_file. A row is found again by its natural key, so the same file
imported twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fullfolj.attendance.models import Lesson, LessonAttendance
from fullfolj.grades.models import GRADE_POINTS, Grade
from fullfolj.lib import clock
from fullfolj.schools import models as s

from . import reader as r
from .common import Cells, Column, Problem, Result, pnr, schools_of

PNR = Column("pnr", ("personnummer", "elevens personnummer", "personal identity number"))
SCHOOL = Column("school", ("skolenhetskod", "school-unit code"))
GROUP = Column("group", ("grupp", "gruppnamn", "group"))
SUBJECT = Column("subject", ("ämne", "ämneskod", "subject"))
TEACHER = Column("teacher", ("lärare", "lärarsignatur", "teacher"), required=False)


def _pupils(
    rows: list[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> dict[str, s.Pupil]:
    """The pupils the rows name, by personnummer: the organiser's own when one imports."""
    wanted = set()
    for raw in rows:
        cell = next((raw.values[n] for n in columns["pnr"].names if n in raw.values), None)
        try:
            wanted.add(pnr(cell))
        except r.BadValue:  # reported with the row
            continue
    found: dict[str, s.Pupil] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 5000):
        held = s.Pupil.objects.filter(personnummer__in=ordered[start : start + 5000])
        if organiser is not None:
            held = held.filter(organiser=organiser)
        found.update({pupil.personnummer: pupil for pupil in held})
    return found


def _pupil(row: Cells, pupils: dict[str, s.Pupil]) -> s.Pupil | None:
    number = row.get("pnr", pnr)
    if number and number not in pupils:
        row.fail("pnr", _("No pupil has the personal identity number %(pnr)s.") % {"pnr": number})
    return pupils.get(number or "")


def _school(row: Cells, schools: dict[str, s.School]) -> s.School | None:
    code = row.get("school")
    school = schools.get(code or "")
    if code and school is None:
        row.fail("school", _("No school unit has the code %(code)s.") % {"code": code})
    return school


def _subjects() -> dict[str, s.Subject]:
    found: dict[str, s.Subject] = {}
    for known in s.Subject.objects.all():
        found[known.code.casefold()] = found[known.name.casefold()] = known
    return found


def _subject(row: Cells, subjects: dict[str, s.Subject]) -> s.Subject | None:
    name = row.get("subject")
    subject = subjects.get((name or "").casefold())
    if name and subject is None:
        row.fail("subject", _("No subject is called %(name)s.") % {"name": name})
    return subject


def _teachers(organiser: s.Organiser | None) -> dict[str, s.Staff]:
    """Staff by username and by e-mail (what timetable exports write for a teacher)."""
    staff = s.Staff.objects.all()
    if organiser is not None:
        staff = staff.filter(roles__organiser=organiser).distinct()
    found: dict[str, s.Staff] = {}
    for member in staff:
        found[member.username.casefold()] = member
        if member.email:
            found.setdefault(member.email.casefold(), member)
    return found


def _teacher(row: Cells, teachers: dict[str, s.Staff]) -> s.Staff | None:
    name = row.get("teacher")
    teacher = teachers.get((name or "").casefold())
    if name and teacher is None:
        row.fail(
            "teacher",
            _("No member of staff has the user name or e-mail %(name)s.") % {"name": name},
        )
    return teacher


def _limit(row: Cells, values: Iterable[tuple[str, str | None, int]]) -> None:
    for key, value, limit in values:
        if value and len(value) > limit:
            row.fail(key, _("is longer than %(limit)s characters.") % {"limit": limit})


def _count(result: Result, *, created: bool, changed: bool) -> None:
    if created:
        result.created += 1
    elif changed:
        result.changed += 1
    else:
        result.unchanged += 1


def _assign(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


# --- guardians ----------------------------------------------------------------------------------

GUARDIAN_COLUMNS = (
    PNR,
    Column("first", ("vårdnadshavarens förnamn", "vh förnamn", "förnamn", "first name")),
    Column("last", ("vårdnadshavarens efternamn", "vh efternamn", "efternamn", "last name")),
    Column("email", ("e-post", "epost", "e-postadress", "email"), required=False),
    Column("phone", ("telefon", "mobil", "mobiltelefon", "phone"), required=False),
    Column("address", ("adress", "address"), required=False),
    Column("relation", ("relation", "roll", "relation to the pupil"), required=False),
)


@dataclass
class _GuardianPlan:
    line: int
    pupil: s.Pupil
    first: str
    last: str
    email: str
    phone: str
    address: str
    relation: str


def plan_guardians(
    rows: Iterable[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> tuple[list[_GuardianPlan], list[Problem]]:
    """A row per guardian and pupil. A protected pupil's guardian's address is not kept (it is
    most often the pupil's own; DOMAIN.md, protected identity). An e-mail address is stored as
    the school system holds it, as Guardian does: a bad one shows up as a bounce."""
    rows = list(rows)
    pupils = _pupils(rows, columns, organiser)
    problems: list[Problem] = []
    plans: list[_GuardianPlan] = []
    seen: dict[tuple[int, str, str], int] = {}
    for raw in rows:
        row = Cells(raw, columns, problems)
        pupil = _pupil(row, pupils)
        first, last = row.get("first"), row.get("last")
        email, phone = row.get("email") or "", row.get("phone") or ""
        address, relation = row.get("address") or "", row.get("relation") or ""
        _limit(
            row,
            [
                ("first", first, 100),
                ("last", last, 100),
                ("email", email, 200),
                ("phone", phone, 30),
                ("address", address, 200),
                ("relation", relation, 50),
            ],
        )
        if pupil is not None and first and last:
            key = (pupil.pk, first.casefold(), last.casefold())
            if key in seen:
                row.fail(
                    "first",
                    _("The same guardian of the pupil is also on line %(line)s.")
                    % {"line": seen[key]},
                )
            seen.setdefault(key, row.line)
        if row.ok and pupil is not None:
            plans.append(
                _GuardianPlan(
                    row.line,
                    pupil,
                    first,
                    last,
                    email,
                    phone,
                    "" if pupil.protected_identity else address,
                    relation or "vårdnadshavare",
                )
            )
    return plans, problems


def write_guardians(plans: list[_GuardianPlan], result: Result) -> list[Problem]:
    """A guardian is found among the pupil's own by name, else among the guardians of other
    pupils by name and e-mail or phone (siblings share them), else created."""
    for plan in plans:
        name = {"first_name__iexact": plan.first, "last_name__iexact": plan.last}
        tie = (
            s.Guardianship.objects.filter(
                pupil=plan.pupil, **{f"guardian__{k}": v for k, v in name.items()}
            )
            .select_related("guardian")
            .first()
        )
        guardian = tie.guardian if tie else None
        if guardian is None and (plan.email or plan.phone):
            same = s.Guardian.objects.filter(
                guardianships__pupil__organiser_id=plan.pupil.organiser_id, **name
            )
            same = same.filter(email=plan.email) if plan.email else same.filter(phone=plan.phone)
            guardian = same.first()
        created = guardian is None
        values = {"first_name": plan.first, "last_name": plan.last}
        for field, value in (("email", plan.email), ("phone", plan.phone)):
            if value:  # an empty cell does not wipe what the school knows
                values[field] = value
        if plan.address or plan.pupil.protected_identity:
            values["address"] = plan.address
        if guardian is None:
            guardian = s.Guardian()
        changed = _assign(guardian, values)
        if changed:
            guardian.save()
        if tie is None:
            tie = s.Guardianship.objects.create(
                pupil=plan.pupil, guardian=guardian, relation=plan.relation
            )
            changed = True
        elif tie.relation != plan.relation:
            tie.relation = plan.relation
            tie.save(update_fields=["relation"])
            changed = True
        _count(result, created=created, changed=changed)
    return []


# --- groups and their members -------------------------------------------------------------------

GROUP_COLUMNS = (
    SCHOOL,
    GROUP,
    PNR,
    Column("kind", ("grupptyp", "typ", "kind"), required=False),
    Column("grade", ("årskurs", "grade"), required=False),
    Column("start", ("startdatum", "från", "start"), required=False),
    Column("end", ("slutdatum", "till", "end"), required=False),
)

_CLASS_WORDS = {"klass", "class"}
_TEACHING_WORDS = {"undervisning", "undervisningsgrupp", "grupp", "teaching", ""}


@dataclass
class _MemberPlan:
    line: int
    school: s.School
    year: s.SchoolYear
    group: str
    is_class: bool
    grade: int | None
    pupil: s.Pupil
    start: dt.date
    end: dt.date | None


def plan_groups(
    rows: Iterable[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> tuple[list[_MemberPlan], list[Problem]]:
    """A row per member of a group (Klass or Undervisning, as SS 12000 calls them), from its
    start (default today) to its end (empty: it lasts); the group is in the school year of the
    start."""
    rows = list(rows)
    pupils = _pupils(rows, columns, organiser)
    schools = schools_of(organiser)
    years = list(s.SchoolYear.objects.all())
    problems: list[Problem] = []
    plans: list[_MemberPlan] = []
    seen: dict[tuple[int, str, int, dt.date], int] = {}
    today = clock.today()
    for raw in rows:
        row = Cells(raw, columns, problems)
        school = _school(row, schools)
        name = row.get("group")
        pupil = _pupil(row, pupils)
        kind = (row.get("kind") or "").casefold()
        if kind not in _CLASS_WORDS | _TEACHING_WORDS:
            row.fail(
                "kind", _("“%(value)s” is neither “Klass” nor “Undervisning”.") % {"value": kind}
            )
        grade = row.get("grade", lambda v: r.whole(v, low=0, high=10))
        start = row.get("start", r.date) or today
        end = row.get("end", r.date)
        if end and end < start:
            row.fail(
                "end", _("End %(end)s is before start %(start)s.") % {"end": end, "start": start}
            )
        year = next((y for y in years if y.start <= start <= y.end), None)
        if year is None:
            row.fail("start", _("%(date)s is in no school year.") % {"date": start})
        is_class = kind in _CLASS_WORDS
        if is_class and grade is None and name:
            digits = re.match(r"\d+", name)
            if digits and int(digits.group()) <= 10:
                grade = int(digits.group())
            else:
                row.fail(
                    "kind",
                    _(
                        "A class needs its grade (Årskurs); the name %(name)s does not begin with it."
                    )
                    % {"name": name},
                )
        _limit(row, [("group", name, 50 if not is_class else 20)])
        if pupil is not None and school is not None and name and year is not None:
            key = (school.pk, name.casefold(), pupil.pk, start)
            if key in seen:
                row.fail(
                    "pnr",
                    _("The same member of the group is also on line %(line)s.")
                    % {"line": seen[key]},
                )
            seen.setdefault(key, row.line)
        if row.ok and school and year and pupil and name:
            plans.append(
                _MemberPlan(row.line, school, year, name, is_class, grade, pupil, start, end)
            )
    return plans, problems


def write_groups(plans: list[_MemberPlan], result: Result) -> list[Problem]:
    """A group is found by school, school year and name, or created (a class with its class);
    a membership is found by group, pupil and start, or one running on the start, else made."""
    problems: list[Problem] = []
    groups: dict[tuple[int, int, str], s.TeachingGroup] = {}
    for plan in plans:
        key = (plan.school.pk, plan.year.pk, plan.group.casefold())
        group = groups.get(key)
        if group is None:
            group = s.TeachingGroup.objects.filter(
                school=plan.school, school_year=plan.year, name__iexact=plan.group
            ).first()
            if group is None:
                group = s.TeachingGroup.objects.create(
                    school=plan.school, school_year=plan.year, name=plan.group
                )
            groups[key] = group
        if plan.is_class and group.school_class_id is None:
            klass = s.SchoolClass.objects.filter(
                school=plan.school, school_year=plan.year, name__iexact=plan.group
            ).first()
            if klass is None:
                klass = s.SchoolClass.objects.create(
                    school=plan.school,
                    school_year=plan.year,
                    name=plan.group,
                    grade=plan.grade or 0,
                )
            group.school_class = klass
            group.save(update_fields=["school_class"])
        member = (
            s.GroupMembership.objects.filter(
                group=group, pupil=plan.pupil, start=plan.start
            ).first()
            or s.GroupMembership.objects.active_on(plan.start)
            .filter(group=group, pupil=plan.pupil)
            .first()
        )
        created = member is None
        if member is None:
            member = s.GroupMembership(group=group, pupil=plan.pupil, start=plan.start)
        changed = _assign(member, {"end": plan.end})
        if created or changed:
            member.save()
        _count(result, created=created, changed=changed)
    return problems


# --- timetable ----------------------------------------------------------------------------------

TIMETABLE_COLUMNS = (
    SCHOOL,
    GROUP,
    SUBJECT,
    Column("date", ("datum", "date")),
    Column("time", ("starttid", "start", "start time")),
    Column("minutes", ("minuter", "längd", "längd (min)", "minutes"), required=False),
    Column("until", ("sluttid", "slut", "end time"), required=False),
    TEACHER,
)


@dataclass
class _LessonPlan:
    line: int
    group: s.TeachingGroup
    subject: s.Subject
    term: s.Term
    start: dt.datetime
    minutes: int
    teacher: s.Staff | None


def plan_timetable(
    rows: Iterable[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> tuple[list[_LessonPlan], list[Problem]]:
    """A row per lesson: its group, subject, date, start and length (minutes, or an end time),
    and its teacher by user name or e-mail."""
    schools = schools_of(organiser)
    subjects = _subjects()
    teachers = _teachers(organiser)
    terms = list(s.Term.objects.select_related("school_year"))
    groups = {
        (g.school_id, g.school_year_id, g.name.casefold()): g
        for g in s.TeachingGroup.objects.filter(school__in=schools.values())
    }
    zone = timezone.get_current_timezone()
    problems: list[Problem] = []
    plans: list[_LessonPlan] = []
    seen: dict[tuple[int, int, dt.datetime], int] = {}
    for raw in rows:
        row = Cells(raw, columns, problems)
        school = _school(row, schools)
        subject = _subject(row, subjects)
        teacher = _teacher(row, teachers)
        day = row.get("date", r.date)
        at = row.get("time", r.clock)
        minutes = row.get("minutes", lambda v: r.whole(v, low=1, high=300))
        until = row.get("until", r.clock)
        if minutes is None and until is None:
            row.fail("minutes", _("is empty, and so is the end time."))
        elif minutes is None and at is not None and until is not None:
            minutes = (until.hour * 60 + until.minute) - (at.hour * 60 + at.minute)
            if not 0 < minutes <= 300:
                row.fail(
                    "until",
                    _("The lesson must last 1–300 minutes, not %(value)s.") % {"value": minutes},
                )
        term = next((t for t in terms if day and t.start <= day <= t.end), None)
        if day and term is None:
            row.fail("date", _("%(date)s is in no term.") % {"date": day})
        name = row.get("group")
        group = None
        if name and school is not None and term is not None:
            group = groups.get((school.pk, term.school_year_id, name.casefold()))
            if group is None:
                row.fail(
                    "group",
                    _("%(school)s has no group %(name)s in the school year of %(date)s.")
                    % {"school": school.name, "name": name, "date": day},
                )
        if not row.ok or not (group and subject and term and day and at and minutes):
            continue
        start = dt.datetime.combine(day, at, zone)
        key = (group.pk, subject.pk, start)
        if key in seen:
            row.fail("time", _("The same lesson is also on line %(line)s.") % {"line": seen[key]})
            continue
        seen[key] = row.line
        plans.append(_LessonPlan(row.line, group, subject, term, start, minutes, teacher))
    return plans, problems


def write_timetable(plans: list[_LessonPlan], result: Result) -> list[Problem]:
    """A lesson is found by group, subject and start, or created (not yet registered). A
    lesson that already has marks keeps its length: the marks were taken for it."""
    problems: list[Problem] = []
    for plan in plans:
        lesson = Lesson.objects.filter(
            group=plan.group, subject=plan.subject, start=plan.start
        ).first()
        created = lesson is None
        if lesson is None:
            lesson = Lesson(group=plan.group, subject=plan.subject, start=plan.start)
        values: dict[str, Any] = {
            "term_id": plan.term.pk,
            "date": timezone.localdate(plan.start),
            "minutes": plan.minutes,
        }
        if plan.teacher is not None:
            values["teacher_id"] = plan.teacher.pk
        if (
            not created
            and lesson.minutes != plan.minutes
            and LessonAttendance.objects.filter(lesson=lesson).exists()
        ):
            problems.append(
                Problem(
                    plan.line,
                    "Minuter",
                    _("The lesson has marks for %(minutes)s minutes; its length stays.")
                    % {"minutes": lesson.minutes},
                )
            )
            continue
        changed = _assign(lesson, values)
        if created or changed:
            lesson.save()
        _count(result, created=created, changed=changed)
    return problems


# --- grades -------------------------------------------------------------------------------------

GRADE_COLUMNS = (
    PNR,
    SCHOOL,
    SUBJECT,
    Column("grade", ("betyg", "grade")),
    Column("term", ("termin", "term"), required=False),
    Column("date", ("betygsdatum", "datum", "date"), required=False),
    TEACHER,
)


def term_name(value: Any) -> tuple[str, int]:
    """A term as exports write it: HT25, HT 2025, VT-2026, ht2025."""
    raw = r.text(value)
    match = re.fullmatch(r"(?i)\s*(HT|VT)[\s-]*(\d{2}|\d{4})\s*", raw)
    if not match:
        raise r.BadValue(_("“%(value)s” is not a term such as HT25 or VT 2026.") % {"value": raw})
    year = int(match.group(2))
    return match.group(1).upper(), year + 2000 if year < 100 else year


@dataclass
class _GradePlan:
    line: int
    pupil: s.Pupil
    school: s.School
    subject: s.Subject
    term: s.Term
    grade: str
    teacher: s.Staff | None


def plan_grades(
    rows: Iterable[r.Row], columns: dict[str, Column], organiser: s.Organiser | None
) -> tuple[list[_GradePlan], list[Problem]]:
    """A row per term grade: A–F or “-” (no basis), in a term given by name (HT25) or by a
    date within it."""
    rows = list(rows)
    pupils = _pupils(rows, columns, organiser)
    schools = schools_of(organiser)
    subjects = _subjects()
    teachers = _teachers(organiser)
    terms = list(s.Term.objects.all())
    problems: list[Problem] = []
    plans: list[_GradePlan] = []
    seen: dict[tuple[int, int, int], int] = {}
    for raw in rows:
        row = Cells(raw, columns, problems)
        pupil = _pupil(row, pupils)
        school = _school(row, schools)
        subject = _subject(row, subjects)
        teacher = _teacher(row, teachers)
        value = (row.get("grade") or "").upper().replace("–", "-")
        if value and value not in GRADE_POINTS:
            row.fail(
                "grade", _("“%(value)s” is not a grade on the scale A–F or “-”.") % {"value": value}
            )
        named = row.get("term", term_name)
        day = row.get("date", r.date)
        term = None
        if named:
            kind, year = named
            term = next((t for t in terms if t.kind == kind and t.start.year == year), None)
            if term is None:
                row.fail("term", _("No term is %(kind)s %(year)s.") % {"kind": kind, "year": year})
        elif day:
            term = next((t for t in terms if t.start <= day <= t.end), None)
            if term is None:
                row.fail("date", _("%(date)s is in no term.") % {"date": day})
        elif row.ok:
            row.fail("term", _("is empty, and so is the date."))
        if pupil and subject and term:
            key = (pupil.pk, subject.pk, term.pk)
            if key in seen:
                row.fail(
                    "grade",
                    _("The pupil's grade in the subject that term is also on line %(line)s.")
                    % {"line": seen[key]},
                )
            seen.setdefault(key, row.line)
        if row.ok and pupil and school and subject and term and value:
            plans.append(_GradePlan(row.line, pupil, school, subject, term, value, teacher))
    return plans, problems


def write_grades(plans: list[_GradePlan], result: Result) -> list[Problem]:
    """A grade is found by pupil, subject and term and set, or created."""
    for plan in plans:
        grade = Grade.objects.filter(pupil=plan.pupil, subject=plan.subject, term=plan.term).first()
        created = grade is None
        if grade is None:
            grade = Grade(
                pupil=plan.pupil,
                subject=plan.subject,
                term=plan.term,
                organiser_id=plan.pupil.organiser_id,
            )
        values: dict[str, Any] = {"grade": plan.grade, "school_id": plan.school.pk}
        if plan.teacher is not None:
            values["teacher_id"] = plan.teacher.pk
        changed = _assign(grade, values)
        if created or changed:
            grade.save()
        _count(result, created=created, changed=changed)
    return []


KINDS: dict[str, tuple[tuple[Column, ...], Callable[..., Any], Callable[..., Any]]] = {
    "guardians": (GUARDIAN_COLUMNS, plan_guardians, write_guardians),
    "groups": (GROUP_COLUMNS, plan_groups, write_groups),
    "timetable": (TIMETABLE_COLUMNS, plan_timetable, write_timetable),
    "grades": (GRADE_COLUMNS, plan_grades, write_grades),
}
