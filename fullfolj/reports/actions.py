"""Writes of the reports app: saving a list of pupils to follow, setting up a region."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fullfolj.attendance.models import PupilDay
from fullfolj.attendance.queries import at_least
from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Placement, Pupil, School, Staff, Term
from fullfolj.screening.models import Flag, ScreeningRun

from .models import Cohort, Region, RegionMember


@transaction.atomic
def save_run_as_cohort(run: ScreeningRun, *, school: School | None, by: Staff | None) -> Cohort:
    """The pupils a screening run flagged (at one school, or all the organiser's) as a saved
    list, so a project can follow the same pupils term by term (seed 001). Saving the same run
    twice for the same school returns the list already saved."""
    where = school.name if school else run.organiser.name
    name = _("Risk zone %(date)s, %(where)s") % {
        "date": date_format(run.as_of, "Y-m-d"),
        "where": where,
    }
    cohort, created = Cohort.objects.get_or_create(
        organiser=run.organiser,
        school=school,
        name=name,
        defaults={"chosen_on": run.as_of, "created_by": by},
    )
    if created:
        flags = Flag.objects.filter(run=run)
        if school is not None:
            flags = flags.filter(school=school)
        cohort.pupils.set(flags.values_list("pupil_id", flat=True).distinct())
    return cohort


@transaction.atomic
def save_absence_cohort(school: School, term: Term, *, by: Staff | None) -> Cohort:
    """The pupils placed at the school at the term's end whose absence that term reached the
    organiser's line for problematic absence (docs/absence.md), as a saved list chosen then."""
    line = school.organiser.problematic_absence_percent
    placed = Placement.objects.active_on(term.end).filter(school=school).values("pupil_id")
    sums = (
        PupilDay.objects.filter(pupil_id__in=placed, date__gte=term.start, date__lte=term.end)
        .values("pupil_id")
        .annotate(s=Sum("scheduled_minutes"), a=Sum("absent_minutes"))
    )
    pupils = [r["pupil_id"] for r in sums if at_least(r["a"], r["s"], line)]
    name = _("Absence of %(line)s %% or more in %(term)s, %(school)s") % {
        "line": line,
        "term": term,
        "school": school.name,
    }
    cohort, _created = Cohort.objects.update_or_create(
        organiser=school.organiser,
        school=school,
        name=name,
        defaults={"chosen_on": term.end, "created_by": by},
    )
    cohort.pupils.set(pupils)
    return cohort


@transaction.atomic
def set_up_region(
    name: str, *, sharing: list[Organiser], not_sharing: list[Organiser], analysts: list[Staff]
) -> Region:
    """A region with its members (those sharing their figures, and those that have not agreed
    yet) and the staff who read its view. Run again, it brings the same region up to date."""
    region, _created = Region.objects.get_or_create(name=name)
    for organiser, shares in [(o, True) for o in sharing] + [(o, False) for o in not_sharing]:
        RegionMember.objects.update_or_create(
            region=region, organiser=organiser, defaults={"shares": shares}
        )
    region.analysts.add(*analysts)
    return region


@transaction.atomic
def save_cohort(school: School, name: str, pupils: Iterable[Pupil], *, by: Staff) -> Cohort:
    """A list picked by hand at a school, chosen today."""
    cohort = Cohort.objects.create(
        name=name,
        organiser_id=school.organiser_id,
        school=school,
        chosen_on=clock.today(),
        created_by=by,
    )
    cohort.pupils.set(list(pupils))
    return cohort
