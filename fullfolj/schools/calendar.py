"""The periods every page means by "this term" and "the last four weeks": one definition."""

from __future__ import annotations

import datetime as dt

from .models import DayOff, Term

RECENT_DAYS = 28  # "the last 4 weeks", today included


def recent_weeks(day: dt.date) -> tuple[dt.date, dt.date]:
    """The last four weeks up to and including `day`."""
    return day - dt.timedelta(days=RECENT_DAYS - 1), day


def weeks_before(day: dt.date, weeks: int = RECENT_DAYS // 7) -> tuple[dt.date, dt.date]:
    """The whole weeks (Monday to Sunday) before the week of `day`, first and last day: the
    municipality-wide figures read these, whose registers are in and whose absences are mostly
    settled, rather than a week still being registered."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday - dt.timedelta(weeks=weeks), monday - dt.timedelta(days=1)


def term_so_far(day: dt.date) -> tuple[dt.date, dt.date]:
    """The term that `day` falls in, from its first day up to `day` (first and last inclusive).

    Between two terms (a summer or Christmas holiday) it is the whole term that ended last, the
    one staff still talk about; before any term is known it falls back to `recent_weeks`, so a
    page never reaches back into data nobody has placed in a term.
    """
    term = Term.at(day)
    if term is None:
        return recent_weeks(day)
    return term.start, min(term.end, day)


def term_and_recent_windows(day: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """Both windows by name, as the pupil lists and pupil page read them."""
    return {"term": term_so_far(day), "recent": recent_weeks(day)}


def school_days(organiser_ids: set[int], start: dt.date, end: dt.date) -> list[dt.date]:
    """The school days from start to end (inclusive): weekdays inside a term that are a day off
    (lov, studiedag) for none of these organisers. A person serving schools of two organisers
    has a school day whenever either of them has one."""
    terms = list(Term.objects.filter(start__lte=end, end__gte=start).values_list("start", "end"))
    off: dict[dt.date, int] = {}
    for day in DayOff.objects.filter(
        organiser_id__in=organiser_ids, date__gte=start, date__lte=end
    ).values_list("date", flat=True):
        off[day] = off.get(day, 0) + 1
    days = []
    day = start
    while day <= end:
        in_term = any(first <= day <= last for first, last in terms)
        if day.weekday() < 5 and in_term and off.get(day, 0) < max(len(organiser_ids), 1):
            days.append(day)
        day += dt.timedelta(days=1)
    return days
