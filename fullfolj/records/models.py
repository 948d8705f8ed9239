"""Retention periods per kind of data, what each retention run removed, and the register
extracts made (docs/records.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, Staff


class Kind(models.TextChoices):
    """The kinds of data with a retention period of their own."""

    LESSON_ATTENDANCE = "lesson_attendance", _("lesson attendance")
    GUARDIAN_NOTICES = "guardian_notices", _("guardian messages")
    SCREENING_FLAGS = "screening_flags", _("screening flags")
    CASES = "cases", _("closed support cases")
    HEALTH_ENTRIES = "health_entries", _("student-health entries")
    ACCESS_LOG = "access_log", _("access log")


# The shortest period (months) the law allows, where one applies: what the student-health
# team's counsellor, psychologist, nurse and doctor write is kept at least ten years after the
# last entry (patientdatalagen 3 kap. 17 §). A shorter period is saved but warned about.
LEGAL_MINIMUM_MONTHS = {Kind.HEALTH_ENTRIES.value: 120}


def months_field(kind: Kind, default: int | None) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        kind.label,
        null=True,
        blank=True,
        default=default,
        help_text=_("Months after which it is removed; empty keeps it."),
    )


class RetentionPolicy(models.Model):
    """An organiser's retention periods (from its records plan, dokumenthanteringsplan), in
    months; empty keeps that kind of data."""

    organiser = models.OneToOneField(
        Organiser, on_delete=models.CASCADE, related_name="retention_policy"
    )
    lesson_attendance = months_field(Kind.LESSON_ATTENDANCE, 36)
    guardian_notices = months_field(Kind.GUARDIAN_NOTICES, 24)
    screening_flags = months_field(Kind.SCREENING_FLAGS, 24)
    cases = months_field(Kind.CASES, None)
    health_entries = months_field(Kind.HEALTH_ENTRIES, None)
    access_log = months_field(Kind.ACCESS_LOG, 36)

    class Meta:
        verbose_name = _("retention periods")
        verbose_name_plural = _("retention periods")

    def __str__(self) -> str:
        return str(self.organiser)

    def months(self) -> dict[str, int | None]:
        return {kind.value: getattr(self, kind.value) for kind in Kind}

    def too_short(self) -> list[str]:
        """The kinds whose period is shorter than the law allows."""
        return [
            kind
            for kind, minimum in LEGAL_MINIMUM_MONTHS.items()
            if getattr(self, kind) is not None and getattr(self, kind) < minimum
        ]


class RetentionRun(models.Model):
    """One retention run: when, and how many rows of each kind it removed per organiser.

    Counts only, never what was removed."""

    ran_at = models.DateTimeField()
    as_of = models.DateField()
    # {organiser id: {kind: count}}
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-ran_at"]

    def total(self) -> int:
        return sum(sum(per.values()) for per in self.counts.values())


class Extract(models.Model):
    """A register extract made for a pupil: who made it, when, how."""

    class Channel(models.TextChoices):
        PAGE = "page", _("on the pupil page")
        COMMAND = "command", _("by the command line")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    made_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+")
    made_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    file_format = models.CharField(max_length=10)

    class Meta:
        ordering = ["-made_at"]
