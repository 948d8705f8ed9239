"""Each role lands on its home after logging in: the cards of what needs them, grouped by role
and school, accessible (axe), and the counts lead to the lists."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from conftest import TODAY
from fullfolj.ladder import defaults
from fullfolj.ladder.models import Actor, LadderStep, LadderTask
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

# Every role the demo prints has a home with content; the people with several roles see each
# role's group.
GROUPS = {
    "teacher": 1,
    "mentor": 2,  # teacher and mentor
    "principal": 1,
    "nurse": 1,
    "doctor": 2,  # student health at both schools
    "admin": 1,
    "officer": 1,
    "mentor_principal": 2,
    "teacher_admin": 2,
}


@pytest.mark.parametrize(("username", "groups"), list(GROUPS.items()))
def test_each_role_lands_on_a_home_with_its_cards(
    page: Page, live_server: Any, live_cast: SimpleNamespace, username: str, groups: int
) -> None:
    login(page, live_server, username, f"pw-{username}")
    assert page.url == live_server.url + reverse("elevakt:home")
    main = page.locator("main")
    assert main.locator("h1").count() == 1
    assert main.locator("section.home-group > h2").count() == groups
    assert main.locator("section.home-card").count() >= groups
    # Every card has its heading; every group shows figures (a count, a list of figures or a
    # table).
    for card in main.locator("section.home-card").all():
        assert card.locator("h3").count() == 1
    for group in main.locator("section.home-group").all():
        assert group.locator(".count, dl, table").count() >= 1
    assert page.get_by_role("navigation").get_by_role("link").count() >= 1
    assert_accessible(page)


def test_the_mentor_follows_the_overdue_count_to_the_task(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    defaults.install()  # a transactional test may have emptied the shipped ladder
    step = LadderStep.objects.filter(organiser=None, actor=Actor.MENTOR).order_by("order").first()
    task = LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor=Actor.MENTOR,
        assignee=cast.mentor,
        opened_on=TODAY - dt.timedelta(days=6),
        due=TODAY - dt.timedelta(days=2),
        reason="frånvaro 12,0 %",
    )
    login(page, live_server, "mentor", "pw-mentor")
    mentor = page.locator("section.home-group", has=page.locator("h2", has_text="Mentor"))
    card = mentor.locator("section.home-card", has=page.locator("h3", has_text="trappan"))
    count = card.locator(".count a")
    assert count.inner_text() == "1"
    count.focus()  # reachable from the keyboard
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server.url + reverse("ladder:my-tasks")
    assert page.locator(f"a[href='{reverse('ladder:task', args=[task.pk])}']").count() == 1
    assert_accessible(page)
