"""Writes to the guardian-notice outbox: schedule and cancel, claim, send, record the outcome.

The guarantee: at most one notice row per pupil, guardian and day (a unique
constraint), and exactly one of them is recorded as sent. The backend gets each message once,
whatever worker is killed, runs alongside or loses its database, but for one window (4., 5.)
where a channel that cannot say what it delivered gets a second copy with the same dedup key.
In detail:

1. `schedule_for_days` writes the rows in the register's own transaction (transactional outbox):
   a committed invalid absence always has its notice row, a rolled-back one never has.
2. `claim_due` moves due rows from scheduled to sending in one short transaction, stamping a
   fresh claim token and the time. On PostgreSQL the rows are picked with
   `SELECT … FOR UPDATE SKIP LOCKED`, so two workers never claim the same row; on SQLite the
   transaction starts IMMEDIATE (settings), which serialises claims.
3. The worker renews its claim on a row just before sending it (so a long batch cannot outlive
   the lease of its last rows), sends outside any transaction, then records the outcome with
   an UPDATE guarded by its claim token: only the claimant can mark the row sent or failed.
   A failure up to and including the send reschedules the row (Undeliverable fails it);
   after the channel accepted the message only the recording is tried again (5.).
4. A worker killed between claim and send leaves rows in sending. Once the lease
   (FULLFOLJ_NOTICE_LEASE_SECONDS) has passed, any worker may claim them again; nothing had
   left for them, so each goes out once. Before resending, it asks the channel whether the
   dedup key was already delivered (an SMS gateway or a mail API can tell; SMTP cannot). Only
   if the first worker died in the instant after the backend accepted the message and before
   step 3 and the channel cannot tell does the message go out a second time, with the same
   dedup key (email Message-ID, SMS client reference) for the receiving side to drop the copy;
   the outbox still records exactly one sent row. A single send that takes longer than the
   lease can be doubled the same way, so the lease is set far above EMAIL_TIMEOUT.
5. If the database refuses the record of an outcome (a locked SQLite file, a dropped
   PostgreSQL connection), the worker tries the UPDATE again over a new connection, a few
   times with a short backoff (RECORD_TRIES); it never sends again. If the write still fails,
   the row stays in sending under its claim and the worker stops: no further sends until the
   lease lapses and a worker takes the rows over as in 4., asking the channel first (SMTP
   cannot answer: the one copy of 4.). The run counts the notice as UNRECORDED, not as sent,
   rescheduled or failed.
   tests/test_workers.py shows each case with real worker processes on PostgreSQL;
   tests/test_record.py fails the recording on both databases.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import DateField, DateTimeField, F, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_noop

from fullfolj.attendance.models import Lesson, LessonAttendance
from fullfolj.lib import clock
from fullfolj.schools.models import Guardian, Guardianship, Placement, Pupil

from .channels import OutgoingMessage, Undeliverable, sender_for
from .models import DETAIL, PENDING, Channel, GuardianNotice, Status

logger = logging.getLogger("fullfolj.notices")
LOST = "lost"  # another worker took over the notice: not an outcome of this worker
UNRECORDED = "unrecorded"  # the outcome could not be recorded: the notice stays claimed
RECORD_TRIES = 4  # writes of an outcome; a lock or a reconnect usually clears within a second
RECORD_BACKOFF = 0.2  # seconds before the second try, doubled for each one after
RETRYING = gettext_noop("temporary failure, trying again")
GAVE_UP = gettext_noop("gave up after repeated failures")
BOUNCED = gettext_noop("the email bounced")


def _setting(name: str, default: object) -> object:
    return getattr(settings, name, default)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(_setting("FULLFOLJ_NOTICE_LEASE_SECONDS", 300)))  # type: ignore[call-overload]


def fixed_send_time() -> dt.time | None:
    """FULLFOLJ_NOTICE_SEND_AT as a time of day ("15:30"), or None for "N minutes after"."""
    fixed = str(_setting("FULLFOLJ_NOTICE_SEND_AT", "") or "").strip()
    if not fixed:
        return None
    try:
        return dt.time.fromisoformat(fixed)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"FULLFOLJ_NOTICE_SEND_AT must be a time of day such as 15:30, not {fixed!r}"
        ) from error


def send_time(day: dt.date, last_end: dt.datetime, *, now: dt.datetime) -> dt.datetime:
    """When the notice for a day goes out: the configured rule, never sooner than a grace period.

    FULLFOLJ_NOTICE_SEND_AT ("15:30") sends at a fixed time at the end of the school day (or at
    the last invalid lesson's end, if later); otherwise FULLFOLJ_NOTICE_DELAY_MINUTES after the
    last invalid lesson. Every change of the pupil's marks that day leaves at least
    FULLFOLJ_NOTICE_GRACE_MINUTES for corrections: a wrong message is worse than a late one.
    """
    fixed = fixed_send_time()
    if fixed is not None:
        rule = max(timezone.make_aware(dt.datetime.combine(day, fixed)), last_end)
    else:
        rule = last_end + dt.timedelta(minutes=int(_setting("FULLFOLJ_NOTICE_DELAY_MINUTES", 30)))  # type: ignore[call-overload]
    grace = dt.timedelta(minutes=int(_setting("FULLFOLJ_NOTICE_GRACE_MINUTES", 5)))  # type: ignore[call-overload]
    return max(rule, now + grace)


def holds_protected() -> bool:
    """Whether guardians of protected-identity pupils are left to the mentor (rule "hold").

    FULLFOLJ_NOTICE_PROTECTED_IDENTITY: "send" (the default) tells them like any guardian, as
    Skollagen 7 kap. 17 § requires, with a message that names no school, group, teacher or
    address; "hold" sends nothing automatically and shows the guardians to the mentor instead,
    for municipalities whose routine is to contact these families in person.
    """
    rule = str(_setting("FULLFOLJ_NOTICE_PROTECTED_IDENTITY", "send")).strip()
    if rule not in ("send", "hold"):
        raise ImproperlyConfigured(
            f'FULLFOLJ_NOTICE_PROTECTED_IDENTITY must be "send" or "hold", not {rule!r}'
        )
    return rule == "hold"


def is_invalid(mark: dict[str, object] | None) -> bool:
    """Whether a mark snapshot (LessonAttendance.snapshot) is an invalid absence."""
    return bool(mark and mark["absent_minutes"] and mark["is_valid"] is False)


def schedule_for_days(
    pairs: Iterable[tuple[int, dt.date]], *, invalid: list[tuple] | None = None
) -> list[dt.datetime]:
    """Schedule, move or cancel the notices of these (pupil, day) pairs; return new send times.

    Call inside the transaction that changed the pupils' marks. Every guardian of a pupil with
    invalid absence that day gets one notice: by email if they have an address, else by SMS,
    else a notice that will fail as "no contact details" so the mentor sees the guardian. A day
    left without invalid absence has its pending notices cancelled. Notices already sent or
    being sent stay: one message per pupil, guardian and day, so invalid absence registered
    after the day's message went out is not sent again (the pupil page shows it).

    `invalid`: invalid_lessons_rows of these pairs, when the caller read them already.
    """
    pairs = set(pairs)
    if not pairs:
        return []
    now = clock.now()
    last_end: dict[tuple[int, dt.date], dt.datetime] = {}
    contacts: dict[int, dict[int, str]] = {}
    if invalid is None:
        sql, params = invalid_lessons_statement(pairs)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            invalid = invalid_lessons_rows(cursor.fetchall())
    for pupil, day, start, minutes, guardian, email, phone in invalid:
        if (pupil, day) in pairs:
            end = start + dt.timedelta(minutes=minutes)
            last_end[pupil, day] = max(end, last_end.get((pupil, day), end))
            if guardian is not None:
                contacts.setdefault(pupil, {})[guardian] = (
                    Channel.EMAIL
                    if email.strip()
                    else Channel.SMS
                    if phone.strip()
                    else Channel.NONE
                )
    times: list[dt.datetime] = []
    if last_end:
        times = _schedule(last_end, contacts, now)
    cancel: dict[dt.date, list[int]] = {}
    for pupil, day in pairs - set(last_end):
        cancel.setdefault(day, []).append(pupil)
    for day, day_pupils in cancel.items():  # nothing invalid left that day
        GuardianNotice.objects.filter(pupil_id__in=day_pupils, date=day, status__in=PENDING).update(
            status=Status.CANCELLED, updated_at=timezone.now()
        )
    return times


def invalid_lessons_statement(pairs: Iterable[tuple[int, dt.date]]) -> tuple[str, list]:
    """The pairs' pupils' invalid absences on those days, each with every guardian (or None)
    and their contact details: pupil, date, lesson start, minutes, guardian, email, phone.

    One statement of our own on the save's path (Django's compiling of the two queries it
    replaces cost more than running them); the register sends it with its writes.
    """
    ops = connection.ops
    marks, lessons = LessonAttendance._meta.db_table, Lesson._meta.db_table
    links, guardians = Guardianship._meta.db_table, Guardian._meta.db_table
    pupil_list = sorted({pupil for pupil, _day in pairs})
    day_list = sorted({day for _pupil, day in pairs})
    sql = (
        f"SELECT la.pupil_id, la.date, l.start, l.minutes, gs.guardian_id, g.email, g.phone "  # noqa: S608
        f"FROM {marks} la JOIN {lessons} l ON l.id = la.lesson_id "
        f"LEFT JOIN {links} gs ON gs.pupil_id = la.pupil_id "
        f"LEFT JOIN {guardians} g ON g.id = gs.guardian_id "
        f"WHERE la.pupil_id IN ({', '.join(['%s'] * len(pupil_list))}) "
        f"AND la.date IN ({', '.join(['%s'] * len(day_list))}) "
        "AND la.is_valid = %s AND la.absent_minutes > 0"
    )
    return sql, [*pupil_list, *(ops.adapt_datefield_value(day) for day in day_list), False]


def invalid_lessons_rows(rows: list[tuple]) -> list[tuple]:
    """invalid_lessons_statement's rows with dates and datetimes as Python's."""
    if connection.vendor == "postgresql":
        return rows
    # SQLite hands back text: the date, and the start in UTC without its zone.
    to_date, to_datetime = DateField().to_python, DateTimeField().to_python
    return [
        (pupil, to_date(day), to_datetime(start).replace(tzinfo=dt.UTC), *rest)
        for pupil, day, start, *rest in rows
    ]


def _schedule(
    last_end: dict[tuple[int, dt.date], dt.datetime],
    contacts: dict[int, dict[int, str]],
    now: dt.datetime,
) -> list[dt.datetime]:
    """Create or move the notices of the (pupil, day) pairs with invalid absence, in one
    statement: a notice already sent, being sent or failed is left as it is."""
    with_absence = {pupil for pupil, _day in last_end}
    held: set[int] = set()
    if holds_protected():
        held = set(
            Pupil.objects.filter(pk__in=with_absence, protected_identity=True).values_list(
                "pk", flat=True
            )
        )
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(timezone.now())
    values, params, scheduled = [], [], {}
    for (pupil, day), end in sorted(last_end.items()):
        when = send_time(day, end, now=now)
        status = Status.HELD if pupil in held else Status.SCHEDULED
        if status == Status.SCHEDULED:
            scheduled[pupil, day] = when
        for guardian, channel in contacts.get(pupil, {}).items():
            values.append("(%s, %s, %s, %s, %s, %s, '', 0, '', %s, %s)")
            params += [
                pupil,
                guardian,
                ops.adapt_datefield_value(day),
                str(channel),
                str(status),
                ops.adapt_datetimefield_value(when),
                stamp,
                stamp,
            ]
    if not values:
        return []
    table = GuardianNotice._meta.db_table
    reopen = [str(state) for state in (*PENDING, Status.CANCELLED)]
    # Only our table and column names and placeholders are formatted in. Upsert: a concurrent
    # register of the same pupil and day cannot make a second row (the unique constraint),
    # and a notice past scheduling (sending, sent, failed, bounced) stays as it is.
    sql = (
        f"INSERT INTO {table} (pupil_id, guardian_id, date, channel, status, "  # noqa: S608
        "send_after, error, attempts, body, created_at, updated_at) "
        f"VALUES {', '.join(values)} "
        "ON CONFLICT (pupil_id, guardian_id, date) DO UPDATE SET "
        "channel = excluded.channel, status = excluded.status, "
        "send_after = excluded.send_after, updated_at = excluded.updated_at "
        f"WHERE {table}.status IN ({', '.join(['%s'] * len(reopen))}) "
        "RETURNING pupil_id, date, status"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *reopen])
        written = cursor.fetchall()
    convert = DateField().to_python  # SQLite hands back the date as text
    return sorted(
        {
            scheduled[pupil, convert(day)]
            for pupil, day, status in written
            if status == Status.SCHEDULED and (pupil, convert(day)) in scheduled
        }
    )


def batch_size() -> int:
    size: int = int(_setting("FULLFOLJ_NOTICE_BATCH", 10))  # type: ignore[call-overload]
    return size


def claim_due(*, limit: int | None = None) -> tuple[uuid.UUID, list[int]]:
    """Claim up to `limit` due notices for this worker: scheduled and due, or a lapsed lease."""
    limit = limit or batch_size()
    now = clock.now()
    token = uuid.uuid4()
    with transaction.atomic():
        due = (
            GuardianNotice.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=Status.SCHEDULED, send_after__lte=now)
                | Q(status=Status.SENDING, claimed_at__lt=now - lease())
            )
            .order_by("send_after", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(due)
        if ids:
            GuardianNotice.objects.filter(pk__in=ids).update(
                status=Status.SENDING,
                claim_token=token,
                claimed_at=now,
                attempts=F("attempts") + 1,
                updated_at=timezone.now(),
            )
    return token, ids


def _renew(notice: GuardianNotice, token: uuid.UUID) -> bool:
    """Restart the lease just before sending; False if another worker has taken the notice.

    A batch is claimed at once but sent one by one, so a slow batch could outlive the lease of
    its last rows; renewing per row keeps the window for a double send to a single send.
    """
    return bool(
        GuardianNotice.objects.filter(
            pk=notice.pk, claim_token=token, status=Status.SENDING
        ).update(claimed_at=clock.now(), updated_at=timezone.now())
    )


class Unrecorded(Exception):
    """The database would not take a notice's outcome; the row stays claimed (step 5)."""


def _reconnect() -> None:
    """Drop the failed connection so the next statement opens a new one.

    Django reuses a connection the server has closed until it is closed on our side; inside a
    transaction there is nothing to reopen (and the transaction is lost anyway).
    """
    if not connection.in_atomic_block:
        with contextlib.suppress(DatabaseError):
            connection.close()


def _finish(notice: GuardianNotice, token: uuid.UUID, status: str, **fields: object) -> str:
    """Record an outcome if this worker still holds the claim: the outcome, or LOST.

    A transient database error (a locked SQLite file, a dropped connection) is retried over a
    new connection, a few times with a short backoff; if the write still fails, Unrecorded.
    The write also matches a row that already has this outcome and this worker's token: a
    first try may have committed with only its reply lost.
    """
    mine = GuardianNotice.objects.filter(
        Q(status=Status.SENDING) | Q(status=status), pk=notice.pk, claim_token=token
    )
    try:
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                done = mine.update(status=status, updated_at=timezone.now(), **fields)
                break
            except (OperationalError, InterfaceError) as error:
                logger.warning(
                    "notice %s: recording %s failed (try %s): %r", notice.pk, status, attempt, error
                )
                _reconnect()
                if attempt == RECORD_TRIES:
                    raise
                time.sleep(RECORD_BACKOFF * 2 ** (attempt - 1))
    except Exception as error:
        raise Unrecorded(status) from error
    if not done:
        logger.warning("notice %s: claim lost before recording %s", notice.pk, status)
        return LOST
    return status


def _day_in_a_sentence(day: dt.date) -> str:
    # Django's Swedish weekday names are capitalised; mid-sentence Swedish writes "onsdag".
    return f"{date_format(day, 'l').lower()} {date_format(day, 'j F')}"


def compose(notice: GuardianNotice) -> OutgoingMessage | None:
    """The Swedish message for a notice, from the day's invalid lessons as they stand now.

    None when nothing invalid is left (the absence was corrected). Protected identity
    (docs/privacy.md): the message names no school, group or address, for any pupil;
    each guardian gets their own message, never a copy to or a word about another guardian.
    """
    marks = list(
        LessonAttendance.objects.filter(
            pupil_id=notice.pupil_id, date=notice.date, is_valid=False, absent_minutes__gt=0
        )
        .select_related("lesson__subject")
        .order_by("lesson__start")
    )
    if not marks:
        return None
    pupil, guardian = notice.pupil, notice.guardian
    school = None
    if not pupil.protected_identity:
        placement = (
            Placement.objects.active_on(notice.date)
            .filter(pupil=pupil)
            .select_related("school")
            .first()
        )
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
        context = {
            "pupil_first_name": pupil.first_name,
            "day": _day_in_a_sentence(notice.date),
            "lessons": lessons,
            "school": school,
        }
        body = render_to_string("notices/guardian_message.txt", context).strip() + "\n"
        subject = f"Ogiltig frånvaro {date_format(notice.date, 'j F')}: {pupil.first_name}"
    to = guardian.email if notice.channel == Channel.EMAIL else guardian.phone
    return OutgoingMessage(to=to.strip(), subject=subject, body=body, key=notice.dedup_key)


def _send_one(notice: GuardianNotice, token: uuid.UUID, *, recovered: bool) -> str:
    if not _renew(notice, token):
        return LOST
    message = compose(notice)
    if message is None:
        return _finish(notice, token, Status.CANCELLED)
    sender = sender_for(notice.channel)
    if recovered and sender.delivered(message.key):
        return _finish(notice, token, Status.SENT, sent_at=clock.now(), body=message.body, error="")
    try:
        sender.send(message)
    except Undeliverable as error:
        return _finish(notice, token, Status.FAILED, error=str(error)[:300])
    # Accepted: from here on only the recording may be tried again, never the send (step 5).
    return _finish(notice, token, Status.SENT, sent_at=clock.now(), body=message.body, error="")


def _retry_later(notice: GuardianNotice, token: uuid.UUID, error: Exception) -> str:
    """A transient failure before the send (the backend, the network, a bug): back off, then
    give up visibly."""
    logger.warning("notice %s: attempt %s failed: %r", notice.pk, notice.attempts, error)
    if notice.attempts >= int(_setting("FULLFOLJ_NOTICE_MAX_ATTEMPTS", 5)):  # type: ignore[call-overload]
        return _finish(
            notice, token, Status.FAILED, error=f"{GAVE_UP}{DETAIL}{type(error).__name__}"
        )
    retry = clock.now() + dt.timedelta(minutes=5 * notice.attempts)
    return _finish(
        notice,
        token,
        Status.SCHEDULED,
        send_after=retry,
        error=f"{RETRYING}{DETAIL}{type(error).__name__}",
    )


def _deliver_one(notice: GuardianNotice, token: uuid.UUID) -> str:
    """Send one claimed notice and record its outcome; Unrecorded if that cannot be recorded."""
    try:
        return _send_one(notice, token, recovered=notice.attempts > 1)
    except Unrecorded:
        raise  # perhaps sent: never rescheduled
    except Exception as error:  # one bad notice must not stop the batch
        return _retry_later(notice, token, error)


@dataclass
class Delivery:
    """What one delivery run did, by outcome."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def sent(self) -> int:
        return self.counts.get(Status.SENT, 0)

    @property
    def interrupted(self) -> bool:
        """Whether an outcome could not be recorded, so the run stopped (step 5)."""
        return UNRECORDED in self.counts


def send_claimed(token: uuid.UUID, ids: list[int], delivery: Delivery | None = None) -> Delivery:
    """Send the notices this worker claimed with `token`, recording each outcome."""
    delivery = delivery or Delivery()
    notices = GuardianNotice.objects.filter(pk__in=ids, claim_token=token).select_related(
        "pupil", "guardian"
    )
    for notice in notices:
        try:
            delivery.add(_deliver_one(notice, token))
        except Unrecorded:
            # The database is refusing writes: send nothing more; this row and the rest of the
            # batch stay claimed until their lease lapses.
            logger.error("notice %s: outcome not recorded; stopping the batch", notice.pk)
            delivery.add(UNRECORDED)
            break
    return delivery


def deliver_due(*, batch: int | None = None, max_batches: int = 1000) -> Delivery:
    """Claim and send due notices, batch by batch, until none are due."""
    delivery = Delivery()
    for _ in range(max_batches):
        token, ids = claim_due(limit=batch)
        if not ids:
            break
        send_claimed(token, ids, delivery)
        if delivery.interrupted:
            break
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


def record_bounce(notice: GuardianNotice, *, detail: str = "") -> bool:
    """A sent notice came back (a bounce report): mark it so the mentor sees the guardian.

    `detail` is the mail system's status (e.g. "5.1.1"), never the address. False if the
    notice was not sent (nothing to mark).
    """
    reason = f"{BOUNCED}{DETAIL}{detail}" if detail else BOUNCED
    return bool(
        GuardianNotice.objects.filter(pk=notice.pk, status=Status.SENT).update(
            status=Status.BOUNCED, error=reason[:300], updated_at=timezone.now()
        )
    )
