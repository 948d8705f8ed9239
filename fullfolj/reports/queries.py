"""Who may open which report, and the lists of pupils the evaluation report reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fullfolj.access.gate import Viewer
from fullfolj.lib import clock
from fullfolj.riskmodel.models import RiskEstimate
from fullfolj.schools.models import Organiser, Placement, Pupil, Role, School
from fullfolj.screening.models import Flag, ScreeningRun

from .models import Cohort, Region

MUNICIPAL_ROLES: set[str] = {Role.ADMINISTRATION, Role.ATTENDANCE_OFFICER}


def administered_organiser_or_404(viewer: Viewer) -> Organiser:
    """The organiser whose dashboard this viewer opens: administration or the officer."""
    org_ids = sorted(viewer.organisers_with(MUNICIPAL_ROLES))
    if not org_ids:
        raise Http404
    return Organiser.objects.get(pk=org_ids[0])


def region_or_404(viewer: Viewer, region_id: int) -> Region:
    return Region.objects.filter(pk=region_id, analysts=viewer.staff).first() or _not_found()


def _not_found() -> Region:
    raise Http404


@dataclass(frozen=True)
class Source:
    title: str
    pupil_ids: list[int]
    schools: list[School]


def _admin_orgs(viewer: Viewer) -> set[int]:
    return viewer.organisers_with({Role.ADMINISTRATION})


def may_evaluate(viewer: Viewer) -> bool:
    """The principal, the student-health team and the administration evaluate their lists."""
    return bool(viewer.school_wide_schools or _admin_orgs(viewer))


def evaluation_sources(viewer: Viewer) -> list[tuple[str, str]]:
    """Screening runs and saved lists this viewer may evaluate: ("run-3", "Screening 2026-03-02")."""
    school_wide = viewer.school_wide_schools
    admin = _admin_orgs(viewer)
    orgs = admin | set(
        School.objects.filter(pk__in=school_wide).values_list("organiser_id", flat=True)
    )
    if not orgs:
        return []
    out = [
        (f"cohort-{c.pk}", c.name)
        for c in Cohort.objects.filter(organiser__in=orgs)
        if (c.school_id in school_wide) or c.organiser_id in admin
    ]
    for run in ScreeningRun.objects.filter(organiser__in=orgs, flagged_pupils__gt=0)[:8]:
        out.append(
            (
                f"run-{run.pk}",
                _("Flagged in the screening of %(date)s")
                % {"date": date_format(run.as_of, "Y-m-d")},
            )
        )
    return out


def resolve_source(viewer: Viewer, key: str) -> Source:
    """The pupils and schools of a source this viewer may evaluate (only sources offered)."""
    kind, _sep, number = key.partition("-")
    school_wide = viewer.school_wide_schools
    admin = _admin_orgs(viewer)
    if kind == "cohort":
        cohort = Cohort.objects.select_related("school").get(pk=int(number))
        if cohort.school_id and (cohort.school_id in school_wide or cohort.organiser_id in admin):
            schools = [cohort.school] if cohort.school else []
        elif cohort.organiser_id in admin:
            schools = list(School.objects.filter(organiser_id=cohort.organiser_id))
        else:
            raise Http404
        return Source(cohort.name, list(cohort.pupils.values_list("pk", flat=True)), schools)
    run = ScreeningRun.objects.get(pk=int(number))
    if run.organiser_id in admin:
        schools = list(School.objects.filter(organiser_id=run.organiser_id))
    else:
        schools = list(School.objects.filter(pk__in=school_wide, organiser_id=run.organiser_id))
        if not schools:
            raise Http404
    pupils = list(
        Flag.objects.filter(run=run, school__in=schools)
        .values_list("pupil_id", flat=True)
        .distinct()
    )
    title = _("flagged in the screening of %(date)s") % {"date": date_format(run.as_of, "Y-m-d")}
    return Source(title, pupils, schools)


def new_list_links(viewer: Viewer) -> list[tuple[str, str]]:
    """(label, url) of the page that makes a list by hand, for each school seen whole."""
    return [
        (
            _("New list of pupils for %(school)s") % {"school": s.name},
            reverse("reports:cohort_new", args=[s.pk]),
        )
        for s in School.objects.filter(pk__in=viewer.school_wide_schools).order_by("name")
    ]


def reports_for(viewer: Viewer) -> list[tuple[str, str]]:
    """(label, url) of every report this viewer may open."""
    links = [
        (_("Dashboard for %(school)s") % {"school": s.name}, reverse("reports:school", args=[s.pk]))
        for s in School.objects.filter(pk__in=viewer.school_wide_schools).order_by("name")
    ]
    links += new_list_links(viewer)
    if viewer.organisers_with(MUNICIPAL_ROLES):
        links.append((_("Dashboard for the municipality"), reverse("reports:municipality")))
    if may_evaluate(viewer):
        links.append((_("Evaluation report"), reverse("reports:evaluation")))
    for region in Region.objects.filter(analysts=viewer.staff):
        links.append((region.name, reverse("reports:region", args=[region.pk])))
    return links


@dataclass(frozen=True)
class Candidate:
    """A pupil offered on the page that makes a list by hand, with why they are offered."""

    pupil: Pupil
    class_name: str
    why: str


MAX_CANDIDATES = 300


def school_pupils(school: School) -> QuerySet[Pupil]:
    """The pupils placed at the school today: those a list made by hand may hold."""
    placed = Placement.objects.active_on(clock.today()).filter(school=school)
    return Pupil.objects.filter(pk__in=placed.values("pupil_id"))


def runs_for_school(school: School) -> list[ScreeningRun]:
    """Recent screening runs that flagged pupils at the school."""
    return list(
        ScreeningRun.objects.filter(organiser_id=school.organiser_id, flag_rows__school=school)
        .distinct()
        .order_by("-as_of", "-pk")[:8]
    )


def has_risk_list(school: School) -> bool:
    """Whether the school's organiser has a risk model switched on (its estimates the list)."""
    return RiskEstimate.objects.filter(
        model__is_active=True, model__organiser_id=school.organiser_id
    ).exists()


def candidates(
    school: School, *, search: str = "", run: ScreeningRun | None = None, risk: bool = False
) -> list[Candidate]:
    """The school's pupils today matching a name or class, flagged in a run, or on the risk
    list (the active risk model's estimates, highest first), each with why they are offered."""
    placements = (
        Placement.objects.active_on(clock.today())
        .filter(school=school)
        .select_related("pupil", "school_class")
    )
    why: dict[int, str] = {}
    if run is not None:
        flags = Flag.objects.filter(run=run, school=school).order_by("rule_code")
        for pupil_id, text in flags.values_list("pupil_id", "explanation"):
            why[pupil_id] = f"{why[pupil_id]}; {text}" if pupil_id in why else text
        placements = placements.filter(pupil_id__in=list(why))
    elif risk:
        estimates = RiskEstimate.objects.filter(
            model__is_active=True,
            model__organiser_id=school.organiser_id,
            pupil_id__in=placements.values("pupil_id"),
        ).order_by("-probability")[:MAX_CANDIDATES]
        for pupil_id, probability in estimates.values_list("pupil_id", "probability"):
            why[pupil_id] = _("estimated risk %(percent)s %%") % {
                "percent": round(100 * probability)
            }
        placements = placements.filter(pupil_id__in=list(why))
    elif search.strip():
        for word in search.split():
            placements = placements.filter(
                Q(pupil__first_name__icontains=word)
                | Q(pupil__last_name__icontains=word)
                | Q(school_class__name__iexact=word)
            )
    else:
        return []
    found = [
        Candidate(p.pupil, p.school_class.name if p.school_class else "", why.get(p.pupil_id, ""))
        for p in placements.order_by("school_class__name", "pupil__last_name", "pupil__first_name")[
            :MAX_CANDIDATES
        ]
    ]
    if risk and run is None:
        order = list(why)
        found.sort(key=lambda c: order.index(c.pupil.pk))
    return found
