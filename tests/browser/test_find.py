"""Finding a pupil in a real browser: the header search from the keyboard, and the risk list
on a phone. Checked with axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.lib import clock
from fullfolj.screening import actions
from fullfolj.screening.models import ScreeningRule
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_principal_finds_a_pupil_from_the_keyboard_and_opens_the_record(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    pupil = live_cast.pupil
    login(page, live_server, "principal", "pw-principal")
    for _tab in range(6):  # the search field comes early: after the skip link and the logo
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "header-search":
            break
    assert page.evaluate("document.activeElement.id") == "header-search"
    page.keyboard.type("åkes")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    results = page.locator("#search-results tbody tr")
    assert results.count() == 1
    assert results.first.inner_text().split("\t")[:3] == [
        f"{pupil.last_name}, {pupil.first_name}",
        "7A",
        "Norrskolan",
    ]
    assert_accessible(page)
    page.locator("#search-results a").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server.url + reverse("elevakt:pupil", args=[pupil.pk])
    assert page.locator("h1").inner_text() == pupil.full_name


def test_risk_list_fits_a_phone_and_filters_by_class(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    ScreeningRule.objects.create(
        organiser=cast.org,
        code="invalid_4w",
        indicator="absence_invalid",
        comparison=">=",
        threshold=Decimal(15),
        window="28d",
    )
    actions.run_screening(cast.org, clock.today())
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "principal", "pw-principal")
    page.goto(live_server.url + reverse("elevakt:school-riskzon", args=[cast.north.pk]))

    row = page.locator("table.risk tbody tr").first
    assert cast.pupil.full_name in row.inner_text()
    assert "7A" in row.locator(".risk-class").inner_text()
    # Stacked rows: nothing wider than the phone, so no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    page.select_option("#risk-class", "7A")
    with page.expect_navigation():
        page.locator("form.list-filter button[type=submit]").click()
    assert "class_name=7A" in page.url
    assert page.locator("table.risk tbody tr").count() == 1
