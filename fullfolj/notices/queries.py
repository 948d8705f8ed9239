"""Reads of the outbox for pages: guardians that could not be reached, a pupil's notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, QuerySet

from fullfolj.access.gate import Viewer
from fullfolj.lib import clock
from fullfolj.schools.models import Pupil

from .models import UNREACHED, GuardianNotice

UNREACHED_DAYS = 30  # how long an unreached guardian stays on the mentor's list


def unreached_counts(pupil_ids: Iterable[int], today: dt.date) -> dict[int, int]:
    """Guardians per pupil whose notice failed or bounced in the last 30 days, in one query."""
    rows = (
        GuardianNotice.objects.filter(
            pupil_id__in=list(pupil_ids),
            status__in=UNREACHED,
            date__gte=today - dt.timedelta(days=UNREACHED_DAYS),
        )
        .values("pupil_id")
        .annotate(n=Count("guardian_id", distinct=True))
    )
    return {row["pupil_id"]: row["n"] for row in rows}


def notices_for(pupil_id: int, today: dt.date) -> QuerySet[GuardianNotice]:
    """A pupil's notices of the last 30 days, newest first."""
    return (
        GuardianNotice.objects.filter(
            pupil_id=pupil_id, date__gte=today - dt.timedelta(days=UNREACHED_DAYS)
        )
        .select_related("guardian")
        .order_by("-date", "guardian__last_name")
    )


def for_pupil(pupil: Pupil, viewer: Viewer) -> dict[str, object]:
    """The pupil record's guardian-notice section: the last 30 days, and who was not reached.
    Guardians of a protected-identity pupil are named only with the explicit permission."""
    notices = list(notices_for(pupil.pk, clock.today()))
    return {
        "notices": notices,
        "unreached": [n for n in notices if n.status in UNREACHED],
        "shows_guardian": not pupil.protected_identity or viewer.sees_protected_details,
    }
