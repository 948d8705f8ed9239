"""The demo as a new user meets it: built by `fullfolj demo` on a Saturday, then each printed
login walks its home and its main workflow in Chromium, with axe on every page it lands on.

One test, because the live server needs the data committed and every browser test's database
is emptied when it ends; the build (a small municipality) is the expensive part.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.attendance.models import Lesson, LessonAttendance
from fullfolj.ladder.models import LadderTask
from fullfolj.schools.models import Role, School, Staff
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.simulation import demo
from fullfolj.simulation.loader import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, follow, login
from tests.shipped import restore

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SATURDAY = dt.date(2026, 12, 5)


@pytest.fixture
def built(settings: Any, tmp_path: Any, shipped_rows: Path) -> demo.Cast:
    restore(shipped_rows)  # an earlier transactional test's flush took the shipped rules too
    settings.FULLFOLJ_TODAY = SATURDAY.isoformat()
    settings.DATA_DIR = tmp_path
    call_command("demo", pupils=150, no_serve=True, stdout=io.StringIO())
    cast = demo.saved_cast()
    assert cast is not None
    return cast


def _as(page: Page, live_server: Any, cast: demo.Cast, role: str) -> Staff:
    page.context.clear_cookies()
    username = cast.usernames[role]
    login(page, live_server, username, DEMO_PASSWORD)
    assert page.url == live_server.url + reverse("elevakt:home")
    assert page.locator("main section.home-card").count() >= 1, f"{role}: an empty home"
    assert_accessible(page)
    return Staff.objects.get(username=username)


def test_every_printed_login_walks_its_home_and_main_workflow(
    page: Page, live_server: Any, built: demo.Cast
) -> None:
    cast = built
    school = School.objects.get(name=cast.school)

    # The teacher registers an earlier lesson from the week view.
    teacher = _as(page, live_server, cast, Role.TEACHER)
    page.goto(live_server.url + reverse("attendance:week"))
    assert_accessible(page)
    waiting = page.locator("li", has_text="Ej registrerad").locator("a").first
    lesson_id = int(re.findall(r"/(\d+)/", waiting.get_attribute("href") or "")[-1])
    assert Lesson.objects.get(pk=lesson_id).registered_at is None
    waiting.click()
    page.wait_for_url("**" + reverse("attendance:lesson-register", args=[lesson_id]))
    assert_accessible(page)
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()
    lesson = Lesson.objects.get(pk=lesson_id)
    assert lesson.registered_at is not None and lesson.registered_by_id == teacher.pk

    # The mentor settles an absence, then documents and closes a ladder task.
    mentor = _as(page, live_server, cast, Role.MENTOR)
    page.goto(live_server.url + reverse("attendance:settle"))
    assert_accessible(page)
    choice = page.locator("main select").first
    absence_id = int((choice.get_attribute("id") or "").removeprefix("id_s"))
    choice.select_option("SJUK")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert LessonAttendance.objects.get(pk=absence_id).is_valid is True

    page.goto(live_server.url + reverse("ladder:my-tasks"))
    assert_accessible(page)
    follow(page, page.locator("#tasks tbody a").first)
    task_id = int(re.findall(r"/(\d+)/", page.url)[-1])
    task = LadderTask.objects.get(pk=task_id)
    assert task.is_open and task.assignee_id == mentor.pk
    page.locator("main form input[type=radio]").first.check()
    page.get_by_label("Dokumentation", exact=True).fill("Ringde vårdnadshavare; plan till fredag.")
    page.get_by_role("button", name="Dokumentera och avsluta").click()
    page.wait_for_url("**" + reverse("ladder:task", args=[task_id]))
    assert not LadderTask.objects.get(pk=task_id).is_open
    assert_accessible(page)

    # The principal finds a pupil by search and opens the risk list, where every pupil the
    # level rule flagged at the school is listed.
    _as(page, live_server, cast, Role.PRINCIPAL)
    run = ScreeningRun.objects.filter(organiser=school.organiser).latest("pk")
    flagged = Flag.objects.filter(
        run=run, rule_code="problematic_absence", school=school
    ).select_related("pupil")
    assert flagged.exists(), "the demo has no pupil in problematic absence at the school"
    someone = flagged.first().pupil
    page.fill("#header-search", someone.last_name)
    with page.expect_navigation():
        page.press("#header-search", "Enter")
    assert_accessible(page)
    page.locator("#search-results a", has_text=someone.first_name).first.click()
    page.wait_for_url("**" + reverse("elevakt:pupil", args=[someone.pk]))
    assert page.locator("h1").inner_text() == someone.full_name
    page.goto(
        live_server.url
        + reverse("elevakt:school-riskzon", args=[school.pk])
        + "?rule=problematic_absence"
    )
    assert_accessible(page)
    listed = " ".join(page.locator("table.risk tbody").all_inner_texts())
    for flag in flagged:
        assert flag.pupil.full_name in listed, flag.pupil

    # The officer and the school doctor see homes with content; the administration login
    # opens the admin of its organiser.
    _as(page, live_server, cast, Role.ATTENDANCE_OFFICER)
    _as(page, live_server, cast, Role.SCHOOL_DOCTOR)
    _as(page, live_server, cast, Role.ADMINISTRATION)
    page.goto(live_server.url + "/admin/")
    assert page.locator("#site-name, h1").first.is_visible()
    assert "/admin/login" not in page.url
