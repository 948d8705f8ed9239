"""Riskzon lists, the run button and the rule figures (screening pages)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fullfolj.access import gate
from fullfolj.lib import clock, disclosure
from fullfolj.schools.models import Organiser, Role

from . import actions, queries
from .models import ScreeningRun


def _organiser_ids(viewer: gate.Viewer) -> list[int]:
    """Organisers whose screening this viewer may see or start: principal or administration."""
    ids = set(viewer.organisers_with({Role.ADMINISTRATION}))
    ids |= {r.organiser_id for r in viewer.roles if r.role == Role.PRINCIPAL}
    return sorted(ids)


@login_required
def riskzon(request: HttpRequest) -> HttpResponse:
    """The nav link: the school list for principal and EHT, the municipality's for the rest."""
    viewer = gate.viewer_for(request)
    if viewer.school_wide_schools:
        return redirect("screening:school", school_id=min(viewer.school_wide_schools))
    if viewer.is_administration:
        return redirect("screening:municipality")
    raise Http404


@login_required
def school_riskzon(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's riskzon list with names: principal and student-health team (the gate)."""
    viewer = gate.viewer_for(request)
    school = gate.get_school_or_404(request, school_id)
    if not viewer.named_schools.filter(pk=school.pk).exists():
        return redirect("screening:municipality")
    pupils = gate.pupils_visible_to(viewer)
    listing = queries.riskzon(school.organiser_id, pupils, school=school)
    gate.record_reads(request, listing.pupil_ids(), role=viewer.school_role(school.pk))
    return render(request, "screening/riskzon.html", {
        "title": _("Risk zone: %(school)s") % {"school": school.name},
        "listing": listing,
        "school": school,
        "can_run": school.organiser_id in _organiser_ids(viewer),
        "organiser": school.organiser,
    })


@login_required
def municipality_riskzon(request: HttpRequest) -> HttpResponse:
    """The municipality's riskzon: counts per school and rule (groups under 5 hidden); names
    only for staff with the names permission."""
    viewer = gate.viewer_for(request)
    org_ids = sorted(viewer.organisers_with({Role.ADMINISTRATION}))
    if not org_ids:
        raise Http404
    organiser = Organiser.objects.get(pk=org_ids[0])
    run, codes, rows, flagged_total = queries.municipality_counts(organiser.pk, viewer.schools)
    listing = None
    if viewer.names_in_administration:
        listing = queries.riskzon(organiser.pk, gate.pupils_visible_to(viewer))
        gate.record_reads(request, listing.pupil_ids(), role=viewer.role_map(listing.pupil_ids()))
    return render(request, "screening/municipality.html", {
        "title": _("Risk zone: %(organiser)s") % {"organiser": organiser.name},
        "organiser": organiser, "run": run, "codes": codes, "rows": rows, "listing": listing,
        "aggregate_only": True, "flagged_total": flagged_total,
        "can_run": True, "max_hidden": settings.FULLFOLJ_MIN_GROUP_SIZE - 1,
    })


@require_POST
@login_required
def run(request: HttpRequest, organiser_id: int) -> HttpResponse:
    """Screen now (principal or administration of the organiser)."""
    viewer = gate.viewer_for(request)
    if organiser_id not in _organiser_ids(viewer):
        raise Http404
    organiser = Organiser.objects.get(pk=organiser_id)
    try:
        done = actions.run_screening(
            organiser, clock.today(), by=viewer.staff, source=ScreeningRun.Source.MANUAL
        )
    except actions.NoSchoolDays as error:
        messages.error(request, _("No screening: %(reason)s") % {"reason": error})
    else:
        # The organiser's total is a figure outside any one school: small counts stay hidden.
        flagged = disclosure.shown(done.flagged_pupils, settings.FULLFOLJ_MIN_GROUP_SIZE)
        if flagged is None:
            messages.success(request, _("Screened %(pupils)s pupils: too few flagged to show.")
                             % {"pupils": done.pupils})
        else:
            messages.success(request, _("Screened %(pupils)s pupils: %(flagged)s flagged.")
                             % {"pupils": done.pupils, "flagged": flagged})
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("screening:riskzon")


@login_required
def evaluation(request: HttpRequest) -> HttpResponse:
    """How good each rule is, on the organiser's own history (from `fullfolj screen --evaluate`).

    Aggregates only: per rule, and per gender and school for each rule; groups under the
    minimum size are left out (DOMAIN.md, Personal data).
    """
    viewer = gate.viewer_for(request)
    org_ids = _organiser_ids(viewer)
    if not org_ids:
        raise Http404
    organiser = Organiser.objects.get(pk=org_ids[0])
    latest = queries.latest_evaluation(organiser.pk)
    return render(request, "screening/evaluation.html", {
        "title": _("How good is each screening rule"),
        "organiser": organiser,
        "evaluation": latest,
        "rules": queries.evaluation_rows(latest, organiser) if latest else [],
        "min_group": settings.FULLFOLJ_MIN_GROUP_SIZE,
    })
