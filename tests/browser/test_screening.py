"""Screening pages in a real browser: the principal screens by the button and reads the riskzon
list; the administration reads counts without names; WCAG 2.1 AA (axe) on every page."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.screening.models import ScreeningRule
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


@pytest.fixture
def level_rule(live_cast: SimpleNamespace) -> SimpleNamespace:
    ScreeningRule.objects.create(
        organiser=live_cast.org,
        code="invalid_4w",
        indicator="absence_invalid",
        comparison=">=",
        threshold=Decimal(15),
        window="28d",
    )
    return live_cast


def test_principal_screens_with_the_button_and_reads_the_list(
    page: Page, live_server: Any, level_rule: SimpleNamespace
) -> None:
    login(page, live_server, "principal", "pw-principal")
    page.get_by_role("navigation").get_by_role("link", name="Riskzon").click()
    page.wait_for_url(
        live_server.url + reverse("elevakt:school-riskzon", args=[level_rule.north.pk])
    )
    assert_accessible(page)
    page.get_by_role("button", name="Screena nu").click()
    page.wait_for_load_state()
    section = page.locator("section[aria-labelledby=no-action-heading]")
    assert section.locator("tbody th[scope=row]").all_inner_texts() == [level_rule.pupil.full_name]
    assert "Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)" in (section.inner_text())
    assert_accessible(page)
    page.get_by_role("link", name="Hur bra är varje screeningregel").click()
    assert page.locator("h1").inner_text() == "Hur bra är varje screeningregel"
    assert_accessible(page)


def test_administration_sees_counts_without_names(
    page: Page, live_server: Any, level_rule: SimpleNamespace
) -> None:
    login(page, live_server, "admin", "pw-admin")
    page.goto(live_server.url + reverse("elevakt:municipality-riskzon"))
    page.get_by_role("button", name="Screena nu").click()
    page.wait_for_load_state()
    body = page.locator("main").inner_text()
    assert "Norrskolan" in body
    assert level_rule.pupil.last_name not in body
    assert_accessible(page)
