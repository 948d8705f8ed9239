"""The second factor in a real browser: a nurse meets the notice on a student-health entry, sets
up an authenticator app from the QR code, enters its code and reads the entry; a principal with
a device enters a code. axe-core on the notice, the set-up and the code pages."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from conftest import TODAY
from fullfolj.support import actions
from fullfolj.support.models import Case
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser

HEALTH_NOTE = "Samtal om sömnen och oron hemma."


def code_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def health_case(cast: SimpleNamespace) -> Case:
    case, _new = actions.open_case(
        cast.pupil, school=cast.north, responsible=cast.mentor, by=cast.mentor
    )
    actions.add_entry(
        case, kind="note", occurred_on=TODAY, text=HEALTH_NOTE, by=cast.nurse, restricted=True
    )
    return case


def test_a_nurse_sets_up_an_app_verifies_and_reads_the_entry(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    case = health_case(cast)
    login(page, live_server, "nurse", "pw-nurse")
    case_url = live_server.url + reverse("support:case", args=[case.pk])
    page.goto(case_url)
    timeline = page.locator("#timeline").inner_text()
    assert "Det här kräver tvåstegsverifiering" in timeline
    assert HEALTH_NOTE not in timeline
    assert_accessible(page)

    page.get_by_role("link", name="Ställ in en autentiseringsapp").click()
    setup = reverse("access:second-factor-setup")
    page.wait_for_url(lambda url: setup + "?next=" in url)
    qr = page.get_by_role("img", name="QR-kod för din autentiseringsapp")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] > 100  # sized by the stylesheet, scannable
    assert_accessible(page)
    device = TOTPDevice.objects.get(user=cast.nurse.user, confirmed=False)
    key = page.locator("code").inner_text().replace(" ", "")
    assert key and key in device.config_url  # the key to type matches the QR code's
    page.get_by_label("Kod från din autentiseringsapp").fill(code_now(device))
    page.get_by_role("button", name="Verifiera").click()

    page.wait_for_url(case_url)
    timeline = page.locator("#timeline").inner_text()
    assert HEALTH_NOTE in timeline
    assert "Det här kräver tvåstegsverifiering" not in timeline
    assert_accessible(page)


def test_a_principal_with_a_device_enters_a_code_and_a_wrong_one_is_refused(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    case = health_case(cast)
    device = TOTPDevice.objects.create(user=cast.principal.user, name="Telefon", confirmed=True)
    login(page, live_server, "principal", "pw-principal")
    case_url = live_server.url + reverse("support:case", args=[case.pk])
    page.goto(case_url)
    page.get_by_role("link", name="Ange din kod").first.click()
    verify = reverse("access:second-factor")
    page.wait_for_url(lambda url: verify + "?next=" in url)
    right = code_now(device)
    page.get_by_label("Kod från din autentiseringsapp").fill(f"{(int(right) + 1) % 1_000_000:06d}")
    follow(page, page.get_by_role("button", name="Verifiera"))
    assert "Koden var fel eller har gått ut" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    # django-otp makes the next try wait a second after one wrong code.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    page.get_by_label("Kod från din autentiseringsapp").fill(right)
    page.get_by_role("button", name="Verifiera").click()
    page.wait_for_url(case_url)
    assert HEALTH_NOTE in page.locator("#timeline").inner_text()
