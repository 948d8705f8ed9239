"""The KASAM pages: the mentor's development talk with a pupil, and the pupil's own login to the
questionnaire (nothing else is reachable from it: middleware.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.schools.models import Pupil, Staff

from . import actions, queries
from .forms import AnswerForm
from .models import PupilLogin, Response


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
