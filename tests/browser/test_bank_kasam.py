"""The resource bank and the KASAM dialogue in a real browser: a mentor picks a bank entry into
a case; a pupil answers the questionnaire on a phone and the mentor sees the dimensions on the
pupil page. axe-core on every page."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page

from fullfolj.bank.models import Use
from fullfolj.kasam import actions as kasam
from fullfolj.kasam.models import Response
from fullfolj.support import actions as support
from tests.browser.conftest import assert_accessible, follow, login
from tests.shipped import restore

pytestmark = pytest.mark.browser


@pytest.fixture
def live_cast(transactional_db: None, shipped_rows: Path, request: Any) -> SimpleNamespace:
    """The `cast`, committed, beside the bank's starter entries and the questionnaires: an
    earlier transactional test's flush took the rows the migrations ship, so put them back
    first."""
    restore(shipped_rows)
    return request.getfixturevalue("cast")


def test_a_mentor_picks_a_bank_entry_into_a_case(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    case, _new = support.open_case(cast.pupil, school=cast.north, responsible=cast.mentor, by=None)
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("support:case", args=[case.pk]))
    follow(page, page.get_by_role("link", name="Välj från resursbanken"))
    assert_accessible(page)
    bank_search = page.get_by_role("search", name="Sök i resursbanken")
    bank_search.get_by_label("Sök", exact=True).fill("schema")
    follow(page, bank_search.get_by_role("button", name="Sök"))
    assert "Dagsschema med bilder" in page.locator(".bank-list").inner_text()
    follow(page, page.get_by_role("link", name="Dagsschema med bilder", exact=True))
    assert "Så gick det i kommunen" in page.content()
    assert "inte orsak och verkan" in page.content()
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Använd i ärendet för Alva Åkesson"))
    assert page.get_by_label("Vad").input_value() == "Dagsschema med bilder"
    assert "Så följer man upp" in page.get_by_label("Beskrivning").input_value()
    assert_accessible(page)
    page.get_by_label("Uppföljningsdatum").fill("2026-04-15")
    follow(page, page.get_by_role("button", name="Spara den extra anpassningen"))
    page.wait_for_url(live_server.url + reverse("support:case", args=[case.pk]))
    assert "Dagsschema med bilder" in page.locator("#measures").inner_text()
    use = Use.objects.get()
    assert use.entry.slug == "dagsschema" and use.measure.case == case


def test_a_pupil_answers_on_a_phone_and_the_mentor_sees_the_dimensions(
    browser: Browser, page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    kasam.give_login(cast.pupil, username="alva.elev", password="pw-alva-elev")
    phone = browser.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm", viewport={"width": 390, "height": 844}
    )
    pupil_page = phone.new_page()
    pupil_page.set_default_timeout(5_000)
    login(pupil_page, live_server, "alva.elev", "pw-alva-elev")
    assert pupil_page.url == live_server.url + reverse("kasam:answer")
    assert_accessible(pupil_page)
    assert "Åkesson" not in pupil_page.content()
    width = pupil_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the questionnaire scrolls sideways on a phone ({width} px)"
    questions = pupil_page.locator("fieldset.kasam-question")
    assert questions.count() == 9
    for number in range(questions.count()):
        answer = "2 – stämmer oftast inte" if number >= 6 else "4 – stämmer oftast"
        questions.nth(number).get_by_label(answer).check()
    follow(pupil_page, pupil_page.get_by_role("button", name="Skicka mina svar"))
    assert "Dina svar är sparade" in pupil_page.content()
    assert_accessible(pupil_page)
    # the pupil's login reaches nothing else
    pupil_page.goto(live_server.url + reverse("elevakt:pupil", args=[cast.pupil.pk]))
    assert "Åkesson" not in pupil_page.content()
    phone.close()
    assert Response.objects.get().setting == "pupil"

    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("elevakt:pupil", args=[cast.pupil.pk]))
    table = page.locator("#kasam-table").inner_text()
    assert "Begriplighet" in table and "Meningsfullhet" in table
    assert "4,0" in table and "2,0" in table and "eleven själv" in table
    assert page.locator("svg#kasam").count() == 1
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Öppna enkäten i ett utvecklingssamtal"))
    assert_accessible(page)


def test_the_administration_edits_a_questionnaire_into_a_new_version(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    from fullfolj.kasam.models import Questionnaire

    login(page, live_server, "admin", "pw-admin")
    follow(page, page.get_by_role("link", name="KASAM-enkäter").first)
    assert "Används nu: version 1" in page.content()
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Ändra påståendena").nth(1))  # years 7–9
    assert_accessible(page)
    page.get_by_label("Påstående").nth(9).fill("Jag vet vad jag ska göra efter nian.")
    page.get_by_label("Dimension").nth(9).select_option("meaningfulness")
    page.get_by_label("Påstående").first.fill("")
    follow(page, page.get_by_role("button", name="Spara påståendena"))
    page.wait_for_url(live_server.url + reverse("kasam:questionnaires"))
    assert "Används nu: version 2, er egen." in page.content()
    own = Questionnaire.objects.get(organiser=live_cast.org, stage="7-9")
    texts = [q.text for q in own.questions.all()]
    assert len(texts) == 9 and texts[-1] == "Jag vet vad jag ska göra efter nian."
    assert_accessible(page)
