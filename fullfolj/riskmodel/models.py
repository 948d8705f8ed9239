"""The stored risk model (riskmodell) and its estimates per pupil (uppskattningar).

Opt-in (docs/screening.md): a model is trained on the organiser's own history (`fullfolj model train`),
evaluated against the rule screen on held-out history (`fullfolj model evaluate`), and may be
switched on in the admin only after that evaluation has been shown there. The database holds
that rule too: an active model without a shown evaluation cannot be saved.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil

if TYPE_CHECKING:  # the engine pulls in scikit-learn, which every command would pay for
    from .engine import FittedModel


class RiskModelQuerySet(models.QuerySet["RiskModel"]):
    def active(self) -> RiskModelQuerySet:
        return self.filter(is_active=True)


class RiskModel(models.Model):
    """A model fitted on one organiser's history, with its evaluation and fairness figures."""

    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, related_name="+", verbose_name=_("organiser")
    )
    trained_at = models.DateTimeField(_("trained at"))
    data_start = models.DateField(_("data from"))
    data_end = models.DateField(_("data until"))
    outcome = models.TextField(_("outcome"))
    horizon_weeks = models.PositiveSmallIntegerField(_("outcome window (weeks)"))
    learner = models.CharField(_("learner"), max_length=40)
    rows = models.PositiveIntegerField(_("training rows"))
    pupils = models.PositiveIntegerField(_("training pupils"))
    positives = models.PositiveIntegerField(_("rows with the outcome"))
    features = models.JSONField(_("inputs"), default=list)
    training_metrics = models.JSONField(_("training figures"), default=dict)
    fitted = models.BinaryField(editable=False)

    evaluation = models.JSONField(_("evaluation"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    evaluation_shown_at = models.DateTimeField(_("evaluation shown at"), null=True, blank=True)
    evaluation_shown_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evaluation shown to"),
    )
    is_active = models.BooleanField(_("switched on"), default=False)
    activated_at = models.DateTimeField(_("switched on at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("switched on by"),
    )

    objects = RiskModelQuerySet.as_manager()

    class Meta:
        ordering = ["-trained_at", "-pk"]
        verbose_name = _("risk model")
        verbose_name_plural = _("risk models")
        constraints = [
            models.UniqueConstraint(
                fields=["organiser"], condition=Q(is_active=True), name="one_active_risk_model"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False)
                | Q(evaluated_at__isnull=False, evaluation_shown_at__isnull=False),
                name="active_model_was_evaluated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organiser} {self.trained_at:%Y-%m-%d %H:%M}"

    @property
    def fairness(self) -> dict[str, Any]:
        """Per gender and school, model and rule screen: flag rate, recall, precision."""
        evaluation: dict[str, dict[str, Any]] = self.evaluation or {}
        return evaluation.get("fairness", {})

    def load(self) -> FittedModel:
        """The fitted model (stored by `actions.train_model`, never from outside data)."""
        import joblib

        return joblib.load(io.BytesIO(bytes(self.fitted)))  # type: ignore[no-any-return]

    @staticmethod
    def dump(model: FittedModel) -> bytes:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(model, buffer, compress=3)
        return buffer.getvalue()


class RiskEstimate(models.Model):
    """The model's estimate for one pupil at a date, with the reasons in Swedish words."""

    model = models.ForeignKey(RiskModel, on_delete=models.CASCADE, related_name="estimates")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="risk_estimates")
    as_of = models.DateField(_("date"))
    probability = models.FloatField(_("estimated risk"))
    reasons = models.JSONField(_("reasons"), default=list)  # [{feature, text, rise}]

    class Meta:
        ordering = ["model", "-probability"]
        constraints = [
            models.UniqueConstraint(fields=["model", "pupil"], name="one_estimate_per_model"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="estimate_is_a_probability",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id}: {self.probability:.2f}"

    @property
    def percent(self) -> int:
        return round(100 * self.probability)


class ProtectedColumn(models.Model):
    """A column name the administrator counts as protected, beside the built-in ones.

    `fullfolj model evaluate --csv` never uses such a column as an input unless asked
    (`--use-protected`) and always audits the model's fairness across its groups. Names are
    matched whole, in any case; the built-in words (gender, kön, födelseland, ...) need no row.
    """

    name = models.CharField(_("column name"), max_length=200, unique=True)
    note = models.CharField(_("why it is protected"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("protected column")
        verbose_name_plural = _("protected columns")

    def __str__(self) -> str:
        return self.name
