"""The model's reasons in both languages: Swedish as stored today, English via gettext."""

from __future__ import annotations

import pytest
from django.utils import translation

from fullfolj.riskmodel import reasons

CASES = [
    (
        ("invalid_4w", 18.4, 0.0),
        "Ogiltig frånvaro 18 % de senaste fyra veckorna (vanligt: 0 %)",
        "Invalid absence 18 % during the last four weeks (typical: 0 %)",
    ),
    (
        ("absence_trend", 7.5, -0.1),
        "Frånvaron de senaste fyra veckorna har ökat med 7,5 procentenheter jämfört med de tolv "
        "veckorna innan (vanligt: −0,1 procentenheter)",
        "Absence during the last four weeks has risen by 7.5 percentage points compared with the "
        "twelve weeks before (typical: −0.1 percentage points)",
    ),
    (
        ("vocational_eligible", 0, 1),
        "Inte behörig till yrkesprogram enligt senaste betygen",
        "Not eligible for a vocational programme according to the latest grades",
    ),
    (("has_grades", 0, 1), "Har inga betyg", "Has no grades"),
    (
        ("merit_value", 142.5, 250),
        "Meritvärde 142,5 (vanligt: 250)",
        "Merit rating 142.5 (typical: 250)",
    ),
    (("f_grades", float("nan"), 0), "Inga betyg ännu", "No grades yet"),
]


@pytest.mark.parametrize(("args", "sv", "en"), CASES)
def test_a_reason_reads_in_the_active_language(args, sv, en):
    with translation.override("sv"):
        assert reasons.reason_text(*args) == sv
    with translation.override("en"):
        assert reasons.reason_text(*args) == en
