"""The access log: every read of a pupil record by staff (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from django.db import models

from fullfolj.schools.models import Pupil, Role, Staff

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
