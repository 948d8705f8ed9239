"""Writes of the KASAM dialogue: record a pupil's answers, revise a questionnaire (a new version
once answers exist), give a pupil a login to the questionnaire (docs/kasam.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Pupil, Staff

from .models import (
    QUESTION_LENGTH,
    SCALE,
    Answer,
    Dimension,
    PupilLogin,
    Question,
    Questionnaire,
    Response,
)


@transaction.atomic
def record_answers(
    pupil: Pupil,
    *,
    questionnaire: Questionnaire,
    values: Mapping[int, int | None],
    setting: str,
    by: Staff | None,
    answered_on: dt.date | None = None,
) -> Response:
    """Save one response: every question answered on the scale 1–5, or nothing is saved and
    each missing or outside answer is named by its question."""
    questions = list(questionnaire.questions.all())
    errors: dict[str, str] = {}
    for question in questions:
        value = values.get(question.pk)
        if value is None:
            errors[f"q{question.pk}"] = _("Answer “%(question)s”.") % {"question": question.text}
        elif value not in SCALE:
            errors[f"q{question.pk}"] = _(
                "“%(question)s”: answer on the scale 1 to 5 (got %(value)s)."
            ) % {"question": question.text, "value": value}
    unknown = set(values) - {q.pk for q in questions}
    if unknown:
        errors["__all__"] = _("The answers belong to another questionnaire.")
    day = answered_on or clock.today()
    if day > clock.today():
        errors["answered_on"] = _("The date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    response = Response.objects.create(
        pupil=pupil, questionnaire=questionnaire, answered_on=day, setting=setting, recorded_by=by
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=q, value=int(values[q.pk] or 0)) for q in questions
    )
    return response


@transaction.atomic
def revise_questionnaire(
    questionnaire: Questionnaire,
    *,
    questions: Sequence[tuple[str, str]],
    by: Staff | None,
    organiser: Organiser | None = None,
) -> Questionnaire:
    """Change the questions. Without answers the version is changed in place; once answered
    it is kept as it was and the questions become the stage's next version. An organiser
    editing the shipped default gets a version of its own; the default stays every other
    organiser's (docs/kasam.md)."""
    errors = []
    for number, (dimension, text) in enumerate(questions, start=1):
        if dimension not in Dimension.values:
            errors.append(_("Question %(number)s: choose a dimension.") % {"number": number})
        if not text.strip():
            errors.append(_("Question %(number)s: write the question.") % {"number": number})
        elif len(text.strip()) > QUESTION_LENGTH:
            errors.append(
                _("Question %(number)s: at most %(length)s characters.")
                % {"number": number, "length": QUESTION_LENGTH}
            )
    missing = set(Dimension.values) - {d for d, _t in questions}
    if missing:
        errors.append(_("Every dimension needs at least one question."))
    if errors:
        raise ValidationError(errors)
    locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    owner_id = organiser.pk if organiser is not None else locked.organiser_id
    if locked.organiser_id != owner_id and locked.organiser_id is not None:
        raise ValidationError(_("This questionnaire belongs to another organiser."))
    if locked.responses.exists() or locked.organiser_id != owner_id:
        if locked.organiser_id == owner_id:
            locked.is_current = False
            locked.save(update_fields=["is_current"])
        # An own version numbers on from the default it replaces: "7-9 v2" follows "7-9 v1".
        owners = Q(organiser_id=owner_id) if owner_id is not None else Q(organiser__isnull=True)
        if locked.organiser_id is None:
            owners |= Q(organiser__isnull=True)
        versions = Questionnaire.objects.filter(owners, stage=locked.stage)
        latest = versions.order_by("-version").first()
        target = Questionnaire.objects.create(
            organiser_id=owner_id,
            stage=locked.stage,
            version=(latest.version if latest else 0) + 1,
            is_current=True,
            created_by=by,
        )
    else:
        target = locked
        target.questions.all().delete()
    Question.objects.bulk_create(
        Question(questionnaire=target, dimension=d, text=t.strip(), position=i)
        for i, (d, t) in enumerate(questions)
    )
    return target


@transaction.atomic
def give_login(pupil: Pupil, *, username: str, password: str) -> PupilLogin:
    """A login for the pupil that reaches the questionnaire and nothing else."""
    user = get_user_model().objects.create_user(username=username, password=password)
    return PupilLogin.objects.create(user=user, pupil=pupil)
