"""Reads of the organisation for pages: the term so far, a pupil's placement and mentors."""

from __future__ import annotations

import datetime as dt

from fullfolj.attendance.queries import RECENT_DAYS
from fullfolj.lib import clock

from .models import Mentorship, Placement, Pupil, Term


def term_and_recent_windows(today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    term = Term.at(today)
    term_start = term.start if term else today - dt.timedelta(days=120)
    term_end = min(term.end, today) if term else today
    return {
        "term": (term_start, term_end),
        "recent": (today - dt.timedelta(days=RECENT_DAYS - 1), today),
    }


def current_placement(pupil: Pupil, today: dt.date | None = None) -> Placement | None:
    return (
        pupil.placements.active_on(today or clock.today())
        .select_related("school", "school_class").first()
    )


def current_mentors(pupil: Pupil, today: dt.date | None = None) -> list[str]:
    mentorships = Mentorship.objects.active_on(today or clock.today()).filter(pupil=pupil)
    return [m.mentor.full_name for m in mentorships.select_related("mentor")]
