"""The KASAM dialogue: a questionnaire on the three dimensions of sense of coherence, answered
in a development talk or by the pupil on a login that reaches nothing else (docs/kasam.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Pupil, Staff

SCALE = range(1, 6)  # 1 "not at all true" .. 5 "completely true"
QUESTION_LENGTH = 300


class Dimension(models.TextChoices):
    COMPREHENSIBILITY = "comprehensibility", _("comprehensibility")
    MANAGEABILITY = "manageability", _("manageability")
    MEANINGFULNESS = "meaningfulness", _("meaningfulness")


class Stage(models.TextChoices):
    MIDDLE = "4-6", _("years 4–6")
    UPPER = "7-9", _("years 7–9")

    @classmethod
    def for_grade(cls, grade: int | None) -> Stage | None:
        if grade is None or grade < 4 or grade > 9:
            return None
        return cls.MIDDLE if grade <= 6 else cls.UPPER


class Questionnaire(models.Model):
    """One version of the questionnaire of a stage. A version with answers is never changed:
    editing it makes the next version, so old answers keep the questions they answered.

    Shipped versions have no organiser and are every organiser's default; an organiser's own
    versions (its administration edits them) replace the default for its pupils."""

    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    stage = models.CharField(_("years"), max_length=3, choices=Stage.choices)
    version = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["stage", "-version"]
        verbose_name = _("KASAM questionnaire")
        verbose_name_plural = _("KASAM questionnaires")
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "version"],
                condition=Q(organiser__isnull=True),
                name="kasam_one_version",
            ),
            models.UniqueConstraint(
                fields=["stage"],
                condition=Q(is_current=True, organiser__isnull=True),
                name="kasam_one_current",
            ),
            models.UniqueConstraint(
                fields=["organiser", "stage", "version"],
                condition=Q(organiser__isnull=False),
                name="kasam_one_own_version",
            ),
            models.UniqueConstraint(
                fields=["organiser", "stage"],
                condition=Q(is_current=True, organiser__isnull=False),
                name="kasam_one_own_current",
            ),
        ]

    def __str__(self) -> str:
        return f"KASAM {self.stage} v{self.version}"


class Question(models.Model):
    """One statement the pupil answers on the scale, belonging to one dimension."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    text = models.CharField(pgettext_lazy("kasam", "question"), max_length=QUESTION_LENGTH)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["questionnaire", "position", "pk"]
        verbose_name = pgettext_lazy("kasam", "question")
        verbose_name_plural = pgettext_lazy("kasam", "questions")

    def __str__(self) -> str:
        return self.text


class Response(models.Model):
    """One time a pupil answered: in a development talk with a staff member, or alone."""

    class Setting(models.TextChoices):
        TALK = "talk", _("in a development talk")
        PUPIL = "pupil", _("by the pupil")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="kasam_responses")
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="responses"
    )
    answered_on = models.DateField(_("date"), default=clock.today)
    setting = models.CharField(max_length=10, choices=Setting.choices)
    recorded_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["pupil", "answered_on", "pk"]
        verbose_name = _("KASAM answer")
        verbose_name_plural = _("KASAM answers")
        indexes = [models.Index(fields=["pupil", "answered_on"])]

    def __str__(self) -> str:
        return f"{self.pupil_id} {self.answered_on}"


class Answer(models.Model):
    """One question's value in a response, on the scale 1–5 (the database refuses the rest)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    value = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=SCALE.start, value__lte=SCALE.stop - 1),
                name="kasam_answer_on_scale",
            ),
            models.UniqueConstraint(fields=["response", "question"], name="kasam_one_answer"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}={self.value}"

    def clean(self) -> None:
        if self.value not in SCALE:
            raise ValidationError({"value": _("Answer on the scale 1 to 5.")})


class PupilLogin(models.Model):
    """A pupil's own login: it reaches the questionnaire and nothing else (docs/kasam.md)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kasam_pupil"
    )
    pupil = models.OneToOneField(Pupil, on_delete=models.CASCADE, related_name="kasam_login")

    class Meta:
        verbose_name = _("pupil login")
        verbose_name_plural = _("pupil logins")

    def __str__(self) -> str:
        return str(self.user)
