"""A teacher's lessons in a real browser: from the week view to an earlier lesson left
unregistered, registered there, and the week showing it; the pages on a phone.

Every page visited gets the axe-core check. Assertions are on data and structure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page

from fullfolj.attendance.models import Lesson, LessonAttendance
from fullfolj.schools import models as s
from tests import factories as f
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM), tick=True):
        yield


@pytest.fixture
def tuesday(live_cast: SimpleNamespace) -> Lesson:
    """Yesterday's maths lesson of 7A-MA (Alva and Bilal), never registered."""
    s.GroupMembership.objects.create(
        group=live_cast.group, pupil=live_cast.other_pupil, start=live_cast.year.start
    )
    return f.lesson(
        live_cast.group,
        live_cast.maths,
        live_cast.teacher,
        live_cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 13, 0)),
    )


def test_a_teacher_registers_an_earlier_lesson_from_the_week_view(
    page: Page, live_server: Any, live_cast: SimpleNamespace, tuesday: Lesson
) -> None:
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(live_server.url + reverse("attendance:today"))
    assert_accessible(page)
    page.get_by_role("link", name="Vecka", exact=True).click()
    page.wait_for_url("**" + reverse("attendance:week"))
    assert_accessible(page)
    href = reverse("attendance:lesson-register", args=[tuesday.pk])
    link = page.locator(f'a[href="{href}"]')
    item = page.locator("li", has=link)
    assert "Ej registrerad" in item.inner_text()
    assert page.locator("[aria-current=date]").count() == 1
    link.click()
    page.wait_for_url("**" + reverse("attendance:lesson-register", args=[tuesday.pk]))
    assert_accessible(page)
    bilal = live_cast.other_pupil
    page.fill(f"#id_p{bilal.pk}-late_minutes", "7")
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()
    mark = LessonAttendance.objects.get(lesson=tuesday, pupil=bilal)
    assert mark.late_minutes == 7
    tuesday.refresh_from_db()
    assert tuesday.registered_at is not None
    assert "i efterhand" in page.locator("main").inner_text()
    page.get_by_role("link", name="Hela veckan").click()
    page.wait_for_url("**" + reverse("attendance:week") + "*")
    item = page.locator("li", has=link)
    assert "Registrerad" in item.inner_text() and "Ej registrerad" not in item.inner_text()
    follow(page, page.get_by_role("link", name="Att registrera"))
    assert_accessible(page)
    # Monday's lesson of the cast is still left; Tuesday's is not.
    body = page.locator("main").inner_text()
    assert "1 lektion" in body
    assert link.count() == 0


def test_the_week_and_day_fit_a_phone(
    browser: Browser, live_server: Any, live_cast: SimpleNamespace, tuesday: Lesson
) -> None:
    context = browser.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm", viewport=PHONE, is_mobile=True
    )
    context.set_default_timeout(5_000)
    page = context.new_page()
    try:
        login(page, live_server, "teacher", "pw-teacher")
        for route in ("attendance:week", "attendance:today", "attendance:to-register"):
            page.goto(live_server.url + reverse(route))
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{route} scrolls sideways on a phone ({width}px)"
            assert_accessible(page)
        page.goto(live_server.url + reverse("attendance:week"))
        days = page.locator(".week section")
        first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
        assert first is not None and second is not None
        assert second["y"] > first["y"], "the days are not one below the other on a phone"
    finally:
        context.close()
