"""The periods every page means by "this term" and "the last four weeks": one definition."""

from __future__ import annotations

import datetime as dt

from .models import Term

RECENT_DAYS = 28  # "the last 4 weeks", today included


def recent_weeks(day: dt.date) -> tuple[dt.date, dt.date]:
    """The last four weeks up to and including `day`."""
    return day - dt.timedelta(days=RECENT_DAYS - 1), day


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
