"""Registering a lesson in a real browser: by keyboard alone, on a phone, and two teachers at once.

Every page visited gets the axe-core check. Assertions are on data and structure, not wording.
"""

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

from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance
from fullfolj.schools import models as s
from tests import factories as f
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    """Noon on the pinned day, the clock running: the morning's lessons have started."""
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM), tick=True):
        yield


@pytest.fixture
def lesson(live_cast: SimpleNamespace) -> Lesson:
    """Today's 10:00 maths lesson of 7A-MA: Alva and Bilal, not registered yet."""
    s.GroupMembership.objects.create(
        group=live_cast.group, pupil=live_cast.other_pupil, start=live_cast.year.start
    )
    return f.lesson(
        live_cast.group,
        live_cast.maths,
        live_cast.teacher,
        live_cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 18, 10, 0)),
    )


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def tab_to(page: Page, element_id: str, *, limit: int = 80) -> None:
    """Press Tab until the element with this id has focus (fails if it is never reached)."""
    for _ in range(limit):
        if focused(page) == element_id:
            return
        page.keyboard.press("Tab")
    assert focused(page) == element_id, f"Tab never reached #{element_id}"


def choose_by_keyboard(page: Page, element_id: str, value: str) -> None:
    """Move a focused <select> to `value` with the arrow keys, as a keyboard user does."""
    select = page.locator(f"#{element_id}")
    for _ in range(12):
        if select.input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    assert select.input_value() == value


def test_a_teacher_registers_a_lesson_by_keyboard_alone(
    page: Page, live_server: Any, live_cast: SimpleNamespace, lesson: Lesson
) -> None:
    alva, bilal = live_cast.pupil, live_cast.other_pupil
    page.goto(live_server.url + reverse("login"))
    page.keyboard.press("Tab")
    tab_to(page, "id_username")
    page.keyboard.type("teacher")
    page.keyboard.press("Tab")
    page.keyboard.type("pw-teacher")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The teacher's start page shows what needs them; "Dagens lektioner" is reached by Tab, and
    # from there the lesson's link.
    assert page.url == live_server.url + reverse("elevakt:home")
    today_url = live_server.url + reverse("attendance:today")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.href") == today_url:
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == today_url
    assert_accessible(page)
    register_url = live_server.url + reverse("attendance:lesson-register", args=[lesson.pk])
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.href") == register_url:
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == register_url
    # Everyone present by default.
    assert page.locator("#register input[type=checkbox]:checked").count() == 0
    assert_accessible(page)

    tab_to(page, f"id_p{alva.pk}-absent_whole")
    page.keyboard.press("Space")
    tab_to(page, f"id_p{alva.pk}-status")
    choose_by_keyboard(page, f"id_p{alva.pk}-status", "OGIL")
    tab_to(page, f"id_p{bilal.pk}-late_minutes")
    page.keyboard.type("7")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the whole register

    assert page.url == register_url
    marks = {row.pupil_id: row for row in LessonAttendance.objects.filter(lesson=lesson)}
    assert (marks[alva.pk].absent_minutes, marks[alva.pk].is_valid, marks[alva.pk].reason.code) == (
        lesson.minutes,
        False,
        "OGIL",
    )
    assert (marks[bilal.pk].absent_minutes, marks[bilal.pk].late_minutes) == (0, 7)
    # The history table shows both changes, and the saved marks come back in the form.
    assert page.locator("#history + .table-wrap tbody tr").count() == 2
    assert page.locator(f"#id_p{alva.pk}-absent_whole").is_checked()
    assert page.locator(f"#id_p{bilal.pk}-late_minutes").input_value() == "7"
    assert_accessible(page)


def test_bad_input_is_summarised_with_links_and_the_entries_are_kept(
    page: Page, live_server: Any, live_cast: SimpleNamespace, lesson: Lesson
) -> None:
    alva, bilal = live_cast.pupil, live_cast.other_pupil
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(live_server.url + reverse("attendance:lesson-register", args=[lesson.pk]))
    page.fill(f"#id_p{alva.pk}-absent_minutes", str(lesson.minutes + 15))
    page.fill(f"#id_p{bilal.pk}-late_minutes", "4")
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()

    summary = page.locator("#problems[role=alert]")
    assert summary.is_visible()
    link = summary.locator(f'a[href="#id_p{alva.pk}-absent_minutes"]')
    assert link.count() == 1
    link.click()
    assert focused(page) == f"id_p{alva.pk}-absent_minutes"
    assert page.locator(f"#id_p{bilal.pk}-late_minutes").input_value() == "4"
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()
    assert_accessible(page)


def test_the_register_fits_a_phone_and_saves_there(
    browser: Browser, live_server: Any, live_cast: SimpleNamespace, lesson: Lesson
) -> None:
    context = browser.new_context(
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(5_000)
    page = context.new_page()
    try:
        login(page, live_server, "teacher", "pw-teacher")
        page.goto(live_server.url + reverse("attendance:lesson-register", args=[lesson.pk]))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the register scrolls sideways on a phone ({width}px)"
        alva, bilal = live_cast.pupil, live_cast.other_pupil
        # One line per pupil: name, absent, late minutes, inside the screen, under headings.
        name = page.locator(f"#pupil-{alva.pk} th").bounding_box()
        assert name is not None
        for field in ("absent_whole", "late_minutes"):
            box = page.locator(f"#id_p{alva.pk}-{field}").bounding_box()
            assert box is not None and box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"]
            assert box["y"] < name["y"] + name["height"], f"{field} is not on the name's line"
        row = page.locator(f"#pupil-{bilal.pk}").bounding_box()
        assert row is not None and row["height"] < 60, f"a register row is {row['height']}px"
        assert page.get_by_role("columnheader", name="Frånvarande").is_visible()
        # The reason opens below the line once the pupil is marked absent.
        assert not page.locator(f"#id_p{alva.pk}-status").is_visible()
        button = page.locator("#register button[type=submit]").bounding_box()
        assert button is not None and button["x"] + button["width"] <= PHONE["width"]
        assert_accessible(page)

        page.locator(f"#id_p{alva.pk}-absent_whole").tap()
        status = page.locator(f"#id_p{alva.pk}-status").bounding_box()
        assert status is not None and status["x"] + status["width"] <= PHONE["width"]
        assert page.locator(f'label[for="id_p{alva.pk}-status"]').is_visible()
        page.select_option(f"#id_p{alva.pk}-status", "SJUK")
        with page.expect_navigation():
            page.locator("#register button[type=submit]").tap()
        mark = LessonAttendance.objects.get(lesson=lesson, pupil=alva)
        assert (mark.absent_minutes, mark.reason.code) == (lesson.minutes, "SJUK")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
    finally:
        context.close()


def test_a_conflicting_save_shows_what_changed_and_loses_nothing(
    browser: Browser, page: Page, live_server: Any, live_cast: SimpleNamespace, lesson: Lesson
) -> None:
    alva, bilal = live_cast.pupil, live_cast.other_pupil
    url = live_server.url + reverse("attendance:lesson-register", args=[lesson.pk])
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(url)
    # Meanwhile the principal opens the same register and saves Alva as ill.
    other = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    other.set_default_timeout(5_000)
    principal = other.new_page()
    try:
        login(principal, live_server, "principal", "pw-principal")
        principal.goto(url)
        principal.locator(f"#id_p{alva.pk}-absent_whole").check()
        principal.select_option(f"#id_p{alva.pk}-status", "SJUK")
        with principal.expect_navigation():
            principal.locator("#register button[type=submit]").click()
        assert LessonAttendance.objects.get(lesson=lesson, pupil=alva).reason.code == "SJUK"
    finally:
        other.close()

    # The teacher, still on the old form, marks Bilal late and saves.
    page.fill(f"#id_p{bilal.pk}-late_minutes", "6")
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()
    conflict = page.locator("#conflict[role=alert]")
    assert conflict.is_visible()
    assert alva.full_name in conflict.inner_text()
    assert page.locator(f"#pupil-{alva.pk} .changed").count() >= 1  # marked in the row
    assert page.locator(f"#pupil-{bilal.pk} .changed").count() == 0
    # The teacher's entry is kept in the form; nothing of it was saved yet.
    assert page.locator(f"#id_p{bilal.pk}-late_minutes").input_value() == "6"
    # (the principal's save registered Bilal as present)
    assert LessonAttendance.objects.get(lesson=lesson, pupil=bilal).late_minutes == 0
    assert_accessible(page)

    # The refreshed form now shows the principal's mark; saving again keeps both.
    assert page.locator(f"#id_p{alva.pk}-absent_whole").is_checked()
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()
    assert not page.locator("#conflict").count()
    marks = {row.pupil_id: row for row in LessonAttendance.objects.filter(lesson=lesson)}
    assert marks[alva.pk].reason.code == "SJUK"
    assert marks[bilal.pk].late_minutes == 6
    assert AttendanceChange.objects.filter(lesson=lesson).count() == 2


def test_the_absence_views_are_accessible_and_sort_by_keyboard(
    page: Page, live_server: Any, live_cast: SimpleNamespace, lesson: Lesson
) -> None:
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(live_server.url + reverse("elevakt:my-groups"))
    page.locator(
        f'a[href="{reverse("attendance:group-absence", args=[live_cast.group.pk])}"]'
    ).click()
    page.wait_for_url("**" + reverse("attendance:group-absence", args=[live_cast.group.pk]))
    table = page.locator("#group-absence")
    assert table.locator("tbody th[scope=row]").count() == 2  # Alva and Bilal
    assert_accessible(page)
    header = table.locator("thead th").nth(2)  # total absence
    header.locator("a").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert table.locator("thead th").nth(2).get_attribute("aria-sort") == "ascending"
    names = table.locator("tbody th[scope=row]").all_inner_texts()
    assert names[-1] == f"{live_cast.pupil.last_name}, {live_cast.pupil.first_name}"  # absent
    assert_accessible(page)

    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("attendance:mentees-absence"))
    assert page.locator("#group-absence tbody th[scope=row]").count() == 2
    assert_accessible(page)
    page.goto(live_server.url + reverse("attendance:pupil-calendar", args=[live_cast.pupil.pk]))
    monday = page.locator('#calendar td[data-date="2026-03-16"]')
    assert "all" in (monday.get_attribute("class") or "")  # absent the whole registered day
    assert "100" in monday.inner_text()  # and written out, not only coloured
    assert page.locator("#by-weekday tbody tr").count() == 5
    assert_accessible(page)
