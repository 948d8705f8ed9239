"""The administration's upload page: who may open it, the error report, the import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.lib import personnummer
from fullfolj.schools import models as s

URL = "/importera/"
HEAD = "Personnummer;Förnamn;Efternamn;Skolenhetskod;Klass;Startdatum"
PNR = [personnummer.make(dt.date(2012, 9, 9), serial) for serial in range(300, 305)]


def upload(client, text: str, *, check_only: bool = False):
    data = {
        "kind": "pupils",
        "file": SimpleUploadedFile("elever.csv", text.encode("utf-8-sig"), "text/csv"),
    }
    if check_only:
        data["check_only"] = "on"
    return client.post(URL, data)


def test_the_route_is_named():
    assert reverse("exchange:upload") == URL


@pytest.mark.parametrize("who", ROLES)
def test_only_the_administration_opens_the_upload_page(client, cast, who):
    client.force_login(getattr(cast, who).user)

    response = client.get(URL)

    may = who in {"admin", "teacher_admin"}
    assert response.status_code == (200 if may else 404), who


def test_a_bad_file_is_reported_row_by_row_and_a_fixed_one_imported(client, cast):
    client.force_login(cast.admin.user)
    code = cast.north.unit_code

    bad = upload(
        client,
        "\n".join([HEAD, f"{PNR[0]};Ada;Al;{code};7A;2026-02-30", f"{PNR[1]};Bo;Bok;99999999;;"]),
    )

    assert bad.status_code == 400
    assert [(p.line, p.column) for p in bad.context["problems"]] == [
        (2, "Startdatum"),
        (3, "Skolenhetskod"),
    ]
    assert not s.Pupil.objects.filter(personnummer__in=PNR).exists()

    good = upload(
        client,
        "\n".join([HEAD, f"{PNR[0]};Ada;Al;{code};7A;2026-02-27", f"{PNR[1]};Bo;Bok;{code};;"]),
    )

    assert good.status_code == 302
    assert s.Pupil.objects.filter(personnummer__in=PNR).count() == 2


def test_checking_only_imports_nothing(client, cast):
    client.force_login(cast.admin.user)

    response = upload(
        client, "\n".join([HEAD, f"{PNR[2]};Ada;Al;{cast.north.unit_code};;"]), check_only=True
    )

    assert response.status_code == 302
    assert not s.Pupil.objects.filter(personnummer=PNR[2]).exists()


def test_another_organisers_schools_and_pupils_are_out_of_reach(client, cast):
    other = s.Organiser.objects.create(name="Grannkommun", kind="municipality")
    theirs = s.School.objects.create(organiser=other, name="Grannskolan", unit_code="55555555")
    client.force_login(cast.admin.user)

    response = upload(
        client,
        "\n".join(
            [
                HEAD,
                f"{PNR[3]};Ada;Al;{theirs.unit_code};;",
                f"{cast.pupil.personnummer};Alva;Ändrad;{cast.north.unit_code};;",
            ]
        ),
    )

    assert [(p.line, p.column) for p in response.context["problems"]] == [(2, "Skolenhetskod")]
    cast.pupil.refresh_from_db()
    assert cast.pupil.last_name == "Åkesson"
    s.Pupil.objects.filter(pk=cast.pupil.pk).update(organiser=other)

    response = upload(
        client, "\n".join([HEAD, f"{cast.pupil.personnummer};Alva;Ändrad;{cast.north.unit_code};;"])
    )

    assert [(p.line, p.column) for p in response.context["problems"]] == [(2, "Personnummer")]


def test_a_file_in_an_unknown_format_is_named_on_the_form(client, cast):
    client.force_login(cast.admin.user)
    data = {"kind": "pupils", "file": SimpleUploadedFile("elever.csv", b"\x00\x01", "text/csv")}

    response = client.post(URL, data)

    assert response.status_code == 400
    assert "varken en textfil (CSV) eller en Excelfil" in str(
        response.context["form"].errors["file"]
    )
