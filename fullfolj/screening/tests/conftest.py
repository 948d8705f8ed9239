"""The cast's own screening rule: a plain level rule, so one invalid lesson flags Alva."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fullfolj.screening.models import ScreeningRule


@pytest.fixture
def own_rules(cast):
    """Testkommun's rules: invalid absence of 15 % or more over four weeks (replaces the
    shipped defaults, as an organiser's own rules do)."""
    ScreeningRule.objects.create(
        organiser=cast.org,
        code="invalid_4w",
        indicator="absence_invalid",
        comparison=">=",
        threshold=Decimal(15),
        window="28d",
    )
    return cast
