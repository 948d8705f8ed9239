"""The compulsory-school officer in a real browser: imports the register (a bad file first,
then the fixed one) and the placement list, matches them for today, opens a child's case, does
its step and closes it with a reason; then reads the term report. Checked with axe-core."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.compulsory.models import OversightCase, Resident
from fullfolj.compulsory.tests import world
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser


def _upload(page: Page, kind: str, path: Path) -> None:
    page.get_by_label("Vad filen innehåller").select_option(kind)
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Ladda upp").click()


def test_the_officer_walks_from_import_to_a_closed_case(
    page: Page, live_server: Any, live_cast: SimpleNamespace, tmp_path: Path
) -> None:
    world.organisers()
    good = world.register_csv(live_cast)
    bad = tmp_path / "folkbokforing-fel.csv"
    wrong = world.GUSTAV[:-1] + str((int(world.GUSTAV[-1]) + 1) % 10)
    bad.write_bytes(good.replace(world.GUSTAV.encode(), wrong.encode()))
    login(page, live_server, "officer", "pw-officer")
    with page.expect_navigation():
        follow(page, page.get_by_role("link", name="Skolpliktsbevakning", exact=True))
    assert page.url == live_server.url + reverse("compulsory:home")
    assert_accessible(page)

    _upload(page, "register", bad)
    problem = page.locator("#problems tbody tr").first.inner_text().split("\t")
    assert problem[:2] == ["7", "Personnummer"] and "kontrollsiffra" in problem[2]
    assert_accessible(page)
    assert not Resident.objects.exists()

    fixed = tmp_path / "folkbokforing.csv"
    fixed.write_bytes(good)
    _upload(page, "register", fixed)
    assert "Importerade 14 rader: 14 nya" in page.locator(".messages").inner_text()
    placements = tmp_path / "placeringar.csv"
    placements.write_bytes(world.placements_csv())
    _upload(page, "placements", placements)
    assert "Importerade 5 rader" in page.locator(".messages").inner_text()

    page.get_by_label("Matcha per datum").fill(world.DAY.isoformat())
    with page.expect_navigation():
        follow(page, page.get_by_role("button", name="Matcha folkbokföringen"))
    assert "8 nya ärenden" in page.locator(".messages").inner_text()
    cases = page.locator("#cases")
    assert "Freja Fors" in cases.inner_text() and "Skyddad väg" not in page.content()
    assert_accessible(page)

    with page.expect_navigation():
        follow(page, cases.get_by_role("link", name="Gustav Nyström"))
    assert "Storgatan 9" in page.content()
    assert_accessible(page)
    steps = page.locator("#steps")
    steps.get_by_label("Vad som gjordes").fill(
        "Ringde vårdnadshavare; barnet har flyttat till Norge."
    )
    with page.expect_navigation():
        follow(page, steps.get_by_role("button", name="Markera som gjort"))
    assert "Ringde vårdnadshavare" in page.locator("#steps").inner_text()

    page.get_by_label("Anledning").select_option("abroad")
    with page.expect_navigation():
        follow(page, page.get_by_role("button", name="Avsluta ärendet"))
    assert "Ärendet är avslutat." in page.locator(".messages").inner_text()
    case = OversightCase.objects.get(personnummer=world.GUSTAV)
    assert case.reason == "abroad" and case.closed_on == world.DAY
    assert case.steps.get().done_on == world.DAY
    assert "Gustav Nyström" not in page.locator("#cases").inner_text()

    with page.expect_navigation():
        follow(page, page.get_by_role("link", name="Skolpliktsbevakning, terminsrapport").first)
    assert "matchningar av folkbokföringen" in page.content()
    assert "Gustav" not in page.content()
    assert_accessible(page)
