"""The administration's upload page: who may open it, the preview with its column map and
presets, the error report, and the import in the background with its progress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.exchange import tasks
from fullfolj.exchange.models import FileImport, ImportPreset
from fullfolj.lib import personnummer
from fullfolj.schools import models as s

URL = "/importera/"
HEAD = "Personnummer;Förnamn;Efternamn;Skolenhetskod;Klass;Startdatum"
PNR = [personnummer.make(dt.date(2012, 9, 9), serial) for serial in range(300, 306)]


def send(client, text: str, *, kind: str = "pupils", name: str = "elever.csv"):
    """Upload a file; the preview page it leads to."""
    data = {"kind": kind, "file": SimpleUploadedFile(name, text.encode("utf-8-sig"), "text/csv")}
    response = client.post(URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"])


def confirm(client, preview, action: str = "import"):
    """Confirm a previewed file, let the worker run it, and open its page."""
    upload = preview.context["upload"]
    response = client.post(reverse("exchange:file", args=[upload.pk]), {"action": action})
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.status == FileImport.Status.QUEUED
    tasks.import_uploaded_file.call(upload.pk)
    return client.get(reverse("exchange:file", args=[upload.pk]))


def test_the_routes_are_named():
    assert reverse("exchange:upload") == URL
    assert reverse("exchange:file", args=[3]) == URL + "3/"
    assert reverse("exchange:file-status", args=[3]) == URL + "3/status/"


@pytest.mark.parametrize("who", ROLES)
def test_only_the_administration_opens_the_upload_page(client, cast, who):
    client.force_login(getattr(cast, who).user)

    response = client.get(URL)

    may = who in {"admin", "teacher_admin"}
    assert response.status_code == (200 if may else 404), who


@pytest.mark.parametrize("who", ROLES)
def test_only_the_administration_of_its_organiser_sees_an_uploaded_file(client, cast, who):
    upload = FileImport.objects.create(
        organiser=cast.org,
        uploaded_at=dt.datetime(2026, 3, 18, 8, tzinfo=dt.UTC),
        kind="pupils",
        name="elever.csv",
        data=f"{HEAD}\n".encode(),
        status=FileImport.Status.PREVIEW,
    )
    client.force_login(getattr(cast, who).user)

    page = client.get(reverse("exchange:file", args=[upload.pk]))
    status = client.get(reverse("exchange:file-status", args=[upload.pk]))

    may = who in {"admin", "teacher_admin"}
    assert (page.status_code, status.status_code) == ((200, 200) if may else (404, 404)), who


def test_another_organisers_file_is_not_found(client, cast):
    other = s.Organiser.objects.create(name="Grannkommun", kind="municipality")
    upload = FileImport.objects.create(
        organiser=other,
        uploaded_at=dt.datetime(2026, 3, 18, 8, tzinfo=dt.UTC),
        kind="pupils",
        name="grannens.csv",
        data=b"",
        status=FileImport.Status.PREVIEW,
    )
    client.force_login(cast.admin.user)

    assert client.get(reverse("exchange:file", args=[upload.pk])).status_code == 404
    assert (
        client.post(reverse("exchange:file", args=[upload.pk]), {"action": "import"}).status_code
        == 404
    )


def test_the_preview_names_every_bad_row_and_a_fixed_file_is_imported_in_the_background(
    client, cast
):
    client.force_login(cast.admin.user)
    code = cast.north.unit_code

    bad = send(
        client,
        "\n".join([HEAD, f"{PNR[0]};Ada;Al;{code};7A;2026-02-30", f"{PNR[1]};Bo;Bok;99999999;;"]),
    )

    assert [(p.line, p.column) for p in bad.context["preview"].problems] == [
        (2, "Startdatum"),
        (3, "Skolenhetskod"),
    ]
    assert 'value="import"' not in bad.content.decode()  # no import of a bad file
    refused = client.post(
        reverse("exchange:file", args=[bad.context["upload"].pk]), {"action": "import"}
    )
    assert refused.status_code == 400
    assert not s.Pupil.objects.filter(personnummer__in=PNR).exists()

    good = send(
        client,
        "\n".join([HEAD, f"{PNR[0]};Ada;Al;{code};7A;2026-02-27", f"{PNR[1]};Bo;Bok;{code};;"]),
    )
    assert good.context["preview"].rows[0] == (
        2,
        [PNR[0], "Ada", "Al", code, "7A", "2026-02-27", "", ""],
    )
    assert not s.Pupil.objects.filter(personnummer__in=PNR).exists()  # a preview writes nothing

    done = confirm(client, good)

    assert done.context["upload"].status == FileImport.Status.DONE
    assert done.context["upload"].outcome["created"] == 2
    assert done.context["upload"].data in (b"", memoryview(b""))  # the file is not kept
    assert s.Pupil.objects.filter(personnummer__in=PNR).count() == 2


def test_the_status_answers_with_the_progress_while_it_runs(client, cast):
    client.force_login(cast.admin.user)
    preview = send(client, "\n".join([HEAD, f"{PNR[4]};Ada;Al;{cast.north.unit_code};;"]))
    upload = preview.context["upload"]
    client.post(reverse("exchange:file", args=[upload.pk]), {"action": "import"})

    queued = client.get(reverse("exchange:file", args=[upload.pk]))
    status = client.get(reverse("exchange:file-status", args=[upload.pk])).json()

    page = queued.content.decode()
    assert "<progress" in page and 'aria-live="polite"' in page
    assert status["running"] is True and status["status"] == "queued"
    tasks.import_uploaded_file.call(upload.pk)
    assert client.get(reverse("exchange:file-status", args=[upload.pk])).json() == {
        "status": "done",
        "label": "importerad",
        "percent": 100,
        "rows_done": 1,
        "rows_total": 1,
        "running": False,
    }


def test_a_run_that_refuses_a_row_while_writing_is_reported_and_writes_nothing(client, cast):
    client.force_login(cast.admin.user)
    # The pupil already goes to school elsewhere from that day: the new placement overlaps.
    text = "\n".join(
        [HEAD, f"{cast.pupil.personnummer};Alva;Åkesson;{cast.south.unit_code};;2026-03-01"]
    )
    before = s.Placement.objects.filter(pupil=cast.pupil).count()

    page = confirm(client, send(client, text))

    assert page.context["upload"].status == FileImport.Status.REFUSED
    assert [p.line for p in page.context["problems"]] == [2]
    assert s.Placement.objects.filter(pupil=cast.pupil).count() == before


def test_checking_only_imports_nothing(client, cast):
    client.force_login(cast.admin.user)

    page = confirm(
        client,
        send(client, "\n".join([HEAD, f"{PNR[2]};Ada;Al;{cast.north.unit_code};;"])),
        "check",
    )

    assert page.context["upload"].status == FileImport.Status.CHECKED
    assert not s.Pupil.objects.filter(personnummer=PNR[2]).exists()


def test_a_built_in_preset_is_chosen_when_the_headers_fit_it(client, cast):
    client.force_login(cast.admin.user)
    text = "\n".join(
        [
            "Personnr;Förnamn;Efternamn;Skolenhet;Klass;Placeringsdatum",
            f"{PNR[3]};Ada;Al;{cast.north.unit_code};;2026-01-07",
        ]
    )

    preview = send(client, text)

    assert preview.context["preview"].missing == []
    assert preview.context["upload"].columns["pnr"] == "Personnr"
    assert "läses med mappningen ”Skola24-liknande”" in preview.content.decode()
    confirm(client, preview)
    assert s.Placement.objects.get(pupil__personnummer=PNR[3]).start == dt.date(2026, 1, 7)


def test_columns_mapped_by_hand_are_saved_as_a_preset_for_the_next_file(client, cast):
    client.force_login(cast.admin.user)
    text = "\n".join(["Id;Namn;Släktnamn;Enhet", f"{PNR[5]};Ada;Al;{cast.north.unit_code}"])

    preview = send(client, text)
    assert preview.context["preview"].missing == [
        "Personnummer",
        "Förnamn",
        "Efternamn",
        "Skolenhetskod",
    ]
    upload = preview.context["upload"]
    mapped = client.post(
        reverse("exchange:file", args=[upload.pk]),
        {
            "action": "map",
            "col_pnr": "Id",
            "col_first": "Namn",
            "col_last": "Släktnamn",
            "col_school": "Enhet",
            "save_as": "Vårt gamla system",
        },
    )
    assert mapped.status_code == 302
    assert ImportPreset.objects.get(name="Vårt gamla system").columns["last"] == "Släktnamn"

    again = send(client, text, name="igen.csv")  # the saved map fits the next file by itself
    assert again.context["preview"].missing == []
    assert confirm(client, again).context["upload"].outcome["created"] == 1


def test_a_file_in_an_unknown_format_is_named_on_the_form(client, cast):
    client.force_login(cast.admin.user)
    data = {"kind": "pupils", "file": SimpleUploadedFile("elever.csv", b"\x00\x01", "text/csv")}

    response = client.post(URL, data)

    assert response.status_code == 400
    assert "varken en textfil (CSV) eller en Excelfil" in str(
        response.context["form"].errors["file"]
    )
    assert not FileImport.objects.exists()


def test_a_large_file_is_checked_in_part_on_the_preview_and_whole_by_the_import(
    client, cast, monkeypatch
):
    from fullfolj.exchange.tabular import presets

    monkeypatch.setattr(presets, "CHECKED_ROWS", 1)
    client.force_login(cast.admin.user)
    code = cast.north.unit_code
    text = "\n".join([HEAD, f"{PNR[0]};Ada;Al;{code};;", f"{PNR[1]};Bo;Bok;99999999;;"])

    preview = send(client, text)

    assert preview.context["preview"].problems == []  # only line 2 was checked here
    assert preview.context["preview"].partly_checked
    page = confirm(client, preview)
    assert [(p.line, p.column) for p in page.context["problems"]] == [(3, "Skolenhetskod")]
    assert not s.Pupil.objects.filter(personnummer__in=PNR[:2]).exists()
