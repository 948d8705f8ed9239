"""Writes to the guardian-notice outbox: schedule and cancel, claim, send, record the outcome.

The guarantee (issue 4): at most one notice row per pupil, guardian and day (a unique
constraint), and exactly one of them is recorded as sent. Delivery to the email or SMS backend
is at-least-once with a dedup key; in detail:

1. `schedule_for_days` writes the rows in the register's own transaction (transactional outbox):
   a committed invalid absence always has its notice row, a rolled-back one never has.
2. `claim_due` moves due rows from scheduled to sending in one short transaction, stamping a
   fresh claim token and the time. On PostgreSQL the rows are picked with
   `SELECT … FOR UPDATE SKIP LOCKED`, so two workers never claim the same row; on SQLite the
   transaction starts IMMEDIATE (settings), which serialises claims.
3. The worker sends each claimed row outside any transaction, then records the outcome with an
   UPDATE guarded by its claim token: only the claimant can mark the row sent or failed.
4. A worker killed between claim and send leaves rows in sending. Once the lease
   (FULLFOLJ_NOTICE_LEASE_SECONDS) has passed, any worker may claim them again. Before
   resending, it asks the channel whether the dedup key was already delivered (an SMS gateway
   can tell; SMTP cannot). If the first worker died after the backend accepted the message but
   before step 3, the message goes out a second time with the same dedup key (email
   Message-ID, SMS client reference), which lets the receiving side drop the copy. The outbox
   still records exactly one sent row. A send that takes longer than the lease can also be
   doubled this way, so the lease is set far above the backends' timeouts.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from fullfolj.attendance.models import LessonAttendance
from fullfolj.lib import clock
from fullfolj.schools.models import Guardianship, Placement

from .channels import OutgoingMessage, Undeliverable, sender_for
from .models import Channel, GuardianNotice, Status

logger = logging.getLogger("fullfolj.notices")


def _setting(name: str, default: object) -> object:
    return getattr(settings, name, default)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(_setting("FULLFOLJ_NOTICE_LEASE_SECONDS", 300)))  # type: ignore[call-overload]


def send_time(day: dt.date, last_end: dt.datetime, *, now: dt.datetime) -> dt.datetime:
    """When the notice for a day goes out: the configured rule, never sooner than a grace period.

    FULLFOLJ_NOTICE_SEND_AT ("15:30") sends at a fixed time at the end of the school day (or at
    the last invalid lesson's end, if later); otherwise FULLFOLJ_NOTICE_DELAY_MINUTES after the
    last invalid lesson. Every change of the pupil's marks that day leaves at least
    FULLFOLJ_NOTICE_GRACE_MINUTES for corrections: a wrong message is worse than a late one.
    """
    fixed = str(_setting("FULLFOLJ_NOTICE_SEND_AT", "") or "")
    if fixed:
        hour, minute = (int(part) for part in fixed.split(":"))
        rule = max(timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute))), last_end)
    else:
        rule = last_end + dt.timedelta(minutes=int(_setting("FULLFOLJ_NOTICE_DELAY_MINUTES", 30)))  # type: ignore[call-overload]
    grace = dt.timedelta(minutes=int(_setting("FULLFOLJ_NOTICE_GRACE_MINUTES", 5)))  # type: ignore[call-overload]
    return max(rule, now + grace)


def is_invalid(mark: dict[str, object] | None) -> bool:
    """Whether a mark snapshot (LessonAttendance.snapshot) is an invalid absence."""
    return bool(mark and mark["absent_minutes"] and mark["is_valid"] is False)


def schedule_for_days(pairs: Iterable[tuple[int, dt.date]]) -> list[dt.datetime]:
    """Schedule, move or cancel the notices of these (pupil, day) pairs; return new send times.

    Call inside the transaction that changed the pupils' marks. Each guardian with an email
    address (else a phone number) gets one notice per pupil and day; a day left without invalid
    absence has its scheduled notices cancelled. Notices already sent or being sent stay.
    """
    pairs = set(pairs)
    if not pairs:
        return []
    now = clock.now()
    pupils = {pupil for pupil, _day in pairs}
    days = {day for _pupil, day in pairs}
    last_end: dict[tuple[int, dt.date], dt.datetime] = {}
    invalid = LessonAttendance.objects.filter(
        pupil_id__in=pupils, date__in=days, is_valid=False, absent_minutes__gt=0
    ).values_list("pupil_id", "date", "lesson__start", "lesson__minutes")
    for pupil, day, start, minutes in invalid:
        if (pupil, day) in pairs:
            end = start + dt.timedelta(minutes=minutes)
            last_end[pupil, day] = max(end, last_end.get((pupil, day), end))
    existing = {
        (n.pupil_id, n.guardian_id, n.date): n
        for n in GuardianNotice.objects.filter(pupil_id__in=pupils, date__in=days).only(
            "pk", "pupil_id", "guardian_id", "date", "status", "send_after"
        )
    }
    contacts: dict[int, list[tuple[int, str]]] = {}
    if last_end:
        rows = Guardianship.objects.filter(
            pupil_id__in={pupil for pupil, _day in last_end}
        ).values_list("pupil_id", "guardian_id", "guardian__email", "guardian__phone")
        for pupil, guardian, email, phone in rows:
            if email.strip():
                contacts.setdefault(pupil, []).append((guardian, Channel.EMAIL))
            elif phone.strip():
                contacts.setdefault(pupil, []).append((guardian, Channel.SMS))
    created: list[GuardianNotice] = []
    moved: list[GuardianNotice] = []
    times: list[dt.datetime] = []
    for (pupil, day), end in last_end.items():
        when = send_time(day, end, now=now)
        for guardian, channel in contacts.get(pupil, []):
            notice = existing.get((pupil, guardian, day))
            if notice is None:
                created.append(GuardianNotice(pupil_id=pupil, guardian_id=guardian, date=day,
                                              channel=channel, send_after=when))
            elif notice.status in (Status.SCHEDULED, Status.CANCELLED):
                notice.status, notice.send_after, notice.channel = Status.SCHEDULED, when, channel
                moved.append(notice)
            else:
                continue
            times.append(when)
    cancelled = [
        n.pk for key, n in existing.items()
        if (key[0], key[2]) in pairs and (key[0], key[2]) not in last_end
        and n.status == Status.SCHEDULED
    ]
    GuardianNotice.objects.bulk_create(created, ignore_conflicts=True)
    if moved:
        GuardianNotice.objects.bulk_update(moved, ["status", "send_after", "channel"])
    if cancelled:
        GuardianNotice.objects.filter(pk__in=cancelled, status=Status.SCHEDULED).update(
            status=Status.CANCELLED, updated_at=timezone.now()
        )
    return times


def claim_due(*, limit: int = 50) -> tuple[uuid.UUID, list[int]]:
    """Claim up to `limit` due notices for this worker: scheduled and due, or a lapsed lease."""
    now = clock.now()
    token = uuid.uuid4()
    with transaction.atomic():
        due = (
            GuardianNotice.objects.select_for_update(skip_locked=True)
            .filter(Q(status=Status.SCHEDULED, send_after__lte=now)
                    | Q(status=Status.SENDING, claimed_at__lt=now - lease()))
            .order_by("send_after", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(due)
        if ids:
            GuardianNotice.objects.filter(pk__in=ids).update(
                status=Status.SENDING, claim_token=token, claimed_at=now,
                attempts=F("attempts") + 1, updated_at=timezone.now(),
            )
    return token, ids


def _finish(notice: GuardianNotice, token: uuid.UUID, status: str, **fields: object) -> bool:
    """Record an outcome if this worker still holds the claim; False if it lost it."""
    done = GuardianNotice.objects.filter(
        pk=notice.pk, claim_token=token, status=Status.SENDING
    ).update(status=status, updated_at=timezone.now(), **fields)
    if not done:
        logger.warning("notice %s: claim lost before recording %s", notice.pk, status)
    return bool(done)


def compose(notice: GuardianNotice) -> OutgoingMessage | None:
    """The Swedish message for a notice, from the day's invalid lessons as they stand now.

    None when nothing invalid is left (the absence was corrected). Protected identity
    (DOMAIN.md, Personal data): the message names no school, group or address, for any pupil;
    each guardian gets their own message, never a copy to or a word about another guardian.
    """
    marks = list(
        LessonAttendance.objects.filter(
            pupil_id=notice.pupil_id, date=notice.date, is_valid=False, absent_minutes__gt=0
        ).select_related("lesson__subject").order_by("lesson__start")
    )
    if not marks:
        return None
    pupil, guardian = notice.pupil, notice.guardian
    school = None
    if not pupil.protected_identity:
        placement = (Placement.objects.active_on(notice.date).filter(pupil=pupil)
                     .select_related("school").first())
        school = placement.school.name if placement else None
    with translation.override("sv"):
        lessons = [
            {
                "subject": mark.lesson.subject.name,
                "start": timezone.localtime(mark.lesson.start).strftime("%H:%M"),
                "end": timezone.localtime(mark.lesson.end).strftime("%H:%M"),
                "minutes": mark.absent_minutes,
                "whole": mark.absent_minutes >= mark.scheduled_minutes,
            }
            for mark in marks
        ]
        context = {"pupil_first_name": pupil.first_name, "day": date_format(notice.date, "l j F"),
                   "lessons": lessons, "school": school}
        body = render_to_string("notices/guardian_message.txt", context).strip() + "\n"
        subject = f"Ogiltig frånvaro {date_format(notice.date, 'j F')}: {pupil.first_name}"
    to = guardian.email if notice.channel == Channel.EMAIL else guardian.phone
    return OutgoingMessage(to=to.strip(), subject=subject, body=body, key=notice.dedup_key)


def _send_one(notice: GuardianNotice, token: uuid.UUID, *, recovered: bool) -> str:
    message = compose(notice)
    if message is None:
        _finish(notice, token, Status.CANCELLED)
        return Status.CANCELLED
    sender = sender_for(notice.channel)
    if recovered and sender.delivered(message.key):
        _finish(notice, token, Status.SENT, sent_at=clock.now(), body=message.body, error="")
        return Status.SENT
    try:
        sender.send(message)
    except Undeliverable as error:
        _finish(notice, token, Status.FAILED, error=str(error)[:300])
        return Status.FAILED
    except Exception as error:  # transient: the backend or the network; try again later
        logger.warning("notice %s: attempt %s failed: %s", notice.pk, notice.attempts, error)
        if notice.attempts >= int(_setting("FULLFOLJ_NOTICE_MAX_ATTEMPTS", 5)):  # type: ignore[call-overload]
            _finish(notice, token, Status.FAILED,
                    error=f"gave up after {notice.attempts} attempts: {type(error).__name__}")
            return Status.FAILED
        retry = clock.now() + dt.timedelta(minutes=5 * notice.attempts)
        _finish(notice, token, Status.SCHEDULED, send_after=retry,
                error=f"attempt {notice.attempts}: {type(error).__name__}")
        return Status.SCHEDULED
    _finish(notice, token, Status.SENT, sent_at=clock.now(), body=message.body, error="")
    return Status.SENT


@dataclass
class Delivery:
    """What one delivery run did, by outcome."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def sent(self) -> int:
        return self.counts.get(Status.SENT, 0)


def send_claimed(token: uuid.UUID, ids: list[int], delivery: Delivery | None = None) -> Delivery:
    """Send the notices this worker claimed with `token`, recording each outcome."""
    delivery = delivery or Delivery()
    notices = GuardianNotice.objects.filter(pk__in=ids, claim_token=token).select_related(
        "pupil", "guardian"
    )
    for notice in notices:
        recovered = notice.attempts > 1
        delivery.add(_send_one(notice, token, recovered=recovered))
    return delivery


def deliver_due(*, batch: int = 50, max_batches: int = 100) -> Delivery:
    """Claim and send due notices, batch by batch, until none are due."""
    delivery = Delivery()
    for _ in range(max_batches):
        token, ids = claim_due(limit=batch)
        if not ids:
            break
        send_claimed(token, ids, delivery)
    return delivery


def next_wakeup() -> dt.datetime | None:
    """The earliest time a worker has something to do: a due notice or a lease running out."""
    sums = GuardianNotice.objects.aggregate(
        due=Min("send_after", filter=Q(status=Status.SCHEDULED)),
        lapse=Min("claimed_at", filter=Q(status=Status.SENDING)),
    )
    times = [sums["due"]] if sums["due"] else []
    if sums["lapse"]:
        times.append(sums["lapse"] + lease() + dt.timedelta(seconds=1))
    return min(times) if times else None


def record_bounce(notice: GuardianNotice, *, reason: str) -> None:
    """A sent notice came back (a bounce report): mark it so the mentor sees the guardian."""
    GuardianNotice.objects.filter(pk=notice.pk).update(
        status=Status.BOUNCED, error=reason[:300], updated_at=timezone.now()
    )
