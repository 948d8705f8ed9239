"""The handover (överlämning): what the sending school tells the receiving school about a pupil
who moves, in versions; a version the receiving school has read is never changed
(docs/handover.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fullfolj.lib import clock
from fullfolj.schools.models import Placement, Pupil, School, Staff


class Handover(models.Model):
    """A pupil's handover to the school of a coming placement (the move it is written for)."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="handovers")
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="handovers")
    sending_school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="handovers_out"
    )
    receiving_school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="handovers_in",
        verbose_name=_("receiving school"),
    )
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        constraints = [
            models.UniqueConstraint(fields=["placement"], name="one_handover_per_move"),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} → {self.receiving_school}"


class HandoverVersion(models.Model):
    """One version of a handover's content. A draft and a sent version nobody has read yet are
    edited in place; an edit after the receiving school has read it makes the next version."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SENT = "sent", pgettext_lazy("handover", "sent")

    TEXTS = (
        "what_worked",
        "adaptations",
        "attendance",
        "contacts",
        "pupil_words",
        "guardian_words",
    )

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # What the system knew when the version was last saved: measures with their evaluations,
    # adaptations, the attendance pattern and the contacts; shown as written.
    facts = models.JSONField(default=dict, blank=True)
    what_worked = models.TextField(_("what worked"), blank=True)
    adaptations = models.TextField(_("adaptations"), blank=True)
    attendance = models.TextField(_("attendance pattern"), blank=True)
    contacts = models.TextField(_("responsible contacts"), blank=True)
    pupil_words = models.TextField(_("in the pupil's own words"), blank=True)
    guardian_words = models.TextField(_("in the guardians' own words"), blank=True)
    written_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    edits = models.PositiveIntegerField(default=1)  # optimistic concurrency

    class Meta:
        ordering = ["handover", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "number"], name="one_handover_number"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(sent_at__isnull=False),
                name="handover_sent_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handover} v{self.number}"

    @property
    def is_sent(self) -> bool:
        return self.status == self.Status.SENT


class HandoverRead(models.Model):
    """Someone at the receiving school read a sent version (besides the access log, which
    records every read of pupil data): a read version is never changed."""

    version = models.ForeignKey(HandoverVersion, on_delete=models.CASCADE, related_name="reads")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=30)
    read_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["read_at", "pk"]
