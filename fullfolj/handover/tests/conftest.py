"""Two year-6 pupils at Söderskolan (F-6) placed at Norrskolan (7-9) from the autumn: Hugo, with
support that worked, and Freja, with protected identity. Hugo's mentor at Söderskolan writes;
`other_mentor` is named his mentor at Norrskolan from the first day."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from fullfolj.schools import models as s
from fullfolj.support import actions as support
from fullfolj.support.models import Measure
from tests import factories as f

FIRST_DAY = dt.date(2026, 8, 17)
LAST_DAY = dt.date(2026, 6, 12)


@pytest.fixture
def moving(cast: SimpleNamespace) -> SimpleNamespace:
    return make_moving(cast)


def make_moving(cast: SimpleNamespace) -> SimpleNamespace:
    c6a = s.SchoolClass.objects.create(school=cast.south, school_year=cast.year, name="6A", grade=6)
    autumn = s.SchoolYear.objects.create(name="2026/27", start=FIRST_DAY, end=dt.date(2027, 6, 11))
    c7b = s.SchoolClass.objects.create(school=cast.north, school_year=autumn, name="7B", grade=7)
    sixth_mentor = f.staff("sixth_mentor", (s.Role.MENTOR, cast.south), org=cast.org)
    hugo = f.pupil(cast.org, "Hugo", "Hallberg", born=dt.date(2014, 4, 2))
    hugo.address = "Lindvägen 3"
    hugo.save()
    freja = f.pupil(cast.org, "Freja", "Frost", protected=True, born=dt.date(2014, 6, 9))
    freja.address = "Hemlig väg 9"
    freja.save()
    for p in (hugo, freja):
        f.place(p, cast.south, c6a, cast.year.start, end=LAST_DAY)
        s.Mentorship.objects.create(pupil=p, mentor=sixth_mentor, start=cast.year.start)
    coming = {p.pk: f.place(p, cast.north, c7b, FIRST_DAY) for p in (hugo, freja)}
    s.Mentorship.objects.create(pupil=hugo, mentor=cast.other_mentor, start=FIRST_DAY)
    case, _new = support.open_case(
        hugo, school=cast.south, responsible=cast.principal_elsewhere, by=sixth_mentor
    )
    adaptation = support.add_measure(
        case,
        fields={
            "kind": Measure.Kind.EXTRA_ADAPTATION,
            "title": "Bildschema för dagen",
            "description": "Dagens lektioner i bilder på bänken.",
            "start": dt.date(2026, 1, 12),
            "follow_up_on": dt.date(2026, 2, 9),
        },
        by=sixth_mentor,
    )
    support.evaluate(
        adaptation,
        judgement="better",
        text="Kommer i tid och kommer igång själv.",
        evaluated_on=dt.date(2026, 2, 9),
        figures={},
        by=sixth_mentor,
        close=False,
        next_follow_up=dt.date(2026, 4, 20),
    )
    return SimpleNamespace(
        hugo=hugo,
        freja=freja,
        coming=coming,
        c7b=c7b,
        sixth_mentor=sixth_mentor,
        case=case,
        adaptation=adaptation,
    )
