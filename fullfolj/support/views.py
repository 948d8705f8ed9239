"""The support pages: a pupil's cases, the case with its one timeline, and the forms that open a
case, write entries, mappings and measures, decide, evaluate, and print the åtgärdsprogram."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.ladder.hooks import TaskLink
from fullfolj.ladder.models import LadderTask
from fullfolj.lib import clock
from fullfolj.schools.queries import current_mentors, current_placement
from fullfolj.screening.models import Flag

from . import actions, pdf, queries
from .forms import (
    FOLLOW_UP_WEEKS,
    CaseForm,
    DecisionForm,
    EntryForm,
    EvaluationForm,
    MappingForm,
    MeasureForm,
    OpenCaseForm,
)
from .models import Case, Mapping, Measure


def _errors_to_form(form: BaseForm, error: ValidationError) -> None:
    """An action's refusal, shown on the fields it names (the rest of the form kept)."""
    if hasattr(error, "error_dict"):
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


@dataclass(frozen=True)
class Submission:
    """How a posted form went: saved (with what the action returned), or the status to show the
    form again with (400 refused, 409 someone else saved first) and what they changed."""

    saved: bool
    status: int = 200
    result: Any = None
    changes: list[actions.Change] = field(default_factory=list)


def _submit(form: BaseForm, save: Callable[[dict[str, Any]], Any]) -> Submission:
    """Save a valid form's data through an action; a refusal lands on the form's fields."""
    if not form.is_valid():
        return Submission(saved=False, status=400)
    try:
        result = save(form.cleaned_data)
    except actions.EditConflict as conflict:
        _conflict_to_form(form, conflict)
        return Submission(saved=False, status=409, changes=conflict.changes)
    except ValidationError as error:
        _errors_to_form(form, error)
        return Submission(saved=False, status=400)
    return Submission(saved=True, result=result)


def _conflict_to_form(form: BaseForm, conflict: actions.EditConflict) -> None:
    """Refuse the save, say what the other person changed, and let this person try again."""
    form.add_error(None, _("Someone else saved this after you opened it; nothing was overwritten."))
    data = form.data.copy()  # type: ignore[attr-defined]
    data["version"] = str(conflict.version)
    data["seen"] = json.dumps(conflict.seen)
    form.data = data


def _case_context(case: Case, viewer: gate.Viewer) -> dict[str, Any]:
    return {
        "case": case,
        "pupil": case.pupil,
        "may_decide": gate.may_decide_support(viewer, case),
        "today": clock.today(),
    }


def _case_or_404(request: HttpRequest, case_id: int) -> Case:
    cases = Case.objects.select_related("pupil", "school", "responsible")
    return gate.get_case_or_404(request, cases, case_id)


def _measure_or_404(request: HttpRequest, measure_id: int) -> Measure:
    viewer = gate.viewer_for(request)
    visible = gate.cases_visible_to(viewer, Case.objects.all())
    measure = get_object_or_404(
        Measure.objects.filter(case__in=visible).select_related(
            "case__pupil", "case__school", "responsible", "decided_by"
        ),
        pk=measure_id,
    )
    pupil_id = measure.case.pupil_id
    gate.record_reads(
        request, [pupil_id], role=viewer.role_map([pupil_id]).get(pupil_id, "unknown")
    )
    return measure


@login_required
def pupil_cases(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """The pupil's cases, the open one first, and the way to open one."""
    pupil = gate.get_support_pupil_or_404(request, pupil_id, Case.objects.all())
    viewer = gate.viewer_for(request)
    section = queries.for_pupil(pupil, viewer)
    return render(
        request,
        "support/pupil_cases.html",
        {
            "title": _("Support: %(name)s") % {"name": pupil.full_name},
            "pupil": pupil,
            "section": section,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_case(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Open a case (from a flag, a ladder step or by hand) with its first extra adaptation:
    one form, prefilled, so a flag becomes a followed-up adaptation in a few steps."""
    viewer = gate.viewer_for(request)
    pupil = get_object_or_404(gate.support_pupils(viewer), pk=pupil_id)
    gate.record_reads(request, [pupil], role=viewer.role_for(pupil))
    today = clock.today()
    placement = current_placement(pupil, today)
    if placement is None:
        raise Http404
    school = placement.school
    params = request.POST if request.method == "POST" else request.GET
    flag = _flag_of(pupil.pk, params.get("flag"))
    task = _task_of(pupil.pk, params.get("task"))
    existing = Case.objects.filter(pupil=pupil).open().first()
    status = 200
    if request.method == "POST":
        form = OpenCaseForm(request.POST, school=school)
        submission = _submit(
            form,
            lambda data: actions.open_case_with_adaptation(
                pupil,
                school=school,
                responsible=data["responsible"],
                by=viewer.staff,
                title=data["title"],
                description=data["description"],
                start=data["start"],
                follow_up_on=data["follow_up_on"],
                flag=flag,
                ladder_task=task,
                restricted=gate.writes_health_entries(viewer, placement),
            ),
        )
        if submission.saved:
            case, _measure = submission.result
            messages.success(request, _("The case is open."))
            return redirect("support:case", case_id=case.pk)
        status = submission.status
    else:
        mentor = pupil.mentorships.active_on(today).order_by("-start").first()
        form = OpenCaseForm(
            school=school,
            initial={
                "responsible": mentor.mentor_id if mentor else viewer.staff.pk,
                "start": today,
                "follow_up_on": today + dt.timedelta(weeks=FOLLOW_UP_WEEKS),
            },
        )
    return render(
        request,
        "support/open_case.html",
        {
            "title": _("Open a case"),
            "pupil": pupil,
            "school": school,
            "mentors": current_mentors(pupil, today),
            "form": form,
            "flag": flag,
            "task": task,
            "existing": existing
            if existing
            and gate.cases_visible_to(viewer, Case.objects.filter(pk=existing.pk)).exists()
            else None,
        },
        status=status,
    )


def ladder_task_links(viewer: gate.Viewer, task: LadderTask) -> list[TaskLink]:
    """On a ladder task's page: the pupil's open case, or a case opened from the step, for
    whoever may open cases for the pupil (the ladder's link provider, registered in apps.py)."""
    if not gate.support_pupils(viewer).filter(pk=task.pupil_id).exists():
        return []
    case = Case.objects.open().filter(pupil_id=task.pupil_id).only("pk").first()
    if case is not None:
        return [TaskLink(_("Go to the pupil's case"), reverse("support:case", args=[case.pk]))]
    url = reverse("support:open-case", args=[task.pupil_id])
    return [TaskLink(_("Open a case from this step"), f"{url}?task={task.pk}")]


def _flag_of(pupil_id: int, value: str | None) -> Flag | None:
    """The flag named in the link, if it is this pupil's (else nothing is prefilled)."""
    if not value or not value.isdigit():
        return None
    return Flag.objects.filter(pupil_id=pupil_id, pk=int(value)).first()


def _task_of(pupil_id: int, value: str | None) -> LadderTask | None:
    if not value or not value.isdigit():
        return None
    return (
        LadderTask.objects.select_related("step").filter(pupil_id=pupil_id, pk=int(value)).first()
    )


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case: who answers for it, its measures and the one timeline ("clean slate": this
    and last school year; older entries one click away)."""
    case = _case_or_404(request, case_id)
    viewer = gate.viewer_for(request)
    everything = request.GET.get("alla") == "1"
    mapping_health = gate.health_entries_access(viewer, case, gate.SecondFactorKind.MAPPING_HEALTH)
    context = _case_context(case, viewer) | {
        "title": _("Case: %(name)s") % {"name": case.pupil.full_name},
        "timeline": queries.timeline(case, viewer, everything=everything),
        "measures": list(
            case.measures.select_related("responsible").prefetch_related("evaluations")
        ),
        "mappings": list(case.mappings.select_related("written_by")),
        "participants": list(case.participants.all()),
        "readable_mapping_health": mapping_health is gate.HealthAccess.READ,
        "mapping_health_locked": mapping_health is gate.HealthAccess.VERIFY,
        "entry_form": EntryForm(initial={"occurred_on": clock.today(), "kind": "note"}),
        "writes_health": gate.writes_health_entries(viewer, case),
        "kinds": Measure.Kind.choices,
    }
    return render(request, "support/case_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    """Status, responsible person and the people on the case; never a silent overwrite."""
    case = _case_or_404(request, case_id)
    viewer = gate.viewer_for(request)
    status = 200
    changes: list[actions.Change] = []
    if request.method == "POST":
        form = CaseForm(request.POST, school=case.school)
        submission = _submit(
            form,
            lambda data: actions.update_case(
                case,
                version=data["version"],
                seen=form.seen_fields(),
                status=data["status"],
                responsible=data["responsible"],
                participants=data["participants"],
                closed_reason=data["closed_reason"],
                by=viewer.staff,
            ),
        )
        if submission.saved:
            messages.success(request, _("The case is saved."))
            return redirect("support:case", case_id=case.pk)
        status, changes = submission.status, submission.changes
    else:
        form = CaseForm(
            school=case.school,
            initial={
                "status": case.status,
                "responsible": case.responsible_id,
                "participants": list(case.participants.values_list("pk", flat=True)),
                "closed_reason": case.closed_reason,
                "version": case.version,
                "seen": json.dumps(actions.shown(case, actions.CASE_FIELDS)),
            },
        )
    context = _case_context(case, viewer) | {
        "title": _("Change the case"),
        "form": form,
        "changes": changes,
    }
    return render(request, "support/case_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def add_entry(request: HttpRequest, case_id: int) -> HttpResponse:
    """A note, a contact with the guardians, a meeting or a decision on the timeline."""
    case = _case_or_404(request, case_id)
    viewer = gate.viewer_for(request)
    status = 200
    if request.method == "POST":
        form = EntryForm(request.POST)
        submission = _submit(
            form,
            lambda data: actions.add_entry(
                case,
                kind=data["kind"],
                occurred_on=data["occurred_on"],
                text=data["text"],
                by=viewer.staff,
                restricted=gate.writes_health_entries(viewer, case),
            ),
        )
        if submission.saved:
            messages.success(request, _("The entry is saved."))
            return redirect("support:case", case_id=case.pk)
        status = submission.status
    else:
        form = EntryForm(initial={"occurred_on": clock.today(), "kind": "note"})
    context = _case_context(case, viewer) | {
        "title": _("Write on the case"),
        "form": form,
        "writes_health": gate.writes_health_entries(viewer, case),
    }
    return render(request, "support/entry_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, case_id: int) -> HttpResponse:
    """A mapping in the student-health team's sections, beside what the system knows."""
    case = _case_or_404(request, case_id)
    viewer = gate.viewer_for(request)
    prefill = queries.mapping_prefill(case)
    status = 200
    if request.method == "POST":
        form = MappingForm(request.POST, instance=Mapping(case=case))
        submission = _submit(
            form,
            lambda data: actions.write_mapping(
                case,
                sections=data,
                prefill=prefill,
                written_on=data["written_on"],
                by=viewer.staff,
                restricted=gate.writes_health_entries(viewer, case),
            ),
        )
        if submission.saved:
            messages.success(request, _("The mapping is saved."))
            return redirect("support:case", case_id=case.pk)
        status = submission.status
    else:
        form = MappingForm(initial=_mapping_initial(case, prefill))
    context = _case_context(case, viewer) | {
        "title": _("Mapping"),
        "form": form,
        "prefill": prefill,
    }
    return render(request, "support/mapping_form.html", context, status=status)


def _mapping_initial(case: Case, prefill: dict[str, Any]) -> dict[str, Any]:
    """The school-situation section starts from the figures, for the writer to correct."""
    term = prefill["attendance"]["term"]
    lines = []
    if term["total"] is not None:
        lines.append(
            _("Absence this term: %(total)s %% (invalid %(invalid)s %%).")
            % {"total": _number(term["total"]), "invalid": _number(term["invalid"] or 0)}
        )
    failing = [g["subject"] for g in prefill["grades"] if g["grade"] in ("F", "-")]
    if failing:
        lines.append(_("Not passed last term: %(subjects)s.") % {"subjects": ", ".join(failing)})
    if prefill["warnings"]:
        lines.append(
            _("Warnings of F: %(subjects)s.")
            % {"subjects": ", ".join(w["subject"] for w in prefill["warnings"])}
        )
    return {"teaching": "\n".join(lines), "written_on": clock.today()}


def _number(value: float) -> str:
    from fullfolj.lib.format_tags import number

    return number(value)


@login_required
@require_http_methods(["GET", "POST"])
def add_measure(request: HttpRequest, case_id: int) -> HttpResponse:
    """Start a measure of one kind, asking only what that kind needs."""
    case = _case_or_404(request, case_id)
    viewer = gate.viewer_for(request)
    kind = request.GET.get("kind") or request.POST.get("kind") or Measure.Kind.EXTRA_ADAPTATION
    if kind not in Measure.Kind.values:
        raise Http404
    status = 200
    instance = Measure(case=case, kind=kind)
    if request.method == "POST":
        form = MeasureForm(request.POST, instance=instance, kind=kind, school=case.school)
        submission = _submit(
            form,
            lambda data: actions.add_measure(
                case,
                fields={"kind": kind, **_measure_fields(data)},
                subjects=data.get("subjects") or (),
                by=viewer.staff,
                restricted=gate.writes_health_entries(viewer, case),
            ),
        )
        if submission.saved:
            messages.success(request, _("The measure is saved."))
            return redirect("support:case", case_id=case.pk)
        status = submission.status
    else:
        form = MeasureForm(
            instance=instance, kind=kind, school=case.school, initial=_measure_initial(case, kind)
        )
    context = _case_context(case, viewer) | {
        "title": _("New measure: %(kind)s") % {"kind": Measure.Kind(kind).label},
        "form": form,
        "kind": kind,
        "kind_label": Measure.Kind(kind).label,
        "kinds": Measure.Kind.choices,
    }
    return render(request, "support/measure_form.html", context, status=status)


def _measure_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A measure form's values for the model (the version check and subjects go apart)."""
    return {k: v for k, v in data.items() if k not in ("version", "seen", "subjects")}


def _measure_initial(case: Case, kind: str) -> dict[str, Any]:
    """Prefilled from the case: its responsible person, today, a follow-up in four weeks; an
    åtgärdsprogram starts from the latest mapping."""
    today = clock.today()
    initial: dict[str, Any] = {
        "responsible": case.responsible_id,
        "start": today,
        "follow_up_on": today + dt.timedelta(weeks=FOLLOW_UP_WEEKS),
    }
    if kind == Measure.Kind.ACTION_PROGRAMME:
        latest = case.mappings.first()
        if latest is not None:
            initial["needs"] = "\n\n".join(
                text
                for text in (latest.teaching, latest.group, latest.learning_environment)
                if text
            )
        initial["evaluation_on"] = today + dt.timedelta(weeks=2 * FOLLOW_UP_WEEKS)
    return initial


EDITABLE = (
    "title",
    "description",
    "start",
    "responsible",
    "follow_up_on",
    "needs",
    "planned_measures",
    "evaluation_on",
    "period_end",
    "subjects",
)


@login_required
@require_http_methods(["GET", "POST"])
def measure_detail(request: HttpRequest, measure_id: int) -> HttpResponse:
    """A measure: its facts, evaluations, and the form to change it (versioned)."""
    measure = _measure_or_404(request, measure_id)
    case = measure.case
    viewer = gate.viewer_for(request)
    status = 200
    changes: list[actions.Change] = []
    may_edit = measure.is_active and gate.may_edit_measure(
        viewer, case, decided=bool(measure.decision)
    )
    if request.method == "POST" and not may_edit:
        refusal, code = (
            (_("Only the principal changes a decided measure."), 403)
            if measure.is_active
            else (_("This measure is closed."), 409)
        )
        return HttpResponse(refusal, status=code, content_type="text/plain; charset=utf-8")
    if request.method == "POST":
        form = MeasureForm(request.POST, instance=measure, kind=measure.kind, school=case.school)
        # The model's rules are checked on a copy: a refused save leaves the row as it was.
        submission = _submit(
            form,
            lambda data: actions.update_measure(
                measure,
                version=int(data.get("version") or 0),
                seen=_seen(data.get("seen")),
                fields=_measure_fields(data),
                subjects=data.get("subjects") if "subjects" in form.fields else None,
                by=viewer.staff,
            ),
        )
        if submission.saved:
            messages.success(request, _("The measure is saved."))
            return redirect("support:measure", measure_id=measure.pk)
        status, changes = submission.status, submission.changes
        measure.refresh_from_db()
    else:
        form = MeasureForm(
            instance=measure,
            kind=measure.kind,
            school=case.school,
            initial={
                "version": measure.version,
                "seen": json.dumps(actions.shown(measure, _editable(measure))),
            },
        )
    context = _case_context(case, viewer) | {
        "title": str(measure),
        "measure": measure,
        "form": form,
        "changes": changes,
        "evaluations": list(measure.evaluations.select_related("by")),
        "overdue": measure.is_overdue_on(clock.today()),
        "may_edit": may_edit,
    }
    return render(request, "support/measure_detail.html", context, status=status)


def _editable(measure: Measure) -> list[str]:
    from .forms import COMMON_FIELDS, KIND_FIELDS

    return [*COMMON_FIELDS, *KIND_FIELDS.get(measure.kind, ())]


def _seen(value: str | None) -> dict[str, str]:
    try:
        parsed = json.loads(value or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


DECISION_FIELDS = ("decision", "decided_on", "appeal_text")


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, measure_id: int) -> HttpResponse:
    """The principal's decision on an åtgärdsprogram (or not to draw one up), an adapted study
    path, a special teaching group or individual teaching, with how to appeal."""
    measure = _measure_or_404(request, measure_id)
    case = measure.case
    viewer = gate.viewer_for(request)
    if not measure.needs_decision or not gate.may_decide_support(viewer, case):
        raise Http404
    status = 200
    changes: list[actions.Change] = []
    if request.method == "POST":
        form = DecisionForm(request.POST, measure=measure)
        submission = _submit(
            form,
            lambda data: actions.decide(
                measure,
                version=data["version"],
                seen=form.seen_fields(),
                decision=data["decision"],
                decided_on=data["decided_on"],
                appeal_text=data["appeal_text"],
                by=viewer.staff,
            ),
        )
        if submission.saved:
            messages.success(request, _("The decision is saved."))
            return redirect("support:measure", measure_id=measure.pk)
        status, changes = submission.status, submission.changes
    else:
        form = DecisionForm(
            measure=measure,
            initial={
                "decision": measure.decision or Measure.Decision.DECIDED,
                "decided_on": measure.decided_on or clock.today(),
                "appeal_text": measure.appeal_text or pdf.appeal_text(measure.kind),
                "version": measure.version,
                "seen": json.dumps(actions.shown(measure, DECISION_FIELDS)),
            },
        )
    context = _case_context(case, viewer) | {
        "title": _("Decision: %(measure)s") % {"measure": measure.title},
        "measure": measure,
        "form": form,
        "changes": changes,
    }
    return render(request, "support/decision_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def evaluate(request: HttpRequest, measure_id: int) -> HttpResponse:
    """Evaluate a measure from the figures before and after its start; close it or carry on."""
    measure = _measure_or_404(request, measure_id)
    case = measure.case
    viewer = gate.viewer_for(request)
    if not measure.is_active:
        raise Http404
    figures = queries.figures_around(measure)
    status = 200
    if request.method == "POST":
        form = EvaluationForm(request.POST)
        submission = _submit(
            form,
            lambda data: actions.evaluate(
                measure,
                judgement=data["judgement"],
                text=data["text"],
                evaluated_on=data["evaluated_on"],
                figures=figures,
                by=viewer.staff,
                close=data["outcome"] == "close",
                next_follow_up=data.get("next_follow_up"),
                restricted=gate.writes_health_entries(viewer, case),
            ),
        )
        if submission.saved:
            messages.success(request, _("The evaluation is saved."))
            return redirect("support:case", case_id=case.pk)
        status = submission.status
    else:
        today = clock.today()
        form = EvaluationForm(
            initial={
                "evaluated_on": today,
                "outcome": "continue",
                "next_follow_up": today + dt.timedelta(weeks=FOLLOW_UP_WEEKS),
            }
        )
    context = _case_context(case, viewer) | {
        "title": _("Evaluate: %(measure)s") % {"measure": measure.title},
        "measure": measure,
        "form": form,
        "figures": figures,
    }
    return render(request, "support/evaluation_form.html", context, status=status)


@login_required
def action_programme_pdf(request: HttpRequest, measure_id: int) -> HttpResponse:
    """The åtgärdsprogram as the PDF schools file and hand to the guardians."""
    measure = _measure_or_404(request, measure_id)
    if measure.kind != Measure.Kind.ACTION_PROGRAMME:
        raise Http404
    content = pdf.action_programme(measure, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="atgardsprogram-{measure.pk}.pdf"'
    return response
