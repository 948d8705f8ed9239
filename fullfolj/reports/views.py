"""The dashboards, the evaluation report and the regional view, each also as PDF and Excel.

Access (docs/reports.md): the principal and the student-health team open their school's
dashboard; the administration and the compulsory-school officer the organiser's; a region's
analysts the regional view. No page here names a pupil; every count of pupils is suppressed.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.utils.translation import gettext as _

from fullfolj.access import gate
from fullfolj.schools.models import School

from . import export, queries
from .dashboard import dashboard
from .evaluation import Request, evaluate
from .forms import DashboardFilters, EvaluationForm
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
    form = EvaluationForm([(key, label) for key, label in sources], request.GET or None)
    context = {"form": form}
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
