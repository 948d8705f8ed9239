"""The administration uploads a CSV file of pupils in a real browser, reads the report of its
bad rows on the preview, fixes the file, maps a column by a preset, imports it in the
background and follows its progress. Checked with axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from fullfolj.exchange import tasks
from fullfolj.exchange.models import FileImport
from fullfolj.lib import personnummer
from fullfolj.schools.models import Pupil
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser

HEAD = "Personnummer;Förnamn;Efternamn;Skolenhetskod;Klass;Startdatum"


def _upload(page: Page, path: Path) -> None:
    page.get_by_label("Vad filen innehåller").select_option("pupils")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Ladda upp och förhandsgranska").click()


def test_admin_uploads_a_file_reads_the_problems_fixes_it_and_imports_it(
    page: Page, live_server: Any, live_cast: SimpleNamespace, tmp_path: Path
) -> None:
    code = live_cast.north.unit_code
    ada = personnummer.make(dt.date(2012, 9, 9), 410)
    bad = tmp_path / "elever.csv"
    bad.write_text(f"{HEAD}\n{ada};Ada;Ahlberg;{code};7A;2026-02-30\n", encoding="cp1252")
    login(page, live_server, "admin", "pw-admin")
    with page.expect_navigation():
        follow(page, page.get_by_role("link", name="Importera en fil"))
    assert page.url == live_server.url + reverse("exchange:upload")
    assert_accessible(page)

    _upload(page, bad)

    report = page.locator("#problems")
    assert "1 fel i filen" in report.locator("h2").inner_text()
    assert report.locator("tbody tr").first.inner_text().split("\t") == [
        "2",
        "Startdatum",
        "”2026-02-30” är ett datum som inte finns.",
    ]
    assert page.get_by_role("button", name="Importera 1 rad").count() == 0
    assert_accessible(page)
    assert not Pupil.objects.filter(last_name="Ahlberg").exists()

    # The fixed file comes from another system: its headers fit a built-in column map.
    fixed = tmp_path / "elever-rättad.csv"
    fixed.write_text(
        f"Personnr;Förnamn;Efternamn;Skolenhet;Klass;Placeringsdatum\n"
        f"{ada};Ada;Ahlberg;{code};7A;2026-02-27\n",
        encoding="utf-8-sig",
    )
    with page.expect_navigation():
        page.get_by_role("link", name="Importera en fil").first.click()
    _upload(page, fixed)

    assert page.locator("#problems").count() == 0
    expect(page.get_by_label("Personnummer *")).to_have_value("Personnr")
    first = page.locator("table").first.locator("tbody tr").first.inner_text().split("\t")
    assert first[:4] == ["2", ada, "Ada", "Ahlberg"]
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Importera 1 rad").click()

    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    assert_accessible(page)
    queued = FileImport.objects.get(name="elever-rättad.csv")
    tasks.import_uploaded_file.call(queued.pk)  # what `fullfolj worker` does

    outcome = page.locator("#outcome")  # the page asks for the status and shows the outcome
    expect(outcome).to_contain_text("Importerade 1 rader: 1 nya", timeout=10_000)
    assert_accessible(page)
    assert Pupil.objects.get(last_name="Ahlberg").placements.get().school_class.name == "7A"
