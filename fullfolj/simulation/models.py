"""The simulator's ground truth, kept apart from the product's tables.

No product code reads this table: it exists so screening can be measured against what the
simulator really did (which pupils it made escalate, and from when).
"""

from __future__ import annotations

from django.db import models


class SimulatedTruth(models.Model):
    pupil_id = models.BigIntegerField(primary_key=True)  # not a foreign key: stays apart
    base_absence_rate = models.FloatField()
    invalid_share = models.FloatField()
    escalates = models.BooleanField()
    escalation_start = models.DateField(null=True)
    escalation_crossing = models.DateField(null=True)
