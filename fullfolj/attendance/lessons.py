"""A teacher's lessons and their state: which are still to be registered."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from fullfolj.lib import clock
from fullfolj.schools.calendar import term_so_far
from fullfolj.schools.models import Staff

from .models import Lesson


def unregistered_lessons(staff: Staff, today: dt.date) -> QuerySet[Lesson]:
    """Lessons this teacher has held this term up to now and not yet registered, oldest first
    (guardians are told of invalid absence the same day, so a register is wanted the same day)."""
    start, _end = term_so_far(today)
    return (
        Lesson.objects.filter(
            teacher=staff,
            date__gte=start,
            date__lte=today,
            start__lte=clock.now(),
            registered_at__isnull=True,
        )
        .select_related("group", "subject")
        .order_by("start", "pk")
    )
