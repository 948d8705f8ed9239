"""The handover in a real browser: the year-6 mentor writes and sends it, and the receiving
school's mentor finds the pupil among those starting with them and reads it before the first
day. axe-core on every page."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.handover.models import HandoverRead
from fullfolj.handover.tests.conftest import FIRST_DAY, make_moving
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser


def test_the_receiving_mentor_reads_a_handover_before_the_first_day(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    moving = make_moving(cast)
    login(page, live_server, "sixth_mentor", "pw-sixth_mentor")
    follow(page, page.get_by_role("link", name="Överlämningar att skriva").first)
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="Skriv Hugo Hallberg"))
    assert_accessible(page)
    assert "Bildschema för dagen" in page.get_by_label("Det som fungerade").input_value()
    page.get_by_label("Med elevens egna ord").fill("Jag vill sitta nära dörren.")
    follow(page, page.get_by_role("button", name="Spara och skicka"))
    assert "skickad till den mottagande skolan" in page.locator(".messages").inner_text()
    assert_accessible(page)

    page.context.clear_cookies()
    login(page, live_server, "other_mentor", "pw-other_mentor")
    page.goto(live_server.url + reverse("elevakt:home"))
    follow(page, page.get_by_role("link", name="Elever som börjar hos oss").first)
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text="Hugo Hallberg")
    assert FIRST_DAY.isoformat() in row.inner_text() and "Söderskolan" in row.inner_text()
    follow(page, row.get_by_role("link"))
    assert_accessible(page)
    main = page.locator("main").inner_text()
    assert "Jag vill sitta nära dörren." in main
    assert "Kommer i tid och kommer igång själv." in main
    assert HandoverRead.objects.filter(
        staff=cast.other_mentor, version__handover__pupil=moving.hugo
    ).exists()
