"""The absence ladder (frånvarotrappa): the municipality's steps, their triggers, and the dated
tasks opened when a step triggers for a pupil, each closed only by documenting what was done."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, School, Staff


class Actor(models.TextChoices):
    """Who acts on a step."""

    MENTOR = "mentor", _("mentor")
    PRINCIPAL = "principal", _("principal")
    STUDENT_HEALTH = "student_health", _("student health team")


class LadderStep(models.Model):
    """One step of the ladder (trappsteg): what to do, who does it, by when."""

    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, null=True, blank=True, related_name="ladder_steps",
        help_text=_("Empty: the step applies to pupils of every organiser."),
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("what to do"), blank=True)
    actor = models.CharField(_("who acts"), max_length=20, choices=Actor.choices)
    deadline_days = models.PositiveSmallIntegerField(_("deadline (days)"), default=7)
    repeat_after_days = models.PositiveSmallIntegerField(
        _("open again after (days)"), default=30,
        help_text=_("A step that triggered opens a new task at the earliest this many days later."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("ladder step")

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class LadderTrigger(models.Model):
    """A condition on attendance indicators; a step triggers when any of its triggers holds."""

    class Kind(models.TextChoices):
        RATE = "rate", _("absence rate over a window")
        INVALID_DAYS = "invalid_days", _("days with invalid absence over a window")
        CONSECUTIVE_DAYS = "consecutive_days", _("consecutive whole days absent")
        NO_IMPROVEMENT = "no_improvement", _("no improvement after the previous step")

    step = models.ForeignKey(LadderStep, on_delete=models.CASCADE, related_name="triggers")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    window_days = models.PositiveSmallIntegerField(_("window (calendar days)"), default=28)
    threshold = models.DecimalField(
        _("threshold"), max_digits=6, decimal_places=1,
        help_text=_("Percent for rates; a number of days otherwise."),
    )
    invalid_only = models.BooleanField(_("invalid absence only"), default=False)
    weeks_after_previous = models.PositiveSmallIntegerField(
        _("weeks after the previous step"), default=3
    )

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        which = _("invalid") if self.invalid_only else _("total")
        if self.kind == self.Kind.RATE:
            return str(_("%(which)s absence at least %(value)s %% over %(days)s days")
                       % {"which": which, "value": self.threshold, "days": self.window_days})
        if self.kind == self.Kind.INVALID_DAYS:
            return str(_("at least %(value)s days with invalid absence over %(days)s days")
                       % {"value": int(self.threshold), "days": self.window_days})
        if self.kind == self.Kind.CONSECUTIVE_DAYS:
            return str(_("at least %(value)s whole days absent in a row")
                       % {"value": int(self.threshold)})
        return str(_("%(which)s absence still at least %(value)s %% over %(days)s days, "
                     "%(weeks)s weeks after the previous step")
                   % {"which": which, "value": self.threshold, "days": self.window_days,
                      "weeks": self.weeks_after_previous})

    def clean(self) -> None:
        if self.threshold is not None and self.threshold <= 0:
            raise ValidationError({"threshold": _("The threshold must be above zero.")})
        if self.window_days is not None and not 1 <= self.window_days <= 366:
            raise ValidationError({"window_days": _("The window must be 1–366 days.")})


class LadderTaskQuerySet(models.QuerySet["LadderTask"]):
    def open(self) -> LadderTaskQuerySet:
        return self.filter(closed_at__isnull=True)

    def overdue(self, today: dt.date) -> LadderTaskQuerySet:
        return self.open().filter(due__lt=today)


class LadderTask(models.Model):
    """A step that triggered for a pupil: a dated task for the responsible person."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="ladder_tasks")
    step = models.ForeignKey(LadderStep, on_delete=models.PROTECT, related_name="tasks")
    school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    actor = models.CharField(max_length=20, choices=Actor.choices)
    assignee = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="ladder_tasks")
    opened_on = models.DateField()
    due = models.DateField()
    reason = models.CharField(max_length=300)  # why the step triggered, in indicator terms
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    objects = LadderTaskQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "step"], condition=Q(closed_at__isnull=True),
                name="one_open_task_per_pupil_and_step",
            )
        ]
        indexes = [models.Index(fields=["pupil", "opened_on"]),
                   models.Index(fields=["assignee", "closed_at"])]

    def __str__(self) -> str:
        return f"{self.step} – {self.pupil_id} ({self.opened_on})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def is_overdue_on(self, today: dt.date) -> bool:
        return self.is_open and self.due < today


class LadderRecord(models.Model):
    """What was done on a task (dokumentation): a contact, a meeting or a decision, dated."""

    class Kind(models.TextChoices):
        CONTACT = "contact", _("contact")
        MEETING = "meeting", _("meeting")
        DECISION = "decision", _("decision")

    task = models.ForeignKey(LadderTask, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(_("what was done"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("date"))
    text = models.TextField(_("documentation"))
    by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "pk"]
