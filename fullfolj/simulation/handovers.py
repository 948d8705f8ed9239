"""The demo's coming moves and their handovers: the year-6 pupils of the municipal F-6 schools
are placed at the 7-9 school their school feeds from the next school year, in new year-7 classes
with a mentor each; most of them have a handover (sent, read, a draft, one edited after it was
read), some none, so the receiving school's list shows whose is missing (docs/handover.md)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict

from django.db import transaction

from fullfolj.handover import actions
from fullfolj.handover.models import HandoverVersion
from fullfolj.schools.models import (
    Mentorship,
    Organiser,
    Placement,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    StaffRole,
)

CLASS_SIZE = 25
WRITTEN = 80  # percent of the movers (all with a support case) whose handover is started
SENT = 70  # percent of the started ones that are sent
READ = 50  # percent of the sent ones the receiving principal has read


WORDS = {
    "pupil_words": "Jag vill veta vem jag kan gå till om något känns jobbigt.",
    "guardian_words": "Hen behöver veta i förväg när något ändras i schemat.",
}


def _keeps(pk: int, percent: int, salt: int = 0) -> bool:
    return ((pk + salt * 7919) * 2654435761) % 100 < percent


def next_school_year(today: dt.date) -> SchoolYear:
    """The school year after today's: the same dates a year on (same weekday)."""
    current = SchoolYear.objects.filter(start__lte=today).order_by("-start").first()
    if current is None:
        raise RuntimeError("The demo has no school year to move on from.")
    start = current.start + dt.timedelta(weeks=52)
    end = current.end + dt.timedelta(weeks=52)
    name = f"{start.year}/{(start.year + 1) % 100:02d}"
    year, _new = SchoolYear.objects.get_or_create(name=name, defaults={"start": start, "end": end})
    return year


def _feeders() -> dict[int, int]:
    """F-6 school → the 7-9 school most of its year-6 pupils went on to, from the history."""
    sixth = dict(
        Placement.objects.filter(school_class__grade=6).values_list("pupil_id", "school_id")
    )
    went: dict[int, Counter[int]] = defaultdict(Counter)
    for pupil_id, school_id in Placement.objects.filter(school_class__grade=7).values_list(
        "pupil_id", "school_id"
    ):
        if pupil_id in sixth:
            went[sixth[pupil_id]][school_id] += 1
    return {f6: counts.most_common(1)[0][0] for f6, counts in went.items()}


@transaction.atomic
def plan_moves(today: dt.date, *, printed_mentor: Staff | None) -> Counter[str]:
    """Place this year's year-6 pupils at their 7-9 school from the next school year: their
    placement and mentorship end with this year, year-7 classes are opened with mentors (the
    printed mentor takes one at their school), and each pupil gets the class's mentor."""
    made: Counter[str] = Counter()
    year = next_school_year(today)
    current = SchoolYear.objects.filter(start__lte=today, end__gte=today).first()
    if current is None:
        return made
    feeders = _feeders()
    movers = list(
        Placement.objects.active_on(today)
        .filter(
            school_class__grade=6,
            school_class__school_year=current,
            school__organiser__kind=Organiser.Kind.MUNICIPALITY,
            school__grade_to=6,
        )
        .filter(end__isnull=True)
        .select_related("school")
        .order_by("school_id", "pupil_id")
    )
    by_target: dict[int, list[Placement]] = defaultdict(list)
    for placement in movers:
        target = feeders.get(placement.school_id)
        if target is not None:
            by_target[target].append(placement)
    new_placements: list[Placement] = []
    new_mentorships: list[Mentorship] = []
    for school in School.objects.filter(pk__in=by_target).order_by("pk"):
        pupils = by_target[school.pk]
        count = max(1, math.ceil(len(pupils) / CLASS_SIZE))
        mentors = list(
            StaffRole.objects.filter(school=school, role=Role.MENTOR)
            .order_by("staff_id")
            .values_list("staff_id", flat=True)
        )
        if printed_mentor is not None and printed_mentor.pk in mentors:
            mentors.remove(printed_mentor.pk)
            mentors.insert(0, printed_mentor.pk)
        classes = [
            SchoolClass.objects.create(
                school=school, school_year=year, name=f"7{chr(ord('A') + i)}", grade=7
            )
            for i in range(count)
        ]
        made["classes"] += count
        for index, placement in enumerate(pupils):
            klass = classes[index % count]
            new_placements.append(
                Placement(
                    pupil_id=placement.pupil_id,
                    organiser_id=school.organiser_id,
                    school=school,
                    school_class=klass,
                    start=year.start,
                )
            )
            if mentors:
                mentor_id = mentors[(index % count) % len(mentors)]
                new_mentorships.append(
                    Mentorship(pupil_id=placement.pupil_id, mentor_id=mentor_id, start=year.start)
                )
    last_day = year.start - dt.timedelta(days=1)
    moving = [p.pk for ps in by_target.values() for p in ps]
    Placement.objects.filter(pk__in=moving).update(end=min(current.end, last_day))
    Mentorship.objects.filter(
        pupil_id__in=[p.pupil_id for ps in by_target.values() for p in ps], end__isnull=True
    ).update(end=min(current.end, last_day))
    Placement.objects.bulk_create(new_placements)
    Mentorship.objects.bulk_create(new_mentorships)
    made["moves"] = len(new_placements)
    return made


def write_handovers(today: dt.date) -> Counter[str]:
    """Handovers for most coming moves, by each pupil's mentor today: every pupil with a support
    case and most others; sent, read by the receiving principal, or left as a draft; one edited
    after the read (version 2). The rest are missing."""
    made: Counter[str] = Counter()
    coming = (
        Placement.objects.filter(start__gt=today)
        .select_related("pupil", "school")
        .order_by("school_id", "pupil_id")
    )
    mentor_of = dict(
        Mentorship.objects.active_on(today)
        .filter(pupil_id__in=coming.values("pupil_id"))
        .values_list("pupil_id", "mentor_id")
    )
    with_case = set(
        coming.filter(pupil__support_cases__isnull=False).values_list("pupil_id", flat=True)
    )
    principals = dict(
        StaffRole.objects.filter(role=Role.PRINCIPAL, school__isnull=False)
        .order_by("-staff_id")
        .values_list("school_id", "staff_id")
    )
    staff = {
        s.pk: s for s in Staff.objects.filter(pk__in={*mentor_of.values(), *principals.values()})
    }
    edited = False
    for placement in coming:
        pupil = placement.pupil
        writer = staff.get(mentor_of.get(pupil.pk, -1))
        if writer is None or not (pupil.pk in with_case or _keeps(pupil.pk, WRITTEN)):
            continue
        handover = actions.start_handover(pupil, school=placement.school, by=writer, texts=WORDS)
        made["started"] += 1
        if not _keeps(pupil.pk, SENT, salt=1):
            made["draft"] += 1
            continue
        sent = actions.send_handover(handover, by=writer)
        made["sent"] += 1
        reader = staff.get(principals.get(placement.school_id, -1))
        if reader is None or not _keeps(pupil.pk, READ, salt=2):
            continue
        actions.record_read(sent, by=reader, role=str(Role.PRINCIPAL))
        made["read"] += 1
        if not edited and pupil.pk in with_case:
            texts = {name: getattr(sent, name) for name in HandoverVersion.TEXTS}
            texts["what_worked"] = (texts["what_worked"] + "\nKorta arbetspass med paus.").strip()
            actions.save_handover(handover, texts=texts, edits=sent.edits, by=writer)
            made["new versions"] += 1
            edited = True
    missing = coming.count() - made["started"]
    made["missing"] = missing
    return made
