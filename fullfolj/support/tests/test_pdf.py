"""The åtgärdsprogram as a PDF: its text read back, in the sections Swedish schools use, and no
protected address."""

from __future__ import annotations

import io

from django.urls import reverse
from pypdf import PdfReader

from fullfolj.support import actions


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_decided_programme_prints_its_sections_and_decision(client, cast, programme):
    actions.decide(
        programme,
        version=programme.version,
        seen={},
        decision="decided",
        decided_on=programme.start,
        appeal_text="Överklaga till Skolväsendets överklagandenämnd inom tre veckor.",
        by=cast.principal,
    )
    client.force_login(cast.principal.user)
    response = client.get(reverse("support:measure-pdf", args=[programme.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(_text(response.content).split())
    for expected in [
        "Åtgärdsprogram",
        "Alva Åkesson",
        "Norrskolan",
        "7A",
        "Elevens behov av särskilt stöd",
        "komma i gång med skolarbetet",
        "Speciallärare två lektioner i veckan",
        "Uppföljningsdatum 2026-04-13",
        "Rektors beslut",
        "Beslutsdatum 2026-03-02",
        "Skolväsendets överklagandenämnd",
    ]:
        assert expected in text, expected
    assert "Utkast" not in text


def test_an_undecided_programme_says_it_is_a_draft(client, cast, programme):
    client.force_login(cast.mentor.user)
    response = client.get(reverse("support:measure-pdf", args=[programme.pk]))
    assert "Utkast: ännu inte beslutat av rektor." in " ".join(_text(response.content).split())


def test_a_protected_pupils_programme_names_no_address(client, cast):
    case, _new = actions.open_case(
        cast.protected, school=cast.north, responsible=cast.mentor, by=cast.mentor
    )
    programme = actions.add_measure(
        case,
        fields={
            "kind": "action_programme",
            "title": "Åtgärdsprogram",
            "start": case.opened_at.date(),
            "follow_up_on": case.opened_at.date(),
            "responsible": cast.mentor,
            "needs": "Behov",
            "planned_measures": "Åtgärder",
        },
        by=cast.mentor,
    )
    client.force_login(cast.principal.user)
    text = _text(client.get(reverse("support:measure-pdf", args=[programme.pk])).content)
    assert "Cora Cöster" in text
    assert "Hemliga gatan" not in text and "Gustav" not in text


def test_only_an_action_programme_prints(client, cast, measure):
    client.force_login(cast.mentor.user)
    assert client.get(reverse("support:measure-pdf", args=[measure.pk])).status_code == 404
