"""Today's date as the product sees it: the real date, unless settings pin one (demo, tests)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def today() -> dt.date:
    pinned = getattr(settings, "FULLFOLJ_TODAY", "")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return timezone.localdate()


def now() -> dt.datetime:
    """Now as the product sees it: today's date (pinned in demo and tests) at the real time."""
    current = timezone.localtime()
    day = today()
    if current.date() == day:
        return current
    return current.replace(year=day.year, month=day.month, day=day.day)
