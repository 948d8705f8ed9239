"""The main pages in a real browser: logging in, navigating, keyboard use and WCAG 2.1 AA (axe).

Assertions are on data and structure, not wording: the UI text changes when translations land.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser


def row_names(page: Page) -> set[str]:
    """The pupil names in the row headers of `#pupil-list`."""
    return set(page.locator("#pupil-list tbody th[scope=row]").all_inner_texts())


def list_name(pupil: Any) -> str:
    """How the pupil lists write a name: last name first."""
    return f"{pupil.last_name}, {pupil.first_name}"


def listed(*pupils: Any) -> set[str]:
    return {list_name(p) for p in pupils}


def test_mentor_logs_in_with_the_keyboard_and_sees_only_their_mentees(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    page.goto(live_server.url + reverse("login"))
    assert_accessible(page)
    page.locator("#id_username").press_sequentially("mentor")
    page.locator("#id_password").press_sequentially("pw-mentor")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == live_server.url + reverse("elevakt:home")
    follow(page, page.get_by_role("navigation").get_by_role("link", name="Mina elever", exact=True))
    page.wait_for_url(live_server.url + reverse("elevakt:my-pupils"))
    assert row_names(page) == listed(live_cast.pupil, live_cast.protected)
    assert_accessible(page)


def test_mentor_opens_a_pupil_page_from_the_list(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    pupil = live_cast.pupil
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("elevakt:my-pupils"))
    page.locator("#pupil-list").get_by_role("link", name=list_name(pupil)).click()

    page.wait_for_url(live_server.url + reverse("elevakt:pupil", args=[pupil.pk]))
    assert page.locator("h1").inner_text() == pupil.full_name
    chart = page.locator("svg#weekly[role=img]")
    title = chart.locator("> title").text_content()
    assert title
    # Screen readers announce the chart by its <title>.
    assert page.get_by_role("img", name=title).count() == 1
    weekly_table = page.locator("details table")
    assert not weekly_table.is_visible()
    page.locator("details summary").click()
    assert weekly_table.is_visible()
    # The cast's only lesson is Monday 16 March 2026, week 12.
    assert weekly_table.locator("tbody th[scope=row]").all_inner_texts() == ["v12"]
    assert weekly_table.locator("tbody td").first.inner_text() == "2026-03-16"
    assert page.locator("section[aria-labelledby=grades-heading] h2").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("username", "url_name", "school"),
    [
        ("teacher", "elevakt:my-groups", None),
        ("principal", "elevakt:school-pupils", "north"),
        ("admin", "elevakt:overview", None),
        ("outsider", "elevakt:home", None),
    ],
)
def test_each_role_s_pages_are_accessible(
    page: Page,
    live_server: Any,
    live_cast: SimpleNamespace,
    username: str,
    url_name: str,
    school: str | None,
) -> None:
    args = [getattr(live_cast, school).pk] if school else []
    login(page, live_server, username, f"pw-{username}")
    page.goto(live_server.url + reverse(url_name, args=args))
    assert page.url == live_server.url + reverse(url_name, args=args)
    assert_accessible(page)


def test_teacher_opens_a_group_page(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(live_server.url + reverse("elevakt:my-groups"))
    page.get_by_role("link", name=live_cast.group.name, exact=True).click()

    page.wait_for_url(live_server.url + reverse("elevakt:group", args=[live_cast.group.pk]))
    assert row_names(page) == listed(live_cast.pupil)
    assert_accessible(page)


def test_skip_link_is_the_first_tab_stop_and_the_username_field_is_reachable(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    page.goto(live_server.url + reverse("login"))
    focused_id = "document.activeElement.id"
    focused_class = "document.activeElement.className"

    # Move focus out of the document (Shift+Tab past the first stop), then Tab back in.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
    page.keyboard.press("Tab")
    assert page.evaluate(focused_class) == "skip"
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["x"] >= 0, "the focused skip link must be on screen"

    for _ in range(5):
        if page.evaluate(focused_id) == "id_username":
            break
        page.keyboard.press("Tab")
    assert page.evaluate(focused_id) == "id_username"
