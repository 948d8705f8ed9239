"""The absence ladder (frånvarotrappa): the municipality's steps, their triggers, and the dated
tasks opened when a step triggers for a pupil, each closed only by documenting what was done."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, School, Staff, ValidatedModel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Actor(models.TextChoices):
    """Who acts on a step."""

    MENTOR = "mentor", _("mentor")
    PRINCIPAL = "principal", _("principal")
    STUDENT_HEALTH = "student_health", _("student health team")


STREAK_MAX_DAYS = 60  # the longest run of whole days absent the evaluation counts


class LadderStep(ValidatedModel):
    """One step of the ladder (trappsteg): what to do, who does it, by when.

    Steps with an organiser form that organiser's ladder; steps without one form the default
    ladder, used by every organiser that has no steps of its own.
    """

    organiser = models.ForeignKey(
        Organiser,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ladder_steps",
        verbose_name=_("organiser"),
        help_text=_("Empty: the default ladder, for organisers without steps of their own."),
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("what to do"), blank=True)
    actor = models.CharField(_("who acts"), max_length=20, choices=Actor.choices)
    deadline_days = models.PositiveSmallIntegerField(
        _("deadline (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Calendar days from the day the step opens to the day it must be done."),
    )
    repeat_after_days = models.PositiveSmallIntegerField(
        _("current for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "After it opens, the step stays the pupil's current step this many days "
            "(longer while its task is open); it can open again only after that."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organiser_id", "order", "pk"]
        verbose_name = _("ladder step")
        verbose_name_plural = _("ladder steps")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.order}. {self.name}"

    def same_ladder(self) -> models.QuerySet[LadderStep]:
        """The other active steps of this step's ladder."""
        return LadderStep.objects.filter(organiser=self.organiser_id, is_active=True).exclude(
            pk=self.pk
        )

    def previous(self) -> LadderStep | None:
        """The active step just below this one in its ladder."""
        if self.order is None:
            return None
        return self.same_ladder().filter(order__lt=self.order).order_by("-order", "-pk").first()

    def next(self) -> LadderStep | None:
        if self.order is None:
            return None
        return self.same_ladder().filter(order__gt=self.order).order_by("order", "pk").first()

    def clean(self) -> None:
        if self.order is None:
            return
        clash = self.same_ladder().filter(order=self.order).first()
        if clash and self.is_active:
            raise ValidationError(
                {
                    "order": _(
                        "Step %(order)s already exists in this ladder: “%(name)s”. Give each step its "
                        "own number."
                    )
                    % {"order": self.order, "name": clash.name}
                }
            )
        if not self.pk or not self.is_active:
            return
        if (
            self.previous() is None
            and self.triggers.filter(kind=LadderTrigger.Kind.NO_IMPROVEMENT).exists()
        ):
            raise ValidationError(
                {
                    "order": _(
                        "Step %(order)s has a “no improvement” trigger but no step before it in the "
                        "ladder."
                    )
                    % {"order": self.order}
                }
            )
        following = self.next()
        if following:
            waits = following.triggers.filter(kind=LadderTrigger.Kind.NO_IMPROVEMENT)
            longest = max((t.weeks_after_previous for t in waits), default=0)
            if longest * 7 > (self.repeat_after_days or 0):
                raise ValidationError(
                    {
                        "repeat_after_days": _(
                            "The next step, “%(next)s”, waits %(weeks)s weeks after this one: this step "
                            "must stay current at least %(days)s days."
                        )
                        % {"next": following.label, "weeks": longest, "days": longest * 7}
                    }
                )


class LadderTrigger(ValidatedModel):
    """A condition on attendance indicators; a step triggers when any of its triggers holds."""

    class Kind(models.TextChoices):
        RATE = "rate", _("absence rate over a window")
        INVALID_DAYS = "invalid_days", _("days with invalid absence over a window")
        CONSECUTIVE_DAYS = "consecutive_days", _("consecutive whole days absent")
        NO_IMPROVEMENT = "no_improvement", _("no improvement after the previous step")

    step = models.ForeignKey(
        LadderStep, on_delete=models.CASCADE, related_name="triggers", verbose_name=_("ladder step")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    window_days = models.PositiveSmallIntegerField(
        _("window (calendar days)"),
        default=28,
        help_text=_(
            "The days up to today the indicator is summed over; not used for days in a row."
        ),
    )
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=6,
        decimal_places=1,
        help_text=_("Percent for rates; a number of days otherwise."),
    )
    invalid_only = models.BooleanField(
        _("invalid absence only"),
        default=False,
        help_text=_("For rates: count only invalid absence."),
    )
    weeks_after_previous = models.PositiveSmallIntegerField(
        _("weeks after the previous step"),
        default=3,
        help_text=_("For “no improvement”: how long after the step below opened."),
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """The trigger in words, e.g. "total absence at least 10 % over 28 days"."""
        which = _("invalid") if self.invalid_only else _("total")
        threshold = self.threshold
        value = (
            number_format(int(threshold) if threshold == int(threshold) else threshold)
            if threshold is not None
            else None
        )
        if self.kind == self.Kind.RATE:
            return str(
                _("%(which)s absence at least %(value)s %% over %(days)s days")
                % {"which": which, "value": value, "days": self.window_days}
            )
        if self.kind == self.Kind.INVALID_DAYS:
            return str(
                _("at least %(value)s days with invalid absence over %(days)s days")
                % {"value": int(self.threshold), "days": self.window_days}
            )
        if self.kind == self.Kind.CONSECUTIVE_DAYS:
            return str(
                _("at least %(value)s whole days absent in a row") % {"value": int(self.threshold)}
            )
        return str(
            _(
                "%(which)s absence still at least %(value)s %% over %(days)s days, "
                "%(weeks)s weeks after the previous step"
            )
            % {
                "which": which,
                "value": value,
                "days": self.window_days,
                "weeks": self.weeks_after_previous,
            }
        )

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        kind, threshold = self.kind, self.threshold
        is_rate = kind in (self.Kind.RATE, self.Kind.NO_IMPROVEMENT)
        if threshold is not None:
            if threshold <= 0:
                errors["threshold"] = _("The threshold must be above zero.")
            elif is_rate and threshold > 100:
                errors["threshold"] = _("A rate is a percentage: at most 100.")
            elif not is_rate and threshold != int(threshold):
                errors["threshold"] = _("A number of days must be a whole number.")
            elif kind == self.Kind.CONSECUTIVE_DAYS and threshold > STREAK_MAX_DAYS:
                errors["threshold"] = _("At most %(max)s days in a row are counted.") % {
                    "max": STREAK_MAX_DAYS
                }
        if (
            kind != self.Kind.CONSECUTIVE_DAYS
            and self.window_days is not None
            and not (1 <= self.window_days <= 366)
        ):
            errors["window_days"] = _("The window must be 1–366 days.")
        elif (
            kind == self.Kind.INVALID_DAYS
            and threshold is not None
            and self.window_days
            and threshold > self.window_days
        ):
            errors["threshold"] = _("More days than the window holds (%(days)s).") % {
                "days": self.window_days
            }
        try:
            step = self.step  # in the admin, the step being edited, perhaps not yet saved
        except LadderStep.DoesNotExist:
            step = None
        if kind == self.Kind.NO_IMPROVEMENT and step is not None:
            errors.update(self._check_previous(step))
        if errors:
            raise ValidationError(errors)

    def _check_previous(self, step: LadderStep) -> dict[str, StrOrPromise]:
        weeks = self.weeks_after_previous or 0
        if weeks < 1:
            return {"weeks_after_previous": _("Give at least one week.")}
        previous = step.previous()
        if previous is None:
            return {
                "kind": _(
                    "“No improvement” needs a step before this one in the ladder; "
                    "step %(order)s is the first."
                )
                % {"order": step.order}
            }
        if weeks * 7 > previous.repeat_after_days:
            return {
                "weeks_after_previous": _(
                    "The previous step, “%(previous)s”, stays current %(days)s days: %(weeks)s "
                    "weeks after it would never come. Shorten the wait or lengthen that step."
                )
                % {"previous": previous.label, "days": previous.repeat_after_days, "weeks": weeks}
            }
        return {}


class LadderTaskQuerySet(models.QuerySet["LadderTask"]):
    def open(self) -> LadderTaskQuerySet:
        return self.filter(closed_at__isnull=True)

    def overdue(self, today: dt.date) -> LadderTaskQuerySet:
        return self.open().filter(due__lt=today)


class LadderTask(models.Model):
    """A step that triggered for a pupil: a dated task for the responsible person."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="ladder_tasks")
    step = models.ForeignKey(LadderStep, on_delete=models.PROTECT, related_name="tasks")
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(max_length=20, choices=Actor.choices)
    assignee = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="ladder_tasks"
    )
    opened_on = models.DateField()
    due = models.DateField()
    reason = models.CharField(max_length=300)  # why the step triggered, in indicator terms
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = LadderTaskQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "step"],
                condition=Q(closed_at__isnull=True),
                name="one_open_task_per_pupil_and_step",
            ),
            # Re-running the day's evaluation opens nothing twice, even after a quick close.
            models.UniqueConstraint(
                fields=["pupil", "step", "opened_on"], name="one_task_per_pupil_step_and_day"
            ),
        ]
        indexes = [
            models.Index(fields=["pupil", "opened_on"]),
            models.Index(fields=["assignee", "closed_at"]),
        ]

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
