"""Follow-up that really happens, in the browser: after the follow-up date the mentor sees the
measure overdue on their home and follows the count to the list; the EHT agenda lists the case
due and the team writes its minutes; every page passes axe."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from conftest import TODAY
from fullfolj.support.models import AgreedAction, Case, CaseEntry, Measure
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser

FOLLOW_UP = TODAY + dt.timedelta(days=7)


@pytest.fixture
def adaptation(live_cast: SimpleNamespace) -> Measure:
    case = Case.objects.create(
        pupil=live_cast.pupil,
        school=live_cast.north,
        responsible=live_cast.mentor,
        status=Case.Status.ACTIVE,
    )
    return Measure.objects.create(
        case=case,
        kind=Measure.Kind.EXTRA_ADAPTATION,
        title="Extra tid vid prov",
        start=TODAY - dt.timedelta(days=14),
        responsible=live_cast.mentor,
        follow_up_on=FOLLOW_UP,
    )


def _followup_card(page: Page) -> Any:
    mentor = page.locator("section.home-group", has=page.locator("h2", has_text="Mentor"))
    return mentor.locator("section.home-card", has=page.locator("h3", has_text="Uppföljning"))


def test_after_the_follow_up_date_the_mentor_sees_the_measure_overdue(
    page: Page, live_server: Any, live_cast: SimpleNamespace, adaptation: Measure, settings: Any
) -> None:
    login(page, live_server, "mentor", "pw-mentor")
    card = _followup_card(page)
    assert card.locator(".count a").inner_text() == "0"
    assert "1" in card.locator("dd").inner_text()  # due within two weeks
    settings.FULLFOLJ_TODAY = (FOLLOW_UP + dt.timedelta(days=1)).isoformat()
    page.reload()
    card = _followup_card(page)
    count = card.locator(".count a")
    assert count.inner_text() == "1"
    assert "warn" in (card.locator(".count").get_attribute("class") or "")
    assert_accessible(page)
    count.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server.url + reverse("followup:follow-ups")
    overdue = page.locator("table.follow-ups").first
    assert "Åkesson" in overdue.inner_text()
    assert "1 dag sen" in overdue.inner_text()
    assert_accessible(page)


def test_the_eht_agenda_lists_the_case_due_and_the_team_writes_minutes(
    page: Page, live_server: Any, live_cast: SimpleNamespace, adaptation: Measure, settings: Any
) -> None:
    cast = live_cast
    settings.FULLFOLJ_TODAY = FOLLOW_UP.isoformat()  # the meeting on the follow-up day
    login(page, live_server, "nurse", "pw-nurse")
    card = page.locator("section.home-card", has=page.locator("h3", has_text="EHT-möte"))
    assert card.locator(".count a").inner_text() == "1"
    with page.expect_navigation():
        card.locator(".count a").click()
    assert page.url.startswith(
        live_server.url + reverse("followup:eht-agenda", args=[cast.north.pk])
    )
    due = page.locator("section", has=page.locator("h2#due-heading"))
    assert "Alva Åkesson" in due.inner_text()
    assert "Extra tid vid prov" in due.inner_text()
    assert_accessible(page)
    with page.expect_navigation():
        follow(page, due.get_by_role("link", name="Skriv protokoll för Alva Åkesson"))
    assert_accessible(page)
    page.get_by_label("Protokoll", exact=True).fill("Anpassningen hjälper på proven.")
    page.get_by_label("Beslut", exact=True).fill("Fortsätt till terminens slut.")
    page.locator("#id_who_1").select_option(label=cast.mentor.full_name)
    page.locator("#id_what_1").fill("Ringa vårdnadshavare")
    page.locator("#id_due_1").fill((FOLLOW_UP + dt.timedelta(days=14)).isoformat())
    with page.expect_navigation():
        follow(page, page.get_by_role("button", name="Spara protokollet"))
    assert "/stod/eht/skolor/" in page.url
    assert "Protokollet är sparat i ärendet." in page.locator("main").inner_text()
    entry = CaseEntry.objects.get(kind=CaseEntry.Kind.EHT_MINUTES)
    assert entry.health_restricted  # the nurse writes under secrecy
    assert AgreedAction.objects.get(entry=entry).who == cast.mentor


def test_the_teacher_sees_the_adaptation_in_the_register(
    page: Page, live_server: Any, live_cast: SimpleNamespace, adaptation: Measure
) -> None:
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(live_server.url + reverse("attendance:lesson-register", args=[live_cast.lesson.pk]))
    adaptations = page.get_by_role("list", name="Extra anpassningar för Alva Åkesson")
    assert adaptations.inner_text() == "Extra tid vid prov"
    page.goto(live_server.url + reverse("elevakt:group", args=[live_cast.group.pk]))
    assert "Extra tid vid prov" in page.locator("#pupil-list").inner_text()
    assert_accessible(page)
