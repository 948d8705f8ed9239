"""The compulsory-school officer's pages (docs/compulsory.md): import, match, cases, report.

Every page goes through the gate: the oversight's names are the officer's alone, the term
report's figures the officer's and the administration's.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fullfolj.access import gate
from fullfolj.exchange.tabular import load, reader
from fullfolj.lib import clock
from fullfolj.schools.models import Placement, Pupil, Role, Term

from . import actions, queries
from .forms import CheckForm, CloseForm, DoneForm, StepForm, UploadForm
from .importing import import_placements, import_register
from .models import Check, OversightCase, Resident, Step

IMPORTERS = {"register": import_register, "placements": import_placements}


def _home_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    viewer = gate.viewer_for(request)
    organiser = gate.overseen_organiser_or_404(viewer)
    today = clock.today()
    cases = list(queries.open_cases(organiser))
    by_kind = []
    for kind, label in OversightCase.Kind.choices:
        of_kind = [c for c in cases if c.kind == kind]
        by_kind.append({"kind": kind, "label": label, "cases": of_kind})
    absent = queries.long_absence(organiser, today, request.GET.get("sida"))
    overdue = list(queries.overdue_steps([organiser.pk], today))
    reads = {c.pupil_id for c in cases if c.pupil_id} | {a.pupil.pk for a in absent}
    gate.record_reads(request, reads, role=Role.ATTENDANCE_OFFICER)
    return {
        "title": _("Compulsory-school oversight"),
        "organiser": organiser,
        "today": today,
        "latest": Check.objects.filter(organiser=organiser).first(),
        "by_kind": by_kind,
        "open_count": len(cases),
        "overdue": overdue,
        "absent": absent,
        "upload_form": UploadForm(),
        "check_form": CheckForm(initial={"day": today}),
        "problems": [],
        **extra,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The officer's lists: open cases by finding, overdue steps, long absence."""
    return render(request, "compulsory/home.html", _home_context(request))


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Import a register extract or a placement list, all or nothing; bad rows come back named."""
    organiser = gate.overseen_organiser_or_404(gate.viewer_for(request))
    form = UploadForm(request.POST, request.FILES)
    problems: list[load.Problem] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        check_only = form.cleaned_data["check_only"]
        try:
            result = IMPORTERS[form.cleaned_data["kind"]](
                upload.read(), name=upload.name, dry_run=check_only, organiser=organiser
            )
        except reader.FileRejected as error:
            form.add_error("file", str(error))
        except load.Rejected as error:
            problems = error.problems
        else:
            counts = {
                "rows": result.rows,
                "created": result.created,
                "changed": result.changed,
                "unchanged": result.unchanged,
            }
            if check_only:
                text = _(
                    "The file is fine: %(rows)s rows would give %(created)s new, "
                    "%(changed)s changed and %(unchanged)s unchanged. Nothing was imported."
                )
            else:
                text = _(
                    "Imported %(rows)s rows: %(created)s new, %(changed)s changed, "
                    "%(unchanged)s unchanged."
                )
            messages.success(request, " ".join([text % counts, *result.lines]))
            return redirect("compulsory:home")
    context = _home_context(request, upload_form=form, problems=problems)
    return render(request, "compulsory/home.html", context, status=400)


@login_required
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    """Match the register against every placement for a date; a case opens per new finding."""
    viewer = gate.viewer_for(request)
    organiser = gate.overseen_organiser_or_404(viewer)
    form = CheckForm(request.POST)
    if not form.is_valid():
        return render(
            request, "compulsory/home.html", _home_context(request, check_form=form), status=400
        )
    done = actions.run_check(organiser, day=form.cleaned_data["day"], by=viewer.staff)
    opened = done.cases.count()
    messages.success(
        request,
        _("Checked %(checked)s children of compulsory-school age; %(opened)s new cases.")
        % {"checked": done.checked, "opened": opened},
    )
    return redirect("compulsory:home")


@login_required
@require_POST
def take_up_absence(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Open a case for a pupil on the long-absence list."""
    viewer = gate.viewer_for(request)
    organiser = gate.overseen_organiser_or_404(viewer)
    if pupil_id not in queries.long_absence_weeks(organiser, clock.today()):
        raise Http404
    pupil = get_object_or_404(Pupil, pk=pupil_id)
    case = actions.open_long_absence_case(organiser, pupil, by=viewer.staff)
    return redirect("compulsory:case", case.pk)


def _case_page(
    request: HttpRequest, case: OversightCase, status: int = 200, **forms: Any
) -> HttpResponse:
    today = clock.today()
    placements = []
    if case.pupil_id:
        placements = list(
            Placement.objects.filter(pupil_id=case.pupil_id)
            .select_related("school")
            .order_by("start")
        )
    context = {
        "title": _("Oversight case"),
        "case": case,
        "steps": list(case.steps.select_related("added_by", "done_by")),
        "today": today,
        "address": "" if case.protected_identity else _address(case),
        "placements": placements,
        "step_form": forms.get("step_form") or StepForm(initial={"due": today}),
        "done_form": forms.get("done_form") or DoneForm(initial={"on": today}),
        "close_form": forms.get("close_form") or CloseForm(initial={"on": today}),
        "failed_step": forms.get("failed_step"),
    }
    return render(request, "compulsory/case.html", context, status=status)


def _address(case: OversightCase) -> str:
    row = Resident.objects.filter(organiser=case.organiser, personnummer=case.personnummer).first()
    return row.address if row and not row.protected_identity else ""


@login_required
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    found = gate.get_oversight_case_or_404(request, OversightCase.objects.all(), case_id)
    return _case_page(request, found)


@login_required
@require_POST
def add_step(request: HttpRequest, case_id: int) -> HttpResponse:
    viewer = gate.viewer_for(request)
    found = gate.get_oversight_case_or_404(request, OversightCase.objects.all(), case_id)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            actions.add_step(found, **form.cleaned_data, by=viewer.staff)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("compulsory:case", found.pk)
    return _case_page(request, found, 400, step_form=form)


@login_required
@require_POST
def complete_step(request: HttpRequest, step_id: int) -> HttpResponse:
    viewer = gate.viewer_for(request)
    step = get_object_or_404(Step, pk=step_id)
    found = gate.get_oversight_case_or_404(request, OversightCase.objects.all(), step.case_id)
    form = DoneForm(request.POST)
    if form.is_valid():
        try:
            actions.complete_step(step, **form.cleaned_data, by=viewer.staff)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("compulsory:case", found.pk)
    return _case_page(request, found, 400, done_form=form, failed_step=step.pk)


@login_required
@require_POST
def close_case(request: HttpRequest, case_id: int) -> HttpResponse:
    viewer = gate.viewer_for(request)
    found = gate.get_oversight_case_or_404(request, OversightCase.objects.all(), case_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            actions.close_case(found, **form.cleaned_data, by=viewer.staff)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The case is closed."))
            return redirect("compulsory:home")
    return _case_page(request, found, 400, close_form=form)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """The term report for the board: figures only, small numbers hidden."""
    organiser = gate.oversight_report_organiser_or_404(gate.viewer_for(request))
    today = clock.today()
    terms = list(Term.objects.filter(start__lte=today).order_by("-start"))
    chosen = next((t for t in terms if str(t.pk) == request.GET.get("term")), None)
    term = chosen or Term.at(today)
    context: dict[str, Any] = {
        "title": _("Compulsory-school oversight, term report"),
        "organiser": organiser,
        "terms": terms,
        "report": queries.term_report(organiser, term, today) if term else None,
    }
    return render(request, "compulsory/report.html", context)
