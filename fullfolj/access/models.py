"""The access log: every read of a pupil record by staff; and which student-health data asks
for a second factor (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, Role, Staff

ROLE_NAMES = dict(Role.choices)


class AccessLogIsAppendOnly(Exception):
    """An attempt to rewrite or remove evidence of who read a pupil's record."""


class AccessLog(models.Model):
    """Who read which pupil's record, when, through which role and page.

    Append-only: a row once written is never changed, and removed only on purpose
    (`delete(erase=True)`, which only the superuser's admin page calls).
    """

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    role = models.CharField(max_length=30)
    path = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["pupil", "at"])]
        ordering = ["-at"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AccessLogIsAppendOnly(f"Access log row {self.pk} cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, erase: bool = False, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if not erase:
            raise AccessLogIsAppendOnly(f"Access log row {self.pk} cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def role_name(self) -> str:
        """The role in words; a role no longer offered keeps its code."""
        return str(ROLE_NAMES.get(self.role, self.role))


class SecondFactorKind(models.TextChoices):
    """The kinds of student-health data a second factor can guard."""

    HEALTH_ENTRIES = "health_entries", _("student-health entries")
    INVESTIGATIONS = "investigations", _("the student-health team's investigation records")
    MAPPING_HEALTH = "mapping_health", _("the health section of mappings")


def requirement_field(kind: SecondFactorKind, default: bool) -> models.BooleanField:
    return models.BooleanField(
        kind.label,
        default=default,
        help_text=_("Reading it asks for a second factor (a code, or the identity provider's)."),
    )


class SecondFactorRequirement(models.Model):
    """Which kinds of student-health data an organiser's staff read only after a second factor
    (tvåstegsverifiering). An organiser without a row has the defaults: entries and
    investigations guarded, as Swedish support-documentation systems are expected to be."""

    organiser = models.OneToOneField(
        Organiser, on_delete=models.CASCADE, related_name="second_factor_requirement"
    )
    health_entries = requirement_field(SecondFactorKind.HEALTH_ENTRIES, True)
    investigations = requirement_field(SecondFactorKind.INVESTIGATIONS, True)
    mapping_health = requirement_field(SecondFactorKind.MAPPING_HEALTH, False)

    class Meta:
        verbose_name = _("second-factor requirement")
        verbose_name_plural = _("second-factor requirements")

    def __str__(self) -> str:
        return str(self.organiser)

    def requires(self, kind: str) -> bool:
        return bool(getattr(self, kind))
