"""Guardian notices (meddelande till vårdnadshavare): the outbox the background worker delivers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Guardian, Pupil


class Channel(models.TextChoices):
    EMAIL = "email", _("email")
    SMS = "sms", _("SMS")
    NONE = "none", _("no contact details")  # kept so the mentor sees the guardian


class Status(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")
    FAILED = "failed", _("failed")
    BOUNCED = "bounced", _("bounced")
    HELD = "held", _("not sent: contact the guardian yourself")  # protected identity, by rule


# Not yet decided: cancelled if the day's invalid absence is corrected before it goes out.
PENDING = (Status.SCHEDULED, Status.HELD)
# Notices that need the mentor: the guardian was not reached by the automatic message.
UNREACHED = (Status.FAILED, Status.BOUNCED, Status.HELD)
DETAIL = " | "  # separates an error's reason (a msgid) from the mail system's detail


class GuardianNotice(models.Model):
    """One message to one guardian about one pupil's invalid absence on one day.

    Skollagen 7 kap. 17 §: guardians are told the same day. The row is written in the same
    transaction as the register that caused it (a transactional outbox); the worker sends it at
    `send_after`, covering every invalid lesson of that day as they stand at send time.
    `claim_token`/`claimed_at` are the lease of the worker that is sending it (see actions.py).
    """

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="guardian_notices")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="notices")
    date = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    send_after = models.DateTimeField()
    error = models.CharField(max_length=300, blank=True)  # never holds the address itself
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    body = models.TextField(blank=True)  # what was sent, as evidence
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("guardian notice")
        verbose_name_plural = _("guardian notices")
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "guardian", "date"], name="one_notice_per_guardian_and_day"
            )
        ]
        indexes = [
            models.Index(fields=["status", "send_after"]),
            models.Index(fields=["pupil", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id}/{self.guardian_id} {self.date} {self.status}"

    @property
    def dedup_key(self) -> str:
        """Stable across retries: the receiving system can drop a second copy by it."""
        return f"fullfolj-notice-{self.pk}"

    @property
    def is_unreached(self) -> bool:
        return self.status in UNREACHED

    @property
    def error_display(self) -> str:
        """The reason in the reader's language: "reason | detail", the reason an English msgid."""
        reason, _sep, detail = self.error.partition(DETAIL)
        shown = gettext(reason) if reason else ""
        return f"{shown} ({detail})" if detail else shown
