"""Builders for support tests: a flag from a screening run, a case with a measure."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from fullfolj.lib import clock
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support import actions
from fullfolj.support.models import Case, Measure

TODAY = dt.date(2026, 3, 18)


def make_flag(cast: SimpleNamespace, pupil=None) -> Flag:
    run = ScreeningRun.objects.create(
        organiser=cast.org,
        as_of=TODAY,
        started_at=clock.now(),
        finished_at=clock.now(),
        pupils=5,
        flagged_pupils=1,
        flags=1,
    )
    return Flag.objects.create(
        run=run,
        pupil=pupil or cast.pupil,
        organiser=cast.org,
        school=cast.north,
        rule_code="invalid_4w",
        value=30,
        threshold=15,
        explanation="Ogiltig frånvaro 30 % de senaste fyra veckorna",
    )


@pytest.fixture
def case(cast: SimpleNamespace) -> Case:
    opened, _new = actions.open_case(
        cast.pupil, school=cast.north, responsible=cast.mentor, by=cast.mentor
    )
    return opened


@pytest.fixture
def measure(case: Case, cast: SimpleNamespace) -> Measure:
    return actions.add_measure(
        case,
        fields={
            "kind": Measure.Kind.EXTRA_ADAPTATION,
            "title": "Lugn plats vid prov",
            "start": dt.date(2026, 2, 16),
            "follow_up_on": dt.date(2026, 3, 16),
            "responsible": cast.mentor,
        },
        by=cast.mentor,
    )


@pytest.fixture
def programme(case: Case, cast: SimpleNamespace) -> Measure:
    return actions.add_measure(
        case,
        fields={
            "kind": Measure.Kind.ACTION_PROGRAMME,
            "title": "Åtgärdsprogram",
            "start": dt.date(2026, 3, 2),
            "follow_up_on": dt.date(2026, 4, 13),
            "evaluation_on": dt.date(2026, 5, 25),
            "responsible": cast.mentor,
            "needs": "Alva behöver stöd i att komma i gång med skolarbetet på morgonen.",
            "planned_measures": "Speciallärare två lektioner i veckan i matematik.",
        },
        by=cast.mentor,
    )
