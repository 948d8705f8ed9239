"""Lessons and lesson attendance (närvaro per lektion), and the per-day aggregates kept beside them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import (
    GroupMembership,
    Organiser,
    Pupil,
    Staff,
    Subject,
    TeachingGroup,
    Term,
    ValidatedModel,
)


class AbsenceReason(models.Model):
    """A reason code for absence: valid (giltig: illness, granted leave) or invalid (ogiltig)."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=100)
    is_valid = models.BooleanField()

    def __str__(self) -> str:
        return self.name


class Lesson(ValidatedModel):
    """One lesson of the timetable: a group, a subject, a teacher, a start and its minutes."""

    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE, related_name="lessons")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="lessons")
    teacher = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="lessons"
    )
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="lessons")
    date = models.DateField()
    start = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField()
    # Optimistic concurrency: each saved register bumps the version; a form loaded at an older
    # version is refused with what changed meanwhile (docs/absence.md).
    version = models.PositiveIntegerField(default=0)
    registered_at = models.DateTimeField(null=True, blank=True)  # the last save
    # The first save: a mark changed after it is a correction, one saved after the lesson's day
    # a late registration (lessons.lesson_state).
    first_registered_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["date", "group"]), models.Index(fields=["teacher", "date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gt=0) & Q(minutes__lte=300), name="lesson_minutes_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.group} {self.start:%Y-%m-%d %H:%M}"

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes)

    def members(self) -> QuerySet[Pupil]:
        """The group's pupils on the lesson's date: the register's rows."""
        return Pupil.objects.filter(
            pk__in=GroupMembership.objects.active_on(self.date)
            .filter(group_id=self.group_id)
            .values("pupil_id")
        )

    def clean(self) -> None:
        if self.minutes is not None and not 0 < self.minutes <= 300:
            raise ValidationError(
                {
                    "minutes": _("A lesson must last 1–300 minutes, not %(value)s.")
                    % {"value": self.minutes}
                }
            )


class LessonAttendance(ValidatedModel):
    """One pupil at one lesson: scheduled, absent and late minutes; valid or invalid absence."""

    # No index of their own: one_mark_per_lesson starts with the lesson and the (pupil, date)
    # index with the pupil, and each extra index is written for every imported mark.
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="attendance", db_index=False
    )
    pupil = models.ForeignKey(
        Pupil, on_delete=models.CASCADE, related_name="attendance", db_index=False
    )
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()  # the lesson's date, kept here so per-day sums need no join
    scheduled_minutes = models.PositiveSmallIntegerField()
    absent_minutes = models.PositiveSmallIntegerField(default=0)
    late_minutes = models.PositiveSmallIntegerField(default=0)
    # None while nobody has settled whether an absence was valid ("ej känt").
    is_valid = models.BooleanField(null=True, blank=True)
    reason = models.ForeignKey(
        AbsenceReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lesson", "pupil"], name="one_mark_per_lesson"),
            models.CheckConstraint(
                condition=Q(absent_minutes__lte=F("scheduled_minutes")),
                name="absence_within_lesson",
            ),
            models.CheckConstraint(
                condition=Q(late_minutes__lte=F("scheduled_minutes") - F("absent_minutes")),
                name="lateness_within_lesson",
            ),
        ]
        indexes = [
            models.Index(fields=["pupil", "date"]),
            # Absences waiting to be settled are few among millions of marks; the homes and
            # Att avgöra count them on every request.
            models.Index(
                fields=["pupil", "date"],
                condition=Q(absent_minutes__gt=0, is_valid__isnull=True),
                name="attendance_unsettled",
            ),
        ]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for field in ("scheduled_minutes", "absent_minutes", "late_minutes"):
            value = getattr(self, field)
            if value is not None and value < 0:
                errors[field] = _("%(field)s cannot be negative (%(value)s).") % {
                    "field": field,
                    "value": value,
                }
        if not errors and self.absent_minutes > self.scheduled_minutes:
            errors["absent_minutes"] = _(
                "Absence of %(absent)s minutes is longer than the lesson (%(scheduled)s minutes)."
            ) % {"absent": self.absent_minutes, "scheduled": self.scheduled_minutes}
        elif not errors and self.absent_minutes + self.late_minutes > self.scheduled_minutes:
            errors["late_minutes"] = _(
                "Late %(late)s minutes plus absent %(absent)s minutes exceed the lesson "
                "(%(scheduled)s minutes)."
            ) % {
                "late": self.late_minutes,
                "absent": self.absent_minutes,
                "scheduled": self.scheduled_minutes,
            }
        reason = self.reason if self.reason_id else None
        if reason and self.is_valid is not None and reason.is_valid != self.is_valid:
            errors["reason"] = _("Reason “%(reason)s” does not match valid=%(valid)s.") % {
                "reason": reason.code,
                "valid": self.is_valid,
            }
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict[str, Any]:
        """The mark as history keeps it: minutes, validity and the reason as it was named."""
        return {
            "absent_minutes": self.absent_minutes,
            "late_minutes": self.late_minutes,
            "is_valid": self.is_valid if self.absent_minutes else None,
            "reason": self.reason.code if self.reason_id and self.reason else None,
            "reason_name": self.reason.name if self.reason_id and self.reason else None,
        }


def describe_mark(mark: dict[str, Any] | None) -> str:
    """A mark snapshot in words: "Present", "Late 5 min", "Absent 60 min, valid (Sjukdom)"."""
    if mark is None:
        return str(_("Not registered"))
    parts = []
    if mark["absent_minutes"]:
        validity: str
        if mark["is_valid"] is None:
            validity = str(_("not yet known"))
        elif mark["is_valid"]:
            validity = str(_("valid"))
        else:
            validity = str(_("invalid"))
        if mark.get("reason_name"):
            validity = f"{validity} ({mark['reason_name']})"
        parts.append(
            _("absent %(minutes)s min, %(validity)s")
            % {"minutes": mark["absent_minutes"], "validity": validity}
        )
    if mark["late_minutes"]:
        parts.append(_("late %(minutes)s min") % {"minutes": mark["late_minutes"]})
    text = "; ".join(str(part) for part in parts) or str(_("present"))
    return text[:1].upper() + text[1:]


class AttendanceChange(models.Model):
    """One change of a pupil's mark at a lesson: who, when, old and new (ändringshistorik)."""

    attendance = models.ForeignKey(
        LessonAttendance, on_delete=models.CASCADE, related_name="changes"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveIntegerField()  # the lesson version this change produced
    changed_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    old = models.JSONField(null=True, blank=True)  # None: the pupil had no mark before
    new = models.JSONField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["lesson", "version"])]

    def __str__(self) -> str:
        return f"{self.attendance_id} v{self.version}: {self.old_text} → {self.new_text}"

    @property
    def old_text(self) -> str:
        return describe_mark(self.old)

    @property
    def new_text(self) -> str:
        return describe_mark(self.new)


# What a window's absence sums (attendance.queries), held in the covering indexes of the kept
# aggregates so that a municipality's window is read from the index alone.
WINDOW_SUMS = [
    "pupil",
    "scheduled_minutes",
    "absent_minutes",
    "valid_minutes",
    "invalid_minutes",
    "unknown_minutes",
]


class PupilDay(models.Model):
    """A pupil's attendance summed over one school day; kept in step with LessonAttendance.

    Screening, lists and charts read these instead of scanning lesson rows (one row per pupil and
    day instead of about six).
    """

    # Indexed by one_pupil_day, which starts with the pupil.
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="days", db_index=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    lessons = models.PositiveSmallIntegerField(default=0)
    scheduled_minutes = models.PositiveIntegerField(default=0)
    absent_minutes = models.PositiveIntegerField(default=0)
    valid_minutes = models.PositiveIntegerField(default=0)
    invalid_minutes = models.PositiveIntegerField(default=0)
    unknown_minutes = models.PositiveIntegerField(default=0)  # absence not yet settled
    late_minutes = models.PositiveIntegerField(default=0)
    late_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pupil", "date"], name="one_pupil_day")]
        # A municipality's figures over a window sum a few columns of every pupil's days: on
        # PostgreSQL this index holds them, so those reads never visit the table (at 20,000
        # pupils the officer's home read half a million rows' pages). SQLite ignores INCLUDE.
        indexes = [
            models.Index(
                fields=["date"],
                include=WINDOW_SUMS,
                name="pupilday_date_sums",
            )
        ]

    @property
    def is_whole_day_absent(self) -> bool:
        return self.scheduled_minutes > 0 and self.absent_minutes >= self.scheduled_minutes


class PeriodSums(models.Model):
    """PupilDay's figures summed over a longer period, and how many days went into them."""

    days = models.PositiveSmallIntegerField(default=0)  # PupilDay rows summed
    lessons = models.PositiveIntegerField(default=0)
    scheduled_minutes = models.PositiveIntegerField(default=0)
    absent_minutes = models.PositiveIntegerField(default=0)
    valid_minutes = models.PositiveIntegerField(default=0)
    invalid_minutes = models.PositiveIntegerField(default=0)
    unknown_minutes = models.PositiveIntegerField(default=0)
    late_minutes = models.PositiveIntegerField(default=0)
    late_count = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class PupilMonth(PeriodSums):
    """A pupil's attendance summed over one calendar month: PupilDay's rows of the month, summed.

    Kept in step with PupilDay on every path that writes it (store.refresh_pupil_periods), so
    the dashboards read a term as a few rows per pupil instead of a hundred days.
    """

    # Indexed by one_pupil_month, which starts with the pupil.
    pupil = models.ForeignKey(
        Pupil, on_delete=models.CASCADE, related_name="months", db_index=False
    )
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()  # the month's first day

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pupil", "month"], name="one_pupil_month")]
        indexes = [models.Index(fields=["month"])]


class PupilWeek(PeriodSums):
    """A pupil's attendance summed over one ISO week (Monday to Sunday), kept like PupilMonth.

    The officer's four weeks and the edges of a term that cut a month read a week as one row
    per pupil instead of five days.
    """

    # Indexed by one_pupil_week, which starts with the pupil.
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="weeks", db_index=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    week = models.DateField()  # the ISO week's Monday

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pupil", "week"], name="one_pupil_week")]
        # As PupilDay's pupilday_date_sums: a municipality's weeks read from the index alone.
        indexes = [
            models.Index(
                fields=["week"],
                include=WINDOW_SUMS,
                name="pupilweek_week_sums",
            )
        ]


class PupilSubjectWeek(models.Model):
    """A pupil's attendance in one subject summed over one ISO week; kept in step like PupilDay.

    Screening reads these for subject concentration (absence in one subject far above the
    pupil's own rate, docs/absence.md) without scanning lesson rows.
    """

    # Indexed by one_pupil_subject_week, which starts with the pupil.
    pupil = models.ForeignKey(
        Pupil, on_delete=models.CASCADE, related_name="subject_weeks", db_index=False
    )
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()  # the ISO week's Monday
    scheduled_minutes = models.PositiveIntegerField(default=0)
    absent_minutes = models.PositiveIntegerField(default=0)
    invalid_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "subject", "week"], name="one_pupil_subject_week"
            )
        ]
        indexes = [models.Index(fields=["week"])]
