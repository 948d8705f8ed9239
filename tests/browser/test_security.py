"""The Content-Security-Policy and login throttling, as a browser meets them.

Every browser test fails on a CSP violation (the `page` fixture); these tests show that the
styles the policy allows do apply, that a violation is caught, and that a locked-out user gets
an accessible page.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def style_of(page: Page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e)['{prop}']")


def test_the_pages_own_styles_apply_under_the_policy(
    page: Page, live_server: Any, live_cast: SimpleNamespace, csp_violations: list[str]
) -> None:
    response = page.goto(live_server.url + reverse("login"))
    assert response is not None
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert style_of(page, "header.site", "backgroundColor") == "rgb(22, 50, 79)"  # base.html
    assert style_of(page, "form.login", "maxWidth") == "384px"  # was a style="" attribute

    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("attendance:pupil-calendar", args=[live_cast.pupil.pk]))
    # The legend's swatches were style="" attributes; now classes in the nonced <style>.
    assert style_of(page, ".legend .present", "backgroundColor") == "rgb(230, 244, 234)"
    shadow = style_of(page, ".legend .invalid", "boxShadow")
    assert shadow == "rgb(122, 23, 17) 0px 0px 0px 3px inset"
    assert csp_violations == []


def test_a_style_without_the_nonce_is_blocked_and_reported(
    page: Page, live_server: Any, csp_violations: list[str]
) -> None:
    page.goto(live_server.url + reverse("login"))
    page.evaluate(
        """() => {
            const style = document.createElement('style');
            style.textContent = 'body { color: rgb(255, 0, 0) }';
            document.head.append(style);
            document.body.insertAdjacentHTML(
                'beforeend', '<p id="injected" style="color: rgb(0, 0, 255)">x</p>');
        }"""
    )
    assert style_of(page, "body", "color") != "rgb(255, 0, 0)"
    assert style_of(page, "#injected", "color") != "rgb(0, 0, 255)"
    # Chromium reports each refusal on the console while the script runs, before it returns.
    assert len(csp_violations) == 2, csp_violations
    csp_violations.clear()  # expected here; the fixture fails a test on any left over


def test_a_locked_out_user_gets_an_accessible_page_in_swedish(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    page.goto(live_server.url + reverse("login"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", "mentor")
        page.fill("#id_password", "fel lösenord")
        with page.expect_navigation():
            page.press("#id_password", "Enter")
    assert page.locator("h1").inner_text() == "Inloggningen är spärrad en stund"
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)

    # The right password does not get past it.
    page.get_by_role("link", name="Tillbaka till inloggningen").click()
    page.fill("#id_username", "mentor")
    page.fill("#id_password", "pw-mentor")
    with page.expect_navigation() as navigation:
        page.press("#id_password", "Enter")
    assert navigation.value.status == 429
    assert page.locator("h1").inner_text() == "Inloggningen är spärrad en stund"
