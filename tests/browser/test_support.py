"""Support in a real browser: a mentor turns a flag into a case with a followed-up extra
adaptation; a principal decides an åtgärdsprogram and downloads it; a counsellor's note stays
hidden from the mentor. axe-core on every page."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page
from pypdf import PdfReader

from fullfolj.access.models import SecondFactorRequirement
from fullfolj.support import actions
from fullfolj.support.models import Case, Measure
from fullfolj.support.tests.conftest import make_flag
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser


def test_a_mentor_opens_a_case_from_a_flag_with_an_extra_adaptation(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    flag = make_flag(cast)
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("elevakt:pupil", args=[cast.pupil.pk]))
    assert_accessible(page)
    # From the flag to an open case with an adaptation and a follow-up date: three steps (the
    # responsible person, the start and the follow-up date come prefilled).
    follow(page, page.get_by_role("link", name="Öppna ärende från flaggan"))
    assert flag.explanation in page.locator("dl").inner_text()
    assert_accessible(page)
    page.get_by_label("Anpassning", exact=True).fill("Lugn plats vid prov")
    page.get_by_label("Uppföljningsdatum").fill("2026-04-15")
    follow(page, page.get_by_role("button", name="Öppna ärendet"))
    case = Case.objects.get(pupil=cast.pupil)
    page.wait_for_url(live_server.url + reverse("support:case", args=[case.pk]))
    measures = page.locator("#measures").inner_text()
    assert "Lugn plats vid prov" in measures and "2026-04-15" in measures
    assert case.flag_id == flag.pk and case.responsible == cast.mentor
    assert_accessible(page)


def test_a_bad_follow_up_date_is_refused_on_its_field_and_the_form_kept(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("support:open-case", args=[cast.pupil.pk]))
    page.get_by_label("Anpassning", exact=True).fill("Kortare uppgifter")
    page.get_by_label("Uppföljningsdatum").fill("2026-03-01")
    follow(page, page.get_by_role("button", name="Öppna ärendet"))
    alert = page.get_by_role("alert").inner_text()
    assert "Uppföljningsdatum" in alert and "före start" in alert
    assert page.get_by_label("Anpassning", exact=True).input_value() == "Kortare uppgifter"
    assert not Case.objects.exists()
    assert_accessible(page)


def test_a_principal_decides_an_action_programme_and_downloads_it(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    case, _new = actions.open_case(
        cast.pupil, school=cast.north, responsible=cast.mentor, by=cast.mentor
    )
    programme = actions.add_measure(
        case,
        fields={
            "kind": Measure.Kind.ACTION_PROGRAMME,
            "title": "Åtgärdsprogram",
            "start": dt.date(2026, 3, 2),
            "follow_up_on": dt.date(2026, 4, 13),
            "evaluation_on": dt.date(2026, 5, 25),
            "responsible": cast.mentor,
            "needs": "Stöd att komma i gång på morgonen.",
            "planned_measures": "Speciallärare i matematik.",
        },
        by=cast.mentor,
    )
    login(page, live_server, "principal", "pw-principal")
    page.goto(live_server.url + reverse("support:measure", args=[programme.pk]))
    assert "Inte beslutat ännu" in page.locator("#decision").inner_text()
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Besluta"))
    assert_accessible(page)
    page.get_by_label("Beslutat", exact=True).check()
    page.get_by_label("Beslutsdatum").fill("2026-03-18")
    follow(page, page.get_by_role("button", name="Spara beslutet"))
    page.wait_for_url(live_server.url + reverse("support:measure", args=[programme.pk]))
    assert "2026-03-18" in page.locator("#decision").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner åtgärdsprogrammet (PDF)").click()
    content = Path(download.value.path()).read_bytes()
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split()
    )
    assert "Åtgärdsprogram" in text and "Beslutsdatum 2026-03-18" in text
    assert "Skolväsendets överklagandenämnd" in text


def test_a_counsellors_note_is_invisible_to_the_mentor(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    case, _new = actions.open_case(
        cast.pupil, school=cast.north, responsible=cast.mentor, by=cast.mentor
    )
    # Entries without the second factor here: test_second_factor.py walks through the code.
    SecondFactorRequirement.objects.create(organiser=cast.org, health_entries=False)
    login(page, live_server, "health_two", "pw-health_two")
    page.goto(live_server.url + reverse("support:add-entry", args=[case.pk]))
    assert_accessible(page)
    page.get_by_label("Text").fill("Samtal om sömnen och oron inför prov.")
    follow(page, page.get_by_role("button", name="Spara"))
    page.wait_for_url(live_server.url + reverse("support:case", args=[case.pk]))
    timeline = page.locator("#timeline").inner_text()
    assert "Samtal om sömnen" in timeline
    assert "Syns bara för elevhälsoteamet och rektor" in timeline
    assert_accessible(page)

    page.context.clear_cookies()
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("support:case", args=[case.pk]))
    assert "Samtal om sömnen" not in page.content()
    assert_accessible(page)
