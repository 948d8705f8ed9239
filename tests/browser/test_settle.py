"""Att avgöra in a real browser: the mentor settles an absence, on desktop and phone.

Every page visited gets the axe-core check.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from fullfolj.attendance import actions
from fullfolj.attendance.models import LessonAttendance
from tests import factories as f
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


@pytest.fixture
def open_absence(live_cast: SimpleNamespace) -> LessonAttendance:
    lesson = f.lesson(
        live_cast.group,
        live_cast.maths,
        live_cast.teacher,
        live_cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 10, 0)),
    )
    row = f.mark(lesson, live_cast.pupil, absent=40)
    actions.refresh_pupil_days({(row.pupil_id, row.date)})
    return row


@pytest.mark.parametrize("viewport", [None, {"width": 390, "height": 844}])
def test_mentor_settles_an_absence_and_saves_with_the_keyboard(
    page: Page,
    live_server: Any,
    live_cast: SimpleNamespace,
    open_absence: LessonAttendance,
    viewport: dict[str, int] | None,
) -> None:
    if viewport:
        page.set_viewport_size(viewport)
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("attendance:settle"))
    assert_accessible(page)
    select = page.locator(f"#id_s{open_absence.pk}")
    select.focus()
    select.select_option("SJUK")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".messages").count() == 1
    assert page.locator(f"#id_s{open_absence.pk}").count() == 0
    assert_accessible(page)
    open_absence.refresh_from_db()
    assert (open_absence.is_valid, open_absence.reason.code) == (True, "SJUK")
