"""Reads of the organisation for pages: a pupil's placement and mentors."""

from __future__ import annotations

import datetime as dt

from fullfolj.lib import clock

from .models import Mentorship, Placement, Pupil


def current_placement(pupil: Pupil, today: dt.date | None = None) -> Placement | None:
    return (
        pupil.placements.active_on(today or clock.today())
        .select_related("school", "school_class")
        .first()
    )


def current_mentors(pupil: Pupil, today: dt.date | None = None) -> list[str]:
    mentorships = Mentorship.objects.active_on(today or clock.today()).filter(pupil=pupil)
    return [m.mentor.full_name for m in mentorships.select_related("mentor")]
