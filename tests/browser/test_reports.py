"""Reports in a real browser: the administration and a principal open their dashboards from
home, the principal runs the evaluation report of a screening's pupils, and both download the
PDF and the Excel file, read back here. axe-core on every page."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import Page
from pypdf import PdfReader

from fullfolj.reports.tests.town import town
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser
__all__ = ["town"]  # the fixture, shared with the app's tests


@pytest.fixture
def live_town(transactional_db: None, town: SimpleNamespace) -> SimpleNamespace:
    """Småstad (fullfolj/reports/tests/conftest.py), committed for the live server's thread."""
    return town


def _download(page: Page, name: str) -> bytes:
    with page.expect_download() as download:
        page.get_by_role("link", name=name).click()
    return Path(download.value.path()).read_bytes()


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_the_administration_opens_the_municipality_dashboard_and_downloads_it(
    page: Page, live_server: Any, live_town: SimpleNamespace
) -> None:
    login(page, live_server, "asa_admin", "pw-asa_admin")
    follow(page, page.get_by_role("link", name="Resultatöversikt"))
    page.wait_for_url(live_server.url + reverse("reports:municipality"))
    assert page.get_by_role("heading", name="Fördelning av frånvaro").is_visible()
    assert page.locator("#table-registrering").inner_text().count("Åsskolan") == 1
    assert_accessible(page)
    pdf = _pdf_text(_download(page, "Ladda ner som PDF"))
    assert "Resultatöversikt för Småstad" in pdf and "< 5" in pdf
    book = load_workbook(io.BytesIO(_download(page, "Ladda ner som Excel")))
    registration = book["Lektioner registrerade samma da"]
    assert [c.value for c in registration[3]] == ["Åsskolan", 4, 3, 0.75]


def test_a_principal_opens_the_school_dashboard_and_the_evaluation_report(
    page: Page, live_server: Any, live_town: SimpleNamespace
) -> None:
    town = live_town
    login(page, live_server, "asa_principal", "pw-asa_principal")
    follow(page, page.get_by_role("link", name="Resultatöversikt"))
    page.wait_for_url(live_server.url + reverse("reports:school", args=[town.school.pk]))
    page.get_by_label("Kön").select_option("F")
    follow(page, page.get_by_role("button", name="Visa"))
    assert "flickor" in page.locator("h1 + p").inner_text()
    assert_accessible(page)

    page.goto(live_server.url + "/")
    follow(page, page.get_by_role("link", name="Utvärderingsrapport"))
    page.get_by_label("Elevlista").select_option(f"run-{town.run.pk}")
    page.get_by_label("Första terminen").select_option(str(town.vt25.pk))
    page.get_by_label("Andra terminen").select_option(str(town.ht25.pk))
    follow(page, page.get_by_role("button", name="Visa rapporten"))
    assert page.get_by_role("heading", name="Förändring i närvaro per elev").is_visible()
    assert "samband" in page.locator(".report-words").inner_text()
    assert_accessible(page)
    pdf = _pdf_text(_download(page, "Ladda ner som PDF"))
    assert "Urval 12" in pdf and "Utvärderingsrapport" in pdf
    book = load_workbook(io.BytesIO(_download(page, "Ladda ner som Excel")))
    movement = book["Urval, avgångna och kvarvarande"]
    assert [c.value for c in movement[7]] == ["Urval", 12]
    assert [c.value for c in movement[3]] == ["Flyttat", "< 5"]


def test_bad_input_is_a_message_on_the_page(
    page: Page, live_server: Any, live_town: SimpleNamespace
) -> None:
    town = live_town
    login(page, live_server, "asa_principal", "pw-asa_principal")
    page.goto(live_server.url + reverse("reports:evaluation"))
    page.get_by_label("Elevlista").select_option(f"run-{town.run.pk}")
    page.get_by_label("Första terminen").select_option(str(town.ht25.pk))
    page.get_by_label("Andra terminen").select_option(str(town.vt25.pk))
    follow(page, page.get_by_role("button", name="Visa rapporten"))
    assert (
        "Den andra terminen måste komma efter den första" in page.get_by_role("alert").inner_text()
    )
    assert_accessible(page)


def test_a_principal_makes_a_list_by_hand_and_evaluates_it(
    page: Page, live_server: Any, live_town: SimpleNamespace
) -> None:
    town = live_town
    login(page, live_server, "asa_principal", "pw-asa_principal")
    page.goto(live_server.url + reverse("reports:evaluation"))
    follow(page, page.get_by_role("link", name="Ny elevlista för Åsskolan"))
    page.get_by_role("searchbox", name="Namn eller klass").fill("9A")
    follow(page, page.get_by_role("search", name="Sök på namn eller klass").get_by_role("button"))
    assert "elever hittades" in page.locator("caption").inner_text()
    assert_accessible(page)
    page.get_by_label("Namn på listan").fill("Handplockade")
    follow(page, page.get_by_role("button", name="Spara listan"))
    assert "Elever: Bocka för minst en elev." in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    first, second = (p.last_name + ", " + p.first_name for p in list(town.pupils.values())[:2])
    page.get_by_label(first, exact=True).check()
    page.get_by_label(second, exact=True).check()
    page.get_by_role("button", name="Spara listan").click()
    page.wait_for_url("**/rapporter/utvardering/?list=*")
    assert page.get_by_label("Elevlista").locator("option:checked").inner_text() == "Handplockade"
    page.get_by_label("Första terminen").select_option(str(town.vt25.pk))
    page.get_by_label("Andra terminen").select_option(str(town.ht25.pk))
    follow(page, page.get_by_role("button", name="Visa rapporten"))
    assert page.get_by_role("heading", name="Förändring i närvaro per elev").is_visible()
