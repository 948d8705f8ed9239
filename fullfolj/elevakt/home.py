"""The home page: what needs this person today, as cards.

A card is a read function and a template. The function takes the viewer and today and yields
`Card`s, each placed under the role (and school) it speaks for, so a person with several roles
sees every role's cards grouped apart. The figures come from each app's queries module; a card
that names pupils lists them in `reads`, and the page logs them. Adding a card is one function,
one template and one line in CARDS.

Each function makes a fixed number of queries whatever the number of pupils or tasks: counts
are grouped in the database, and lists are cut to a few rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Window
from django.utils.translation import gettext as _

from fullfolj.access import gate
from fullfolj.access.gate import LADDER_ROLES, Viewer, pupils_visible_to
from fullfolj.attendance import queries as attendance
from fullfolj.attendance.lessons import unregistered_lessons
from fullfolj.compulsory import queries as oversight
from fullfolj.handover import queries as handover
from fullfolj.ladder import queries as ladder
from fullfolj.ladder.models import Actor
from fullfolj.lib import disclosure
from fullfolj.schools.calendar import term_so_far, weeks_before
from fullfolj.schools.models import STUDENT_HEALTH_ROLES, Organiser, Placement, Pupil, Role, School
from fullfolj.screening import queries as screening
from fullfolj.support import eht, followups

LESSONS_SHOWN = 5  # the oldest unregistered lessons listed on the card; the rest are counted
NAMES_SHOWN = 10  # the officer's children without a school listed by name


@dataclass(frozen=True, order=True)
class Place:
    """Where a card belongs: a role, perhaps at one school; the page groups cards by place."""

    rank: int
    label: str


@dataclass(frozen=True)
class Card:
    place: Place
    template: str
    data: dict[str, Any]
    reads: tuple[int, ...] = ()  # pupils the card names, for the access log
    role: str = ""  # the role through which it names them


@dataclass
class Group:
    place: Place
    cards: list[Card] = field(default_factory=list)


def _teacher() -> Place:
    return Place(0, _("Teacher"))


def _mentor() -> Place:
    return Place(1, _("Mentor"))


def _principal(school: School) -> Place:
    return Place(2, _("Principal, %(school)s") % {"school": school.name})


def _student_health(school: School) -> Place:
    return Place(3, _("Student health team, %(school)s") % {"school": school.name})


def _administration(organiser: Organiser) -> Place:
    return Place(4, _("Administration, %(organiser)s") % {"organiser": organiser.name})


def _officer(organiser: Organiser) -> Place:
    return Place(5, _("Compulsory-school oversight, %(organiser)s") % {"organiser": organiser.name})


def _schools(viewer: Viewer, roles: Iterable[str]) -> list[School]:
    """The schools where this viewer holds one of `roles`, by name (from the roles read once)."""
    wanted = set(roles)
    found = {r.school_id: r.school for r in viewer.roles if r.role in wanted and r.school}
    return sorted(found.values(), key=lambda s: s.name)


def _organisers(viewer: Viewer, role: str) -> list[Organiser]:
    found = {r.organiser_id: r.organiser for r in viewer.roles if r.role == role}
    return sorted(found.values(), key=lambda o: o.name)


def _school_wide_place(viewer: Viewer, school: School) -> Place:
    if school.pk in viewer.schools_with({Role.PRINCIPAL}):
        return _principal(school)
    return _student_health(school)


# --- The cards ------------------------------------------------------------------------------


def lessons_to_register(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """The teacher's lessons held this term and not yet registered, oldest first."""
    if not viewer.is_teacher:
        return
    waiting = unregistered_lessons(viewer.staff, today)
    shown = list(waiting[:LESSONS_SHOWN])
    count = waiting.count()
    yield Card(
        _teacher(),
        "elevakt/home/_lessons.html",
        {"count": count, "lessons": shown, "today": today},
    )


def absences_to_settle(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Absence whose validity nobody has settled (Att avgöra): the mentor's pupils, and a
    principal's school."""
    if viewer.is_mentor:
        mentees = pupils_visible_to(viewer, roles={Role.MENTOR})
        yield Card(
            _mentor(), "elevakt/home/_settle.html", {"count": attendance.unsettled_count(mentees)}
        )
    schools = _schools(viewer, {Role.PRINCIPAL})
    if schools:
        counts = attendance.unsettled_by_school(
            [s.pk for s in schools], pupils_visible_to(viewer, roles={Role.PRINCIPAL})
        )
        for school in schools:
            yield Card(
                _principal(school), "elevakt/home/_settle.html", {"count": counts.get(school.pk, 0)}
            )


def ladder_tasks(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Open absence-ladder tasks per acting role: due within a week and overdue; a principal
    also sees every overdue task at the school, whoever acts on it."""
    if not viewer.has(*LADDER_ROLES):
        return
    counts = ladder.task_counts(viewer, today)

    def summed(actor: str, school_id: int | None = None) -> dict[str, int]:
        rows = [
            c
            for c in counts
            if c.actor == actor and (school_id is None or c.school_id == school_id)
        ]
        return {
            "open": sum(c.open for c in rows),
            "due_soon": sum(c.due_soon for c in rows),
            "overdue": sum(c.overdue for c in rows),
        }

    template = "elevakt/home/_tasks.html"
    if viewer.is_mentor:
        yield Card(_mentor(), template, summed(Actor.MENTOR))
    principal = _schools(viewer, {Role.PRINCIPAL})
    overdue = ladder.overdue_at_schools((s.pk for s in principal), today)
    for school in principal:
        data = summed(Actor.PRINCIPAL, school.pk) | {"school_overdue": overdue.get(school.pk, 0)}
        yield Card(_principal(school), template, data)
    for school in _schools(viewer, STUDENT_HEALTH_ROLES):
        yield Card(_student_health(school), template, summed(Actor.STUDENT_HEALTH, school.pk))


def flagged_without_action(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Pupils the latest screening flagged and nobody acts on yet: the riskzon list's top."""
    template = "elevakt/home/_flagged.html"
    if viewer.is_mentor:
        counts = screening.flagged_without_action(pupils_visible_to(viewer, roles={Role.MENTOR}))
        yield Card(_mentor(), template, {"count": sum(counts.values()), "school": None})
    wide = _schools(viewer, {Role.PRINCIPAL} | STUDENT_HEALTH_ROLES)
    if wide:
        counts = screening.flagged_without_action(
            pupils_visible_to(viewer, roles={Role.PRINCIPAL} | STUDENT_HEALTH_ROLES)
        )
        for school in wide:
            yield Card(
                _school_wide_place(viewer, school),
                template,
                {"count": counts.get(school.pk, 0), "school": school},
            )


def follow_ups(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Measures whose follow-up date has passed without an evaluation: the person's own, under
    their closest role; and for a principal every one at the school, whoever answers for it."""
    counts = followups.counts(viewer, today)
    template = "elevakt/home/_followups.html"
    mine = {"overdue": counts.mine_overdue, "soon": counts.mine_soon}
    place = _own_place(viewer)
    # A teacher is seldom responsible for a measure: their card shows only when they are.
    if place is not None and (place != _teacher() or counts.mine_overdue or counts.mine_soon):
        yield Card(place, template, mine)
    for index, school in enumerate(_schools(viewer, {Role.PRINCIPAL})):
        data = {"school": school, "school_overdue": counts.school_overdue.get(school.pk, 0)}
        if place is None and index == 0:  # a principal only: their own measures go here
            data |= mine | {"mine": True}
        yield Card(_principal(school), template, data)


def _own_place(viewer: Viewer) -> Place | None:
    """Where a person's own follow-ups go: the closest role that works with measures."""
    if viewer.is_mentor:
        return _mentor()
    health = _schools(viewer, STUDENT_HEALTH_ROLES)
    if health:
        return _student_health(health[0])
    if viewer.is_teacher:
        return _teacher()
    return None


def eht_meeting(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """The student-health team's meeting: per school, the cases with a follow-up due today or
    earlier, leading to the agenda."""
    schools = eht.agenda_schools(viewer)
    if not schools:
        return
    due = eht.cases_due_by_school(viewer, [s.pk for s in schools], today)
    for school in schools:
        yield Card(
            _school_wide_place(viewer, school),
            "elevakt/home/_eht.html",
            {"school": school, "count": due.get(school.pk, 0)},
        )


def handovers_to_write(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Överlämningar att skriva: the pupils this person works with who move to another school,
    and how many handovers are still not sent. Shown only when someone is moving."""
    if not (viewer.is_mentor or viewer.school_wide_schools):
        return
    pupils = gate.handover_pupils(viewer).values("pk")
    counts = handover.counts(handover.coming_placements(today).filter(pupil_id__in=pupils))
    if not counts.moves:
        return
    schools = _schools(viewer, {Role.PRINCIPAL, *STUDENT_HEALTH_ROLES})
    place = _mentor() if viewer.is_mentor or not schools else _school_wide_place(viewer, schools[0])
    yield Card(place, "handover/home_to_write.html", {"counts": counts})


def pupils_arriving(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Elever som börjar hos oss: per receiving school, the pupils arriving and how many of
    their handovers are missing; for a mentor, the pupils they will mentor."""
    placements = gate.arrivals_visible_to(viewer, handover.coming_placements(today))
    by_school = handover.counts_by_school(placements)
    schools = _schools(viewer, {Role.PRINCIPAL, *STUDENT_HEALTH_ROLES})
    for school in schools:
        if school.pk in by_school:
            yield Card(
                _school_wide_place(viewer, school),
                "handover/home_arriving.html",
                {"counts": by_school[school.pk], "school": school},
            )
    if viewer.is_mentor and not schools and by_school:
        total = handover.Counts(
            sum(c.moves for c in by_school.values()), sum(c.sent for c in by_school.values())
        )
        yield Card(_mentor(), "handover/home_arriving.html", {"counts": total})


def administration(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """The organiser's key figures without names: pupils, absence this term, pupils at the
    problematic line, flagged and without action in the latest screening."""
    minimum = settings.FULLFOLJ_MIN_GROUP_SIZE
    for organiser in _organisers(viewer, Role.ADMINISTRATION):
        start, end = term_so_far(today)
        placed = Placement.objects.active_on(today).filter(organiser=organiser).values("pupil_id")
        line = organiser.problematic_absence_percent
        together = attendance.absence_in_all(placed, start, end, line=line)
        absence, pupils, problematic = together.absence, together.pupils, together.at_line
        run, _previous = screening.latest_runs(organiser.pk)
        unattended = screening.flagged_without_action(Pupil.objects.filter(pk__in=placed))
        flagged = disclosure.shown(run.flagged_pupils, minimum) if run else None
        yield Card(
            _administration(organiser),
            "elevakt/home/_administration.html",
            {
                "schools": School.objects.filter(organiser=organiser).count(),
                "pupils": pupils,
                "absence": absence,
                "line": line,
                "problematic": disclosure.part_of(
                    pupils, disclosure.shown(problematic, minimum), minimum
                ),
                "run": run,
                "flagged": flagged,
                "without_action": disclosure.part_of(
                    flagged, disclosure.shown(sum(unattended.values()), minimum), minimum
                ),
                "term": (start, end),
                "admin_site": bool(viewer.staff.user and viewer.staff.user.is_staff),
            },
        )


def compulsory_schooling(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """Below the oversight's own figures (oversight_cases): the pupils of our own records who
    live in the municipality by those records and hold no placement we know today, by name and
    with how many of them an open oversight case names; they are not the oversight's finding,
    which the register match makes. Then, for the resident pupils placed at a school, figures
    per school (problematic absence over the four whole weeks before this one) and their ladder
    steps."""
    minimum = settings.FULLFOLJ_MIN_GROUP_SIZE
    for organiser in _organisers(viewer, Role.ATTENDANCE_OFFICER):
        without_school = pupils_visible_to(viewer, roles={Role.ATTENDANCE_OFFICER}).filter(
            municipality_of_residence=organiser
        )
        # The first names and how many there are in all, in one read (a window over the rows).
        named = list(
            without_school.annotate(total=Window(Count("pk"))).order_by(
                "last_name", "first_name", "pk"
            )[:NAMES_SHOWN]
        )
        count = named[0].total if named else 0
        in_case = oversight.pupils_with_open_case(organiser, without_school.values("pk"))
        resident = Pupil.objects.filter(municipality_of_residence=organiser).values("pk")
        placed = Placement.objects.active_on(today).filter(pupil_id__in=resident)
        start, end = weeks_before(today)
        line = organiser.problematic_absence_percent
        at_line = attendance.at_line_per_school(
            placed.values("pupil_id", "school_id").distinct(), start, end, line
        )
        names = dict(School.objects.filter(pk__in=list(at_line)).values_list("pk", "name"))
        schools = []
        for school_id, figures in sorted(at_line.items(), key=lambda item: names[item[0]]):
            pupils, high, invalid = figures.pupils, figures.at_line, figures.invalid_at_line
            shown_high = disclosure.part_of(pupils, disclosure.shown(high, minimum), minimum)
            schools.append(
                {
                    "name": names[school_id],
                    "pupils": pupils if pupils >= minimum else None,
                    "high": shown_high if pupils >= minimum else None,
                    "invalid": disclosure.part_of(
                        shown_high,
                        disclosure.shown(invalid, minimum),
                        minimum,
                    )
                    if pupils >= minimum
                    else None,
                }
            )
        steps = [
            {
                "order": s["step__order"],
                "name": s["step__name"],
                "open": disclosure.shown(s["open"], minimum),
                "overdue": disclosure.part_of(
                    disclosure.shown(s["open"], minimum),
                    disclosure.shown(s["overdue"], minimum),
                    minimum,
                ),
            }
            for s in ladder.open_by_step(placed.values("pupil_id"), today)
        ]
        yield Card(
            _officer(organiser),
            "elevakt/home/_officer.html",
            {
                "count": count,
                "named": named,
                "in_case": in_case,
                "schools": schools,
                "steps": steps,
                "line": line,
                "window": (start, end),
                "min_group": minimum,
            },
            reads=tuple(p.pk for p in named),
            role=str(Role.ATTENDANCE_OFFICER),
        )


def oversight_cases(viewer: Viewer, today: dt.date) -> Iterator[Card]:
    """The officer's oversight cases (docs/compulsory.md), first on the officer's home: the
    latest register match, open cases per finding, the steps past their deadline by name, and
    how many pupils have long absence."""
    for organiser in _organisers(viewer, Role.ATTENDANCE_OFFICER):
        overdue = oversight.overdue_steps([organiser.pk], today)
        shown = list(overdue[:NAMES_SHOWN])
        counts = oversight.open_counts(organiser)
        yield Card(
            _officer(organiser),
            "compulsory/_home_card.html",
            {
                "open": counts,
                "open_total": sum(row["count"] for row in counts),
                "check": oversight.latest_check(organiser),
                "overdue": shown,
                "overdue_count": overdue.count(),
                "long_absence": len(oversight.long_absence_weeks(organiser, today)),
            },
            reads=tuple(step.case.pupil_id for step in shown if step.case.pupil_id),
            role=str(Role.ATTENDANCE_OFFICER),
        )


CardReader = Callable[[Viewer, dt.date], Iterable[Card]]

CARDS: tuple[CardReader, ...] = (
    lessons_to_register,
    absences_to_settle,
    ladder_tasks,
    flagged_without_action,
    follow_ups,
    eht_meeting,
    handovers_to_write,
    pupils_arriving,
    administration,
    oversight_cases,  # the officer's home leads with the register match's figures
    compulsory_schooling,
)


def compose(viewer: Viewer, today: dt.date) -> list[Group]:
    """Every card for this viewer, grouped by role and school in a fixed order."""
    groups: dict[Place, Group] = {}
    for read in CARDS:
        for card in read(viewer, today):
            groups.setdefault(card.place, Group(card.place)).cards.append(card)
    return [groups[place] for place in sorted(groups)]
