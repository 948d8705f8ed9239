"""The dashboards, the evaluation report and the regional view, each also as PDF and Excel.

Access (docs/reports.md): the principal and the student-health team open their school's
dashboard; the administration and the compulsory-school officer the organiser's; a region's
analysts the regional view. No page here names a pupil; every count of pupils is suppressed.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.schools.models import School

from . import actions, export, queries
from .dashboard import dashboard
from .evaluation import Request, evaluate
from .forms import CohortForm, DashboardFilters, EvaluationForm
from .regional import regional_view
from .tables import Report


def _respond(request: HttpRequest, report: Report, template: str, context: dict) -> HttpResponse:
    wanted = request.GET.get("format")
    name = slugify(f"{report.title} {report.subtitle}")[:80] or "rapport"
    if wanted == "pdf":
        response = HttpResponse(
            export.pdf(report, base_url=request.build_absolute_uri("/")),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    if wanted == "xlsx":
        response = HttpResponse(
            export.xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        template,
        {**context, "report": report, "title": report.title, "query": query.urlencode()},
    )


def _dashboard_response(
    request: HttpRequest, schools: list[School], title: str, *, per_teacher: bool
) -> HttpResponse:
    form = DashboardFilters(request.GET or None)
    if form.is_bound and not form.is_valid():
        report = Report(title=title, subtitle="")
        report.messages.append(_("Correct the filters marked below."))
        return render(
            request, "reports/dashboard.html", {"form": form, "report": report, "title": title}
        )
    if not form.is_bound:
        form = DashboardFilters({})
        form.is_valid()
    report = dashboard(schools, form.filters(), title=title, per_teacher=per_teacher)
    return _respond(request, report, "reports/dashboard.html", {"form": form})


@login_required
def school_dashboard(request: HttpRequest, school_id: int) -> HttpResponse:
    """A school's figures: its principal and student-health team."""
    viewer = gate.viewer_for(request)
    if school_id not in viewer.school_wide_schools:
        raise Http404
    school = get_object_or_404(School, pk=school_id)
    title = _("Dashboard for %(school)s") % {"school": school.name}
    return _dashboard_response(request, [school], title, per_teacher=True)


@login_required
def municipality_dashboard(request: HttpRequest) -> HttpResponse:
    """The organiser's figures, school by school, no names: its administration and officer."""
    viewer = gate.viewer_for(request)
    organiser = queries.administered_organiser_or_404(viewer)
    schools = list(School.objects.filter(organiser=organiser).order_by("name"))
    title = _("Dashboard for %(organiser)s") % {"organiser": organiser.name}
    return _dashboard_response(request, schools, title, per_teacher=False)


@login_required
def evaluation(request: HttpRequest) -> HttpResponse:
    """The evaluation report of a list of pupils between two terms."""
    viewer = gate.viewer_for(request)
    if not queries.may_evaluate(viewer):
        raise Http404
    sources = queries.evaluation_sources(viewer)
    if set(request.GET) == {"list"}:  # a list just saved: offered first, the terms as usual
        form = EvaluationForm(sources, initial={"source": request.GET["list"]})
    else:
        form = EvaluationForm(sources, request.GET or None)
    context = {"form": form, "new_lists": queries.new_list_links(viewer)}
    if not form.is_bound or not form.is_valid():
        report = Report(title=_("Evaluation report"), subtitle="")
        if not sources:
            report.messages.append(
                _("No screening run or saved list of pupils yet: run a screening first.")
            )
        elif form.is_bound:
            report.messages.append(_("Correct the choices marked below."))
        return render(
            request, "reports/evaluation.html", {**context, "report": report, "title": report.title}
        )
    chosen = queries.resolve_source(viewer, form.cleaned_data["source"])
    report = evaluate(
        Request(
            title=_("Evaluation report: %(list)s") % {"list": chosen.title},
            pupil_ids=chosen.pupil_ids,
            schools=chosen.schools,
            first=form.cleaned_data["first"],
            second=form.cleaned_data["second"],
            threshold=float(form.cleaned_data["threshold"]),
        )
    )
    return _respond(request, report, "reports/evaluation.html", context)


@login_required
def region(request: HttpRequest, region_id: int) -> HttpResponse:
    """A region's members side by side: aggregates of the organisers that share with it."""
    viewer = gate.viewer_for(request)
    chosen = queries.region_or_404(viewer, region_id)
    form = DashboardFilters(request.GET or None)
    if form.is_bound and not form.is_valid():
        report = Report(title=chosen.name, subtitle="")
        report.messages.append(_("Correct the filters marked below."))
        return render(
            request,
            "reports/dashboard.html",
            {"form": form, "report": report, "title": report.title},
        )
    if not form.is_bound:
        form = DashboardFilters({})
        form.is_valid()
    report = regional_view(chosen, form.filters())
    return _respond(request, report, "reports/dashboard.html", {"form": form, "regional": True})


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The reports this person may open."""
    viewer = gate.viewer_for(request)
    links = queries.reports_for(viewer)
    if not links:
        raise Http404
    return render(request, "reports/index.html", {"links": links, "title": _("Reports")})


@login_required
@require_http_methods(["GET", "POST"])
def cohort_new(request: HttpRequest, school_id: int) -> HttpResponse:
    """Make a list of pupils by hand for the evaluation report: the school's principal and
    student-health team find pupils by name or class, a screening run's flags or the risk
    list, tick them, name the list and save it. Every pupil shown is logged as read."""
    viewer = gate.viewer_for(request)
    if school_id not in viewer.school_wide_schools:
        raise Http404
    school = get_object_or_404(School, pk=school_id)
    runs = queries.runs_for_school(school)
    query = request.POST if request.method == "POST" else request.GET
    search = query.get("q", "").strip()[:100]
    run = next((r for r in runs if str(r.pk) == query.get("run")), None)
    risk = query.get("risk") == "1" and run is None
    form = CohortForm(school, queries.school_pupils(school), request.POST or None)
    if request.method == "POST" and form.is_valid():
        cohort = actions.save_cohort(
            school, form.cleaned_data["name"], form.cleaned_data["pupils"], by=viewer.staff
        )
        return redirect(f"{reverse('reports:evaluation')}?list=cohort-{cohort.pk}")
    found = queries.candidates(school, search=search, run=run, risk=risk)
    if request.method == "GET" and query.get("all") == "1":
        ticked = {str(c.pupil.pk) for c in found}
    else:
        ticked = {str(v) for v in request.POST.getlist("pupils")}
    every = query.copy()
    every["all"] = "1"
    gate.record_reads(request, [c.pupil for c in found], role=viewer.school_role(school.pk))
    return render(
        request,
        "reports/cohort_new.html",
        {
            "title": _("New list of pupils for %(school)s") % {"school": school.name},
            "school": school,
            "form": form,
            "runs": runs,
            "run": run,
            "risk": risk,
            "search": search,
            "found": found,
            "ticked": ticked,
            "searched": bool(search or run or risk),
            "has_risk_list": queries.has_risk_list(school),
            "tick_all": every.urlencode(),
        },
    )
