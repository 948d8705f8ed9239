"""The access log: every read of a pupil record by staff (DOMAIN.md, Personal data)."""

from __future__ import annotations

from django.db import models

from fullfolj.schools.models import Pupil, Staff


class AccessLog(models.Model):
    """Who read which pupil's record, when, through which role and page."""

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    role = models.CharField(max_length=30)
    path = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["pupil", "at"])]
        ordering = ["-at"]
