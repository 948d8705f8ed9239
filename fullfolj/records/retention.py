"""Retention (gallring): remove what has passed its organiser's retention period.

Each kind of data has its own period per organiser (`RetentionPolicy`, in months). A row's age is
counted from the date that closes it: a lesson's date, a notice's date, a screening run's date,
a case's closing day, an entry's date, a read's time. A run removes what is older than the
period, in one transaction, and records how many rows of each kind it removed (`RetentionRun`);
a dry run counts and writes nothing. Organisers without a policy keep everything."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet

from fullfolj.access.models import AccessLog
from fullfolj.attendance import store
from fullfolj.attendance.models import LessonAttendance, PupilDay
from fullfolj.lib import clock
from fullfolj.notices.models import GuardianNotice, Status
from fullfolj.screening.models import Flag
from fullfolj.support.models import Case, CaseEntry

from .models import Kind, RetentionPolicy, RetentionRun


def _lesson_attendance(org: int, cutoff: dt.date) -> QuerySet:
    return LessonAttendance.objects.filter(organiser_id=org, date__lt=cutoff)


def _guardian_notices(org: int, cutoff: dt.date) -> QuerySet:
    # A notice still waiting to be sent is never removed.
    return GuardianNotice.objects.filter(pupil__organiser_id=org, date__lt=cutoff).exclude(
        status__in=[Status.SCHEDULED, Status.SENDING]
    )


def _screening_flags(org: int, cutoff: dt.date) -> QuerySet:
    return Flag.objects.filter(organiser_id=org, run__as_of__lt=cutoff)


def _cases(org: int, cutoff: dt.date) -> QuerySet:
    # Only closed cases; an open case is in use whatever its age.
    return Case.objects.filter(
        school__organiser_id=org, status=Case.Status.CLOSED, closed_at__date__lt=cutoff
    )


def _health_entries(org: int, cutoff: dt.date) -> QuerySet:
    return CaseEntry.objects.filter(
        case__school__organiser_id=org, health_restricted=True, occurred_on__lt=cutoff
    )


def _access_log(org: int, cutoff: dt.date) -> QuerySet:
    return AccessLog.objects.filter(pupil__organiser_id=org, at__date__lt=cutoff)


# Removed in this order: the health entries before the cases that hold them, so each row is
# counted under its own kind.
EXPIRED: dict[str, Callable[[int, dt.date], QuerySet]] = {
    Kind.LESSON_ATTENDANCE.value: _lesson_attendance,
    Kind.GUARDIAN_NOTICES.value: _guardian_notices,
    Kind.SCREENING_FLAGS.value: _screening_flags,
    Kind.HEALTH_ENTRIES.value: _health_entries,
    Kind.CASES.value: _cases,
    Kind.ACCESS_LOG.value: _access_log,
}


def cutoff(today: dt.date, months: int) -> dt.date:
    """Rows dated before this day have passed a period of `months` (the same day of the month
    `months` earlier, or that month's last day)."""
    total = today.year * 12 + today.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(today.day, last))


def expired(policy: RetentionPolicy, today: dt.date) -> dict[str, QuerySet]:
    """The rows of each kind past the policy's period on `today` (kinds kept forever left out)."""
    return {
        kind: EXPIRED[kind](policy.organiser_id, cutoff(today, months))
        for kind, months in sorted(
            policy.months().items(), key=lambda item: list(EXPIRED).index(item[0])
        )
        if months is not None
    }


def _delete(kind: str, rows: QuerySet, organiser_id: int, before: dt.date) -> int:
    """Remove the rows; the number of rows of the kind itself (not what went with them)."""
    label = rows.model._meta.label
    if kind == Kind.LESSON_ATTENDANCE.value:
        # The per-day sums go with the marks they were made of.
        PupilDay.objects.filter(organiser_id=organiser_id, date__lt=before).delete()
        # Every organiser's months up to `before`: a month's row may hold days of two.
        store.refresh_pupil_periods(until=before)
    # For the access log this is the explicit erase retention is for: QuerySet.delete() does
    # not go through AccessLog.delete(), which refuses a single row's removal.
    return rows.delete()[1].get(label, 0)


def run(*, dry_run: bool = False, today: dt.date | None = None) -> dict[int, dict[str, int]]:
    """Remove (or with `dry_run` only count) what has passed its period, per organiser and kind.

    A real run is recorded as a `RetentionRun` holding the counts only."""
    today = today or clock.today()
    counts: dict[int, dict[str, int]] = {}
    with transaction.atomic():
        for policy in RetentionPolicy.objects.order_by("organiser_id"):
            per_kind: dict[str, int] = {}
            for kind, rows in expired(policy, today).items():
                if dry_run:
                    per_kind[kind] = rows.count()
                else:
                    before = cutoff(today, policy.months()[kind] or 0)
                    per_kind[kind] = _delete(kind, rows, policy.organiser_id, before)
            counts[policy.organiser_id] = per_kind
        if not dry_run:
            RetentionRun.objects.create(
                ran_at=clock.now(),
                as_of=today,
                counts={str(org): per for org, per in counts.items()},
            )
    return counts
