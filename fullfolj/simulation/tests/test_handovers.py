"""The demo's coming moves: a year-6 pupil is placed at the 7-9 school their school fed last
year, in a new year-7 class with the printed mentor, and gets a handover from their mentor."""

from __future__ import annotations

import datetime as dt

from fullfolj.handover.models import Handover
from fullfolj.schools import models as s
from fullfolj.simulation.handovers import plan_moves, write_handovers
from fullfolj.support import actions as support
from tests import factories as f

TODAY = dt.date(2026, 3, 18)


def test_a_year_6_pupil_moves_to_the_school_their_school_feeds_with_a_handover(cast):
    last_year = s.SchoolYear.objects.create(
        name="2024/25", start=dt.date(2024, 8, 19), end=dt.date(2025, 6, 13)
    )
    old_6a = s.SchoolClass.objects.create(
        school=cast.south, school_year=last_year, name="6A", grade=6
    )
    ivar = f.pupil(cast.org, "Ivar", "Isaksson")  # went from Söderskolan to Norrskolan last year
    f.place(ivar, cast.south, old_6a, last_year.start, end=last_year.end)
    f.place(ivar, cast.north, cast.c7a, cast.year.start)
    c6a = s.SchoolClass.objects.create(school=cast.south, school_year=cast.year, name="6A", grade=6)
    hugo = f.pupil(cast.org, "Hugo", "Hallberg")
    f.place(hugo, cast.south, c6a, cast.year.start)
    sixth_mentor = f.staff("sixth_mentor", (s.Role.MENTOR, cast.south), org=cast.org)
    s.Mentorship.objects.create(pupil=hugo, mentor=sixth_mentor, start=cast.year.start)
    support.open_case(hugo, school=cast.south, responsible=sixth_mentor, by=sixth_mentor)

    made = plan_moves(TODAY, printed_mentor=cast.mentor)

    assert made["moves"] == 1 and made["classes"] == 1
    coming = s.Placement.objects.get(pupil=hugo, start__gt=TODAY)
    assert coming.school == cast.north and coming.school_class.grade == 7
    assert coming.start == dt.date(2026, 8, 17) and coming.start.weekday() == 0
    assert s.Placement.objects.get(pupil=hugo, school=cast.south).end == cast.year.end
    assert s.Mentorship.objects.get(pupil=hugo, start=coming.start).mentor == cast.mentor
    written = write_handovers(TODAY)
    handover = Handover.objects.get(pupil=hugo)  # a pupil with a case always gets one
    assert handover.receiving_school == cast.north and handover.sending_school == cast.south
    assert written["started"] == 1 and written["missing"] == 0
    assert "Jag vill veta" in handover.versions.order_by("number").first().pupil_words
