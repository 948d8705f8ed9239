"""The administration uploads a CSV file of pupils in a real browser, reads the report of its
bad rows, fixes the file and imports it. Checked with axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.lib import personnummer
from fullfolj.schools.models import Pupil
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

HEAD = "Personnummer;Förnamn;Efternamn;Skolenhetskod;Klass;Startdatum"


def test_admin_uploads_a_file_reads_the_problems_fixes_it_and_imports_it(
    page: Page, live_server: Any, live_cast: SimpleNamespace, tmp_path: Path
) -> None:
    code = live_cast.north.unit_code
    ada = personnummer.make(dt.date(2012, 9, 9), 410)
    bad = tmp_path / "elever.csv"
    bad.write_text(f"{HEAD}\n{ada};Ada;Ahlberg;{code};7A;2026-02-30\n", encoding="cp1252")
    login(page, live_server, "admin", "pw-admin")
    with page.expect_navigation():
        page.get_by_role("link", name="Importera en fil").click()
    assert page.url == live_server.url + reverse("exchange:upload")
    assert_accessible(page)

    page.get_by_label("Vad filen innehåller").select_option("pupils")
    page.set_input_files("#id_file", str(bad))
    with page.expect_navigation():
        page.get_by_role("button", name="Ladda upp").click()

    report = page.locator("#problems")
    assert "Ingenting importerades" in report.locator("h2").inner_text()
    assert report.locator("tbody tr").first.inner_text().split("\t") == [
        "2",
        "Startdatum",
        "”2026-02-30” är ett datum som inte finns.",
    ]
    assert_accessible(page)
    assert not Pupil.objects.filter(last_name="Ahlberg").exists()

    fixed = tmp_path / "elever-rättad.csv"
    fixed.write_text(f"{HEAD}\n{ada};Ada;Ahlberg;{code};7A;2026-02-27\n", encoding="utf-8-sig")
    page.set_input_files("#id_file", str(fixed))
    with page.expect_navigation():
        page.get_by_role("button", name="Ladda upp").click()

    assert "Importerade 1 rader: 1 nya" in page.locator(".messages").inner_text()
    assert page.locator("#problems").count() == 0
    assert Pupil.objects.get(last_name="Ahlberg").placements.get().school_class.name == "7A"
