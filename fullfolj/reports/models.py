"""Saved lists of pupils for the evaluation report, and regions that see organisers' aggregates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, School, Staff


class Cohort(models.Model):
    """A saved list of pupils a project follows (elever i riskzon at a date), for evaluation.

    Made from a screening run's flagged pupils or by hand; the report reads it between two terms.
    """

    name = models.CharField(_("name"), max_length=200)
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )  # empty: the organiser's list
    chosen_on = models.DateField(_("chosen on"))
    pupils = models.ManyToManyField(Pupil, related_name="+")
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-chosen_on", "name"]
        verbose_name = _("saved list of pupils")
        verbose_name_plural = _("saved lists of pupils")

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """An association of municipalities (as Göteborgsregionen) that sees its members' figures
    side by side: aggregates only, for the organisers that agreed to share with it."""

    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(Organiser, through="RegionMember", related_name="+")
    analysts = models.ManyToManyField(Staff, related_name="+", blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class RegionMember(models.Model):
    """An organiser in a region; `shares` is its consent to show its aggregates there."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    shares = models.BooleanField(_("shares its figures"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "organiser"], name="one_region_membership")
        ]
