"""Guardians not reached, as the mentor meets them in a real browser (and WCAG 2.1 AA, axe)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from fullfolj.notices.channels import MALFORMED_EMAIL
from fullfolj.notices.models import Channel, GuardianNotice, Status
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser


def test_mentor_sees_a_guardian_not_reached_on_the_list_and_the_pupil_page(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    GuardianNotice.objects.create(
        pupil=cast.pupil,
        guardian=cast.parent,
        date=dt.date(2026, 3, 17),
        channel=Channel.EMAIL,
        status=Status.FAILED,
        error=MALFORMED_EMAIL,
        send_after=timezone.make_aware(dt.datetime(2026, 3, 17, 10, 0)),
    )
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("elevakt:my-pupils"))
    row = page.locator("#pupil-list tbody tr", has_text=cast.pupil.last_name)
    unreached = row.locator("td").last  # the list's last column: guardians not reached
    assert unreached.inner_text() == "1"
    assert "high" in (unreached.get_attribute("class") or "")
    assert_accessible(page)

    follow(page, row.get_by_role("link"))
    page.wait_for_url(live_server.url + reverse("elevakt:pupil", args=[cast.pupil.pk]))
    alert = page.locator("#unreached")
    assert "Greta Andersson" in alert.inner_text()
    assert "felaktig e-postadress" in alert.inner_text()
    assert page.locator("#notices tbody tr").count() == 1
    assert_accessible(page)
