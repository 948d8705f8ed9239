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
from fullfolj.schools.models import Organiser

from . import actions, queries
from .models import ScreeningRun


@login_required
def riskzon(request: HttpRequest) -> HttpResponse:
    """The nav link: the school list for principal and EHT, the municipality's for the rest."""
    viewer = gate.viewer_for(request)
    if viewer.school_wide_schools:
        return redirect("elevakt:school-riskzon", school_id=min(viewer.school_wide_schools))
    if viewer.is_administration:
        return redirect("elevakt:municipality-riskzon")
    raise Http404


@require_POST
@login_required
def run(request: HttpRequest, organiser_id: int) -> HttpResponse:
    """Screen now (principal or administration of the organiser)."""
    viewer = gate.viewer_for(request)
    if organiser_id not in gate.organisers_screened_by(viewer):
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
            messages.success(
                request,
                _("Screened %(pupils)s pupils: too few flagged to show.") % {"pupils": done.pupils},
            )
        else:
            messages.success(
                request,
                _("Screened %(pupils)s pupils: %(flagged)s flagged.")
                % {"pupils": done.pupils, "flagged": flagged},
            )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("screening:riskzon")


@login_required
def evaluation(request: HttpRequest) -> HttpResponse:
    """How good each rule is, on the organiser's own history (from `fullfolj screen --evaluate`).

    Aggregates only: per rule, and per gender and school for each rule; groups under the
    minimum size are left out (docs/privacy.md).
    """
    org_ids = gate.organisers_screened_by(gate.viewer_for(request))
    if not org_ids:
        raise Http404
    organiser = Organiser.objects.get(pk=org_ids[0])
    latest = queries.latest_evaluation(organiser.pk)
    return render(
        request,
        "screening/evaluation.html",
        {
            "title": _("How good is each screening rule"),
            "organiser": organiser,
            "evaluation": latest,
            "rules": queries.evaluation_rows(latest, organiser) if latest else [],
            "min_group": settings.FULLFOLJ_MIN_GROUP_SIZE,
        },
    )
