"""The KASAM pages: the mentor's development talk with a pupil, and the pupil's own login to the
questionnaire (nothing else is reachable from it: middleware.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.schools.models import Pupil, Staff

from . import actions, queries
from .forms import AnswerForm, QuestionRows, rows_of
from .models import Dimension, PupilLogin, Questionnaire, Response, Stage


def _save(form: AnswerForm, pupil: Pupil, setting: str, by: Staff | None) -> bool:
    if not form.is_valid():
        return False
    try:
        actions.record_answers(
            pupil, questionnaire=form.questionnaire, values=form.values(), setting=setting, by=by
        )
    except ValidationError as error:
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def talk(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """The questionnaire in a development talk, filled in by the mentor (or the principal or
    student-health team) with the pupil."""
    viewer = gate.viewer_for(request)
    pupil = get_object_or_404(gate.support_pupils(viewer), pk=pupil_id)
    gate.record_reads(request, [pupil], role=viewer.role_for(pupil))
    questionnaire = queries.questionnaire_for(pupil)
    if questionnaire is None:
        raise Http404
    form = AnswerForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and _save(form, pupil, Response.Setting.TALK, viewer.staff):
        messages.success(request, _("The answers are saved."))
        return redirect("elevakt:pupil", pupil_id=pupil.pk)
    return render(
        request,
        "kasam/talk.html",
        {
            "title": _("KASAM dialogue: %(name)s") % {"name": pupil.full_name},
            "pupil": pupil,
            "form": form,
            "questionnaire": questionnaire,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest) -> HttpResponse:
    """The pupil's own page: the questionnaire of their years, and a thank-you once answered."""
    login = PupilLogin.objects.filter(user_id=request.user.pk or 0).select_related("pupil").first()
    if login is None:
        raise Http404
    questionnaire = queries.questionnaire_for(login.pupil)
    if questionnaire is None:
        return render(request, "kasam/answer.html", {"title": _("Questionnaire"), "form": None})
    form = AnswerForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and _save(form, login.pupil, Response.Setting.PUPIL, None):
        return render(
            request, "kasam/answer.html", {"title": _("Thank you"), "form": None, "done": True}
        )
    return render(
        request,
        "kasam/answer.html",
        {"title": _("How is school for you?"), "form": form},
        status=400 if form.errors else 200,
    )


def _own_versions(organiser_id: int, stage: str) -> list[Questionnaire]:
    """The stage's versions this organiser's pupils have answered or answer now, newest first,
    with how many answers each holds."""
    return list(
        Questionnaire.objects.filter(stage=stage)
        .filter(Q(organiser_id=organiser_id) | Q(organiser__isnull=True))
        .annotate(
            answered=Count("responses", filter=Q(responses__pupil__organiser_id=organiser_id))
        )
        .prefetch_related("questions")
        .order_by("-version", F("organiser_id").asc(nulls_last=True))
    )


@login_required
def questionnaires(request: HttpRequest) -> HttpResponse:
    """The organiser's KASAM questionnaires, one per stage, for its administration to edit."""
    organiser = gate.administered_organiser_or_404(gate.viewer_for(request))
    stages = []
    for stage, label in Stage.choices:
        current = queries.current_questionnaire(organiser.pk, stage)
        versions = _own_versions(organiser.pk, stage)
        stages.append({"stage": stage, "label": label, "current": current, "versions": versions})
    return render(
        request,
        "kasam/questionnaires.html",
        {"title": _("KASAM questionnaires"), "organiser": organiser, "stages": stages},
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_questionnaire(request: HttpRequest, stage: str) -> HttpResponse:
    """Edit the questions of a stage. Saving goes through `actions.revise_questionnaire`: a
    version with answers is kept and the edit becomes the next version."""
    organiser = gate.administered_organiser_or_404(gate.viewer_for(request))
    if stage not in Stage.values:
        raise Http404
    current = queries.current_questionnaire(organiser.pk, stage)
    if current is None:
        raise Http404
    initial = [{"dimension": q.dimension, "text": q.text} for q in current.questions.all()]
    # Every row is read, changed or not: an unchanged row is a question kept as it is.
    formset = QuestionRows(
        request.POST or None, initial=initial, prefix="q", form_kwargs={"empty_permitted": False}
    )
    problems: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            revised = actions.revise_questionnaire(
                current,
                questions=rows_of(formset),
                by=request.user.staff,  # type: ignore[union-attr]
                organiser=organiser,
            )
        except ValidationError as error:
            problems = error.messages
        else:
            if revised.pk == current.pk:
                messages.success(request, _("The questions are saved."))
            else:
                messages.success(
                    request,
                    _(
                        "The questions are saved as version %(version)s; earlier answers keep "
                        "the questions they answered."
                    )
                    % {"version": revised.version},
                )
            return redirect("kasam:questionnaires")
    answered = current.responses.exists()
    return render(
        request,
        "kasam/questionnaire_edit.html",
        {
            "title": _("Edit the KASAM questionnaire, %(stage)s") % {"stage": Stage(stage).label},
            "organiser": organiser,
            "current": current,
            "answered": answered,
            "formset": formset,
            "problems": problems,
            "dimensions": Dimension.choices,
        },
        status=400 if problems or (formset.is_bound and not formset.is_valid()) else 200,
    )
