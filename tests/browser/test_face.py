"""The site's face in Chromium: the overview passes axe, and on a phone the menu is folded
behind one button that opens and closes from the keyboard."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_the_overview_with_its_charts_is_accessible(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    login(page, live_server, "admin", "pw-admin")
    page.goto(live_server.url + reverse("elevakt:overview"))
    for chart in ("absence-per-school", "share-at-levels"):
        title = page.locator(f"svg#{chart} > title").text_content()
        assert title and page.get_by_role("img", name=title).count() == 1
    assert page.locator(".figures li").count() >= 4
    # the stylesheet loaded: the header is the site's navy, not the browser's default
    background = page.locator("header.site").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(22, 50, 79)"
    assert_accessible(page)


def test_on_a_phone_the_menu_is_folded_and_opens_from_the_keyboard(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "mentor", "pw-mentor")
    toggle = page.locator("button.menu-toggle")
    menu = page.locator("#site-menu")
    first_link = menu.get_by_role("link").first
    assert toggle.is_visible() and not first_link.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    header = page.locator("header.site").bounding_box()
    # two lines: the logo and the button, then the pupil search across the screen
    assert header and header["height"] < 110
    search = page.locator("#header-search").bounding_box()
    assert search and search["width"] > 250

    # from the skip link, the next stops are the logo, the search field and button, the menu
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert first_link.is_visible()
    assert menu.get_by_role("button", name="Logga ut").is_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not first_link.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")


def test_on_a_wide_screen_the_menu_shows_without_the_button(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "mentor", "pw-mentor")
    assert not page.locator("button.menu-toggle").is_visible()
    assert page.locator("#site-menu").get_by_role("link").first.is_visible()
