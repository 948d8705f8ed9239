"""Support for a pupil at risk (elevärenden): the case, its one timeline, the mapping, the
measures of the support ladder and their evaluations (docs/support.md)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fullfolj.ladder.models import LadderTask
from fullfolj.lib import clock
from fullfolj.schools.models import Pupil, School, Staff, Subject, ValidatedModel
from fullfolj.screening.models import Flag

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.exclude(status=Case.Status.CLOSED)


class Case(ValidatedModel):
    """A pupil's case (elevärende): one responsible adult, the people working on it, a status."""

    class Status(models.TextChoices):
        NEW = "new", _("new")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        CLOSED = "closed", _("closed")

    class Source(models.TextChoices):
        FLAG = "flag", _("from a screening flag")
        LADDER = "ladder", _("from a ladder step")
        HAND = "hand", _("manually")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="support_cases")
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="support_cases", verbose_name=_("school")
    )
    opened_from = models.CharField(
        _("opened from"), max_length=10, choices=Source.choices, default=Source.HAND
    )
    # The flag or ladder task that opened the case; the reason is kept in words as flags go
    # with their run and tasks may be removed.
    flag = models.ForeignKey(
        Flag, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ladder_task = models.ForeignKey(
        LadderTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    responsible = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        related_name="responsible_cases",
        verbose_name=_("responsible"),
    )
    participants = models.ManyToManyField(
        Staff, blank=True, related_name="support_cases", verbose_name=_("working on the case")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    opened_at = models.DateTimeField(_("opened"), default=clock.now)
    opened_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_reason = models.TextField(_("why the case is closed"), blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic concurrency
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            # A ladder step or a flag joins the pupil's case rather than opening a second one.
            models.UniqueConstraint(
                fields=["pupil"], condition=~Q(status="closed"), name="one_open_case_per_pupil"
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="case_closed_at_iff_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["responsible", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} ({self.opened_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def clean(self) -> None:
        if self.status == self.Status.CLOSED and not self.closed_reason.strip():
            raise ValidationError({"closed_reason": _("Say why the case is closed.")})


class Mapping(ValidatedModel):
    """A mapping (kartläggning) in the sections a student-health team uses.

    `prefill` keeps what the system knew when it was written (attendance pattern, grades,
    F-warnings, earlier measures), so the mapping reads the same later.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mappings")
    teaching = models.TextField(_("teaching"), blank=True)
    group = models.TextField(_("the group"), blank=True)
    learning_environment = models.TextField(_("learning environment"), blank=True)
    social = models.TextField(_("social situation"), blank=True)
    health = models.TextField(_("health"), blank=True)
    pupil_view = models.TextField(_("the pupil's own view"), blank=True)
    guardian_view = models.TextField(_("the guardians' view"), blank=True)
    prefill = models.JSONField(default=dict, blank=True)
    written_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    written_on = models.DateField(_("date"), default=clock.today)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECTIONS = (
        "teaching",
        "group",
        "learning_environment",
        "social",
        "health",
        "pupil_view",
        "guardian_view",
    )

    class Meta:
        ordering = ["-written_on", "-pk"]
        verbose_name = _("mapping")
        verbose_name_plural = _("mappings")

    def __str__(self) -> str:
        return f"{self.case} {self.written_on}"

    def clean(self) -> None:
        if not any((getattr(self, name) or "").strip() for name in self.SECTIONS):
            raise ValidationError({"teaching": _("Write at least one section of the mapping.")})


class MeasureQuerySet(models.QuerySet["Measure"]):
    def active(self) -> MeasureQuerySet:
        return self.filter(status=Measure.Status.ACTIVE)

    def overdue(self, today: dt.date) -> MeasureQuerySet:
        """Active measures whose follow-up date has passed."""
        return self.active().filter(follow_up_on__lt=today)


class Measure(ValidatedModel):
    """A measure (insats) of the support ladder, with a start, a responsible person and a
    planned follow-up. The åtgärdsprogram and the principal's decisions carry their own fields."""

    class Kind(models.TextChoices):
        EXTRA_ADAPTATION = "extra_adaptation", _("extra adaptation")
        INVESTIGATION = "investigation", _("investigation of special support")
        ACTION_PROGRAMME = "action_programme", _("action programme")
        ADAPTED_STUDY_PATH = "adapted_study_path", _("adapted study path")
        SPECIAL_GROUP = "special_group", _("special teaching group")
        INDIVIDUAL_TEACHING = "individual_teaching", _("individual teaching")
        FLEXIBLE_GROUP = "flexible_group", _("flexible teaching group")
        DISTANCE_TEACHING = "distance_teaching", _("distance teaching")
        GUARDIAN_COOPERATION = "guardian_cooperation", _("cooperation with the guardians")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CLOSED = "closed", _("followed up and closed")

    class Decision(models.TextChoices):
        DECIDED = "decided", _("decided")
        NOT_DRAWN_UP = "not_drawn_up", _("decided not to draw up an action programme")

    # Kinds that are special support by the principal's decision (Skollagen 3 kap. 9-12 §§).
    DECIDED_KINDS = frozenset(
        {
            Kind.ACTION_PROGRAMME,
            Kind.ADAPTED_STUDY_PATH,
            Kind.SPECIAL_GROUP,
            Kind.INDIVIDUAL_TEACHING,
        }
    )

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="measures")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("what"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    start = models.DateField(_("start"))
    responsible = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsible_measures",
        verbose_name=_("responsible"),
    )
    follow_up_on = models.DateField(_("follow-up date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The åtgärdsprogram (3 kap. 9 §): needs, measures, follow-up and evaluation date.
    needs = models.TextField(_("needs"), blank=True)
    planned_measures = models.TextField(_("measures"), blank=True)
    evaluation_on = models.DateField(_("evaluation date"), null=True, blank=True)
    # The principal's decision: on an åtgärdsprogram (or not to draw one up), an adapted study
    # path, a special teaching group or individual teaching. Each may be appealed or not.
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    decided_on = models.DateField(_("decision date"), null=True, blank=True)
    decided_by = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    appeal_text = models.TextField(_("how to appeal"), blank=True)
    # The adapted study path: which subjects, until when (from `start`).
    subjects = models.ManyToManyField(
        Subject, blank=True, related_name="+", verbose_name=_("subjects")
    )
    period_end = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-pk"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        indexes = [
            models.Index(fields=["responsible", "status", "follow_up_on"]),
            models.Index(fields=["case", "status"]),
            models.Index(fields=["status", "follow_up_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def needs_decision(self) -> bool:
        return self.kind in self.DECIDED_KINDS

    def is_overdue_on(self, today: dt.date) -> bool:
        return self.is_active and self.follow_up_on is not None and self.follow_up_on < today

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        start = self.start
        if start and self.follow_up_on and self.follow_up_on < start:
            errors["follow_up_on"] = _("The follow-up date cannot be before the start.")
        if start and self.evaluation_on and self.evaluation_on < start:
            errors["evaluation_on"] = _("The evaluation date cannot be before the start.")
        if start and self.period_end and self.period_end < start:
            errors["period_end"] = _("The period cannot end before it starts.")
        if self.kind == self.Kind.ACTION_PROGRAMME and not self.responsible_id:
            errors["responsible"] = _("An action programme must name who is responsible.")
        if self.decision and not self.decided_on:
            errors["decided_on"] = _("A decision needs its date.")
        if self.decided_on and not self.decision:
            errors["decision"] = _("Choose the decision the date belongs to.")
        if self.decision and self.kind not in self.DECIDED_KINDS:
            errors["decision"] = _("This kind of measure is not decided by the principal.")
        if self.decision == self.Decision.NOT_DRAWN_UP and self.kind != self.Kind.ACTION_PROGRAMME:
            errors["decision"] = _("Only an action programme can be decided not to be drawn up.")
        if errors:
            raise ValidationError(errors)


class Evaluation(ValidatedModel):
    """How a measure went (utvärdering): a judgement from figures, with the figures kept."""

    class Judgement(models.TextChoices):
        BETTER = "better", _("better")
        UNCHANGED = "unchanged", _("unchanged")
        WORSE = "worse", _("worse")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="evaluations")
    judgement = models.CharField(_("judgement"), max_length=10, choices=Judgement.choices)
    text = models.TextField(_("what the evaluation found"))
    evaluated_on = models.DateField(_("date"))
    by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Attendance and passed subjects before and after the start, as shown on the form.
    figures = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-evaluated_on", "-pk"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.measure} {self.evaluated_on}: {self.get_judgement_display()}"

    def clean(self) -> None:
        measure = getattr(self, "measure", None)
        if measure and self.evaluated_on and self.evaluated_on < measure.start:
            raise ValidationError(
                {"evaluated_on": _("A measure cannot be evaluated before it starts.")}
            )


class CaseEntry(models.Model):
    """One item of the case's timeline. Entries by student-health staff under professional
    secrecy (counsellor, psychologist, nurse, doctor) are visible only to the student-health
    team and the principal."""

    class Kind(models.TextChoices):
        LADDER_STEP = "ladder_step", _("ladder step")
        GUARDIAN_CONTACT = "guardian_contact", _("contact with guardians")
        MEETING = "meeting", _("meeting")
        MAPPING = "mapping", _("mapping")
        MEASURE = "measure", _("measure")
        DECISION = "decision", _("decision")
        EVALUATION = "evaluation", _("evaluation")
        NOTE = "note", _("note")
        EHT_MINUTES = "eht_minutes", _("student-health team minutes")
        STATUS = "status", _("case status")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    written_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    written_at = models.DateTimeField(default=clock.now)
    occurred_on = models.DateField(_("date"))
    text = models.TextField(_("text"))
    health_restricted = models.BooleanField(default=False)
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    mapping = models.ForeignKey(
        Mapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    ladder_task = models.ForeignKey(
        LadderTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Student-health team minutes: what was decided (who does what by when: AgreedAction).
    decision = models.TextField(_("decision"), blank=True)

    class Meta:
        ordering = ["-occurred_on", "-written_at", "-pk"]
        verbose_name = _("case entry")
        verbose_name_plural = _("case entries")
        indexes = [models.Index(fields=["case", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class AgreedAction(ValidatedModel):
    """Who does what by when, agreed at a meeting and recorded with its minutes."""

    entry = models.ForeignKey(CaseEntry, on_delete=models.CASCADE, related_name="actions")
    who = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="agreed_actions", verbose_name=_("who")
    )
    what = models.CharField(_("what"), max_length=300)
    due = models.DateField(_("by when"))
    done_on = models.DateField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["due", "pk"]
        verbose_name = _("agreed action")
        verbose_name_plural = _("agreed actions")
        indexes = [models.Index(fields=["who", "done_on", "due"])]

    def __str__(self) -> str:
        return f"{self.what} ({self.due})"
