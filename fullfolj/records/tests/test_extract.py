"""The register extract: every kind of data the pupil has, read back from the JSON and the
PDF; protected identity; who may make one, and that making one is logged."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.records.extract import SOURCES, TITLES
from fullfolj.records.models import Extract
from tests.factories import login_with_second_factor

from .conftest import held

TEXTS = [
    "Trappsteg-anledning",
    "Trappsteg-anteckning",
    "Meddelande-till-hemmet",
    "Flagga-förklaring",
    "Ärende-anledning",
    "Elevhälsa-anteckning",
    "EHT-protokoll",
    "Överenskommet-ring",
    "Kartläggning-undervisning",
    "Åtgärdsprogram-titel",
    "Utvärdering-text",
    "Överlämning-fungerade",
    "Tillsyn-anteckning",
    "Tillsyn-steg",
    "Risk-skäl",
    "Sparad-lista",
]


def _pdf_text(content: bytes) -> str:
    """The PDF's text without its line breaks and spaces (table cells wrap words anywhere)."""
    reader = PdfReader(io.BytesIO(content))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def test_every_table_naming_a_pupil_has_its_section():
    from django.apps import apps

    from fullfolj.schools.models import Pupil

    naming = {
        model._meta.label
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if getattr(f, "related_model", None) is Pupil and f.concrete
    }
    assert naming == set(SOURCES)
    assert set(SOURCES.values()) <= set(TITLES)


def test_the_json_holds_every_kind_of_data_the_pupil_has(client, cast, full):
    login_with_second_factor(client, cast.principal.user)
    response = client.get(reverse("records:extract-json", args=[cast.pupil.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    sections = data["sections"]
    assert set(sections) == set(TITLES)
    empty = [key for key, rows in sections.items() if not rows]
    assert empty == [], f"sections without the pupil's rows: {empty}"
    body = json.dumps(data, ensure_ascii=False)
    for text in TEXTS:
        assert text in body, text
    assert sections["pupil"][0]["personnummer"] == cast.pupil.personnummer
    assert sections["pupil"][0]["address"] == cast.pupil.address
    assert sections["guardians"][0]["address"] == "Allén 2"
    assert sections["lesson_marks"] == [
        {
            "subject": "Matematik",
            "lessons": 1,
            "scheduled_minutes": 60,
            "absent_minutes": 60,
            "late_minutes": 0,
        }
    ]
    assert sections["attendance_days"][0]["invalid_minutes"] == 60
    assert [r["staff"] for r in sections["access_log"]][:1] == [cast.teacher.full_name]
    assert sections["grades"][0]["grade"] == "E"


def test_the_pdf_holds_every_kind_of_data_and_the_reads(client, cast, full):
    login_with_second_factor(client, cast.admin.user)
    response = client.get(reverse("records:extract-pdf", args=[cast.pupil.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    for needle in [*TEXTS, cast.pupil.personnummer, cast.teacher.full_name, "Allén 2"]:
        assert needle.replace(" ", "") in text, needle


def test_protected_identity_writes_no_address(client, cast):
    cast.protected.address = "Gömda gränd 3"
    cast.protected.save()
    held(cast, cast.protected)
    login_with_second_factor(client, cast.principal.user)
    data = client.get(reverse("records:extract-json", args=[cast.protected.pk])).content.decode()
    pdf = _pdf_text(client.get(reverse("records:extract-pdf", args=[cast.protected.pk])).content)
    for output in (data, pdf):
        assert "Gömdagränd" not in output.replace(" ", "")
        assert "Hemligagatan" not in output.replace(" ", "")
        assert "gustav@example.se" not in output
        assert "Elevhälsa-anteckning" in output  # the rest is there
    guardian = json.loads(data)["sections"]["guardians"][0]
    assert set(guardian) == {"name", "relation"}
    assert "address" not in json.loads(data)["sections"]["pupil"][0]


# pupil -> who may make the extract: the principal of the pupil's school, and the organiser's
# administration (the multi-role teacher_admin through their administration role)
MAY_MAKE = {
    "pupil": {"principal", "admin", "teacher_admin"},
    "pupil_elsewhere": {"principal_elsewhere", "mentor_principal", "admin", "teacher_admin"},
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("whom", sorted(MAY_MAKE))
@pytest.mark.parametrize("route", ["records:extract-json", "records:extract-pdf"])
def test_who_may_make_an_extract(client, cast, who, whom, route):
    staff, pupil = getattr(cast, who), getattr(cast, whom)
    login_with_second_factor(client, staff.user)
    response = client.get(reverse(route, args=[pupil.pk]))
    if who in MAY_MAKE[whom]:
        assert response.status_code == 200, (who, whom)
        made = Extract.objects.get(pupil=pupil)  # the cast has made none before
        assert made.made_by == staff and made.channel == "page"
        assert made.file_format == route.rsplit("-", 1)[1]
        read = AccessLog.objects.get(staff=staff, pupil=pupil)
        assert read.role in {"principal", "administration"}
    else:
        assert response.status_code == 404, (who, whom)
        assert not Extract.objects.exists()
        assert not AccessLog.objects.filter(staff=staff, pupil=pupil).exists()


def test_an_unknown_pupil_looks_like_a_forbidden_one(client, cast):
    login_with_second_factor(client, cast.principal.user)
    assert client.get(reverse("records:extract-json", args=[999999])).status_code == 404


@pytest.mark.parametrize(("who", "shown"), [("principal", True), ("mentor", False)])
def test_the_pupil_page_offers_the_extract_to_those_who_may(client, cast, who, shown):
    login_with_second_factor(client, getattr(cast, who).user)
    body = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    assert (reverse("records:extract-pdf", args=[cast.pupil.pk]) in body) is shown
    assert (reverse("records:extract-json", args=[cast.pupil.pk]) in body) is shown


def test_the_command_writes_both_files_and_logs_them(cast, full, tmp_path):
    out = io.StringIO()
    call_command("extract", str(cast.pupil.pk), "--out", str(tmp_path / "ut"), stdout=out)
    files = sorted((tmp_path / "ut").iterdir())
    assert [p.suffix for p in files] == [".json", ".pdf"]
    assert str(files[0]) in out.getvalue()
    data = json.loads(files[0].read_text())
    assert data["pupil_id"] == cast.pupil.pk
    assert "Elevhälsa-anteckning" in _pdf_text(files[1].read_bytes())
    made = Extract.objects.filter(channel="command", made_by=None)
    assert sorted(made.values_list("file_format", flat=True)) == ["json", "pdf"]


def test_the_command_refuses_an_unknown_pupil(cast, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="pupil_id"):
        call_command("extract", "999999", "--out", str(tmp_path))
    assert not list(tmp_path.iterdir()) and not Extract.objects.exists()
