"""Riskzon lists, the run button and the rule figures (screening pages)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fullfolj.access import gate
from fullfolj.lib import clock, disclosure
from fullfolj.schools.models import Organiser

from . import actions, queries
from .forms import EvaluationForm
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


def _rule_organiser(request: HttpRequest) -> tuple[Organiser, bool]:
    """The organiser whose rules this viewer reads, and whether they may start an evaluation."""
    viewer = gate.viewer_for(request)
    org_ids = gate.organisers_with_rule_figures(viewer)
    if not org_ids:
        raise Http404
    organiser = Organiser.objects.get(pk=org_ids[0])
    return organiser, organiser.pk in gate.organisers_screened_by(viewer)


@login_required
def evaluation(request: HttpRequest) -> HttpResponse:
    """The rules in use and how good each is on the organiser's own history.

    Principal, student-health team and administration read it; principal and administration
    start an evaluation (a background job). Aggregates only: per rule, and per gender and
    school for each rule; groups under the minimum size are left out (docs/privacy.md).
    """
    organiser, may_start = _rule_organiser(request)
    latest = queries.latest_evaluation(organiser.pk)
    pending = queries.pending_evaluation(organiser.pk)
    form = EvaluationForm(
        initial={
            "outcome": pending.outcome_kind,
            "level": pending.level,
            "subjects": pending.subjects,
        }
        if pending
        else (
            {"outcome": latest.outcome_kind, "level": latest.level, "subjects": latest.subjects}
            if latest
            else None
        )
    )
    return render(
        request,
        "screening/evaluation.html",
        {
            "title": _("Screening rules and how good they are"),
            "organiser": organiser,
            "rules_in_use": queries.rules_in_use(organiser),
            "evaluation": latest,
            "outcome_text": queries.outcome_text(latest) if latest else "",
            "pending": pending,
            "rules": queries.evaluation_rows(latest, organiser) if latest else [],
            "min_group": settings.FULLFOLJ_MIN_GROUP_SIZE,
            "form": form,
            "may_start": may_start,
        },
    )


@require_POST
@login_required
def evaluation_start(request: HttpRequest) -> HttpResponse:
    """Start an evaluation against the chosen outcome (principal or administration)."""
    organiser, may_start = _rule_organiser(request)
    if not may_start:
        raise Http404
    form = EvaluationForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "screening/evaluation.html",
            {
                "title": _("Screening rules and how good they are"),
                "organiser": organiser,
                "rules_in_use": queries.rules_in_use(organiser),
                "evaluation": None,
                "pending": None,
                "rules": [],
                "form": form,
                "may_start": True,
            },
            status=400,
        )
    _requested, is_new = actions.request_evaluation(
        organiser,
        outcome=form.cleaned_data["outcome"],
        level=form.cleaned_data["level"],
        subjects=form.cleaned_data["subjects"],
        by=gate.viewer_for(request).staff,
    )
    if not is_new:
        messages.info(request, _("An evaluation is already running: its figures come first."))
    else:
        messages.success(
            request, _("The evaluation has started. The figures appear here when it is done.")
        )
    return redirect("screening:evaluation")


@login_required
def evaluation_status(request: HttpRequest) -> JsonResponse:
    """The running evaluation's progress, for the rule page to show while it waits."""
    organiser, _may_start = _rule_organiser(request)
    pending = queries.pending_evaluation(organiser.pk)
    if pending is None:
        return JsonResponse({"status": "done", "progress": 100, "text": ""})
    return JsonResponse(
        {
            "status": pending.status,
            "progress": pending.progress,
            "text": queries.progress_text(pending),
        }
    )
