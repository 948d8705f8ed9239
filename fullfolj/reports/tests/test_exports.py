"""The PDF and the Excel file read back: the same figures as the page, numbers as numbers,
Swedish headers, and small groups as "< 5" in both."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _sheets(content: bytes):
    return load_workbook(io.BytesIO(content), data_only=True)


def _dashboard(client, town, fmt, **params):
    client.force_login(town.admin.user)
    query = {"term": town.vt26.pk, **params}
    if fmt:
        query["format"] = fmt
    return client.get(reverse("reports:municipality"), query)


def test_the_excel_file_holds_each_table_with_numbers(client, town, settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1
    response = _dashboard(client, town, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = _sheets(response.content)
    assert "Fördelning av frånvaro" in book.sheetnames
    sheet = book["Fördelning av frånvaro"]
    assert [c.value for c in sheet[2]] == [
        "Frånvaro under perioden",
        "Flickor",
        "Pojkar",
        "Elever",
        "Andel",
    ]
    assert [c.value for c in sheet[3]] == ["0 till under 5 %", 2, 3, 5, 0.5]
    assert [c.value for c in sheet[8]] == ["Alla", 5, 5, 10, 1.0]
    assert sheet["E3"].number_format == "0.0%"
    follow = book["Uppföljning av insatser"]
    assert [c.value for c in follow[3]] == ["Åsskolan", 2, 1, pytest.approx(0.6667)]
    registration = book["Lektioner registrerade samma da"]  # Excel's 31 characters
    assert [c.value for c in registration[3]] == ["Åsskolan", 4, 3, 0.75]


def test_small_groups_are_hidden_in_the_page_the_excel_file_and_the_pdf(client, town):
    page = _dashboard(client, town, None).content.decode()
    assert "&lt; 5" in page
    book = _sheets(_dashboard(client, town, "xlsx").content)
    sheet = book["Fördelning av frånvaro"]
    counts = [c.value for row in sheet.iter_rows(min_row=3, max_row=8) for c in row[1:4]]
    assert "< 5" in counts
    assert all(v == "< 5" or v == 0 or (isinstance(v, int) and v >= 5) for v in counts)
    text = _pdf_text(_dashboard(client, town, "pdf").content)
    assert "Fördelning av frånvaro" in text and "< 5" in text


def test_the_pdf_holds_the_tables_and_the_charts(client, town, settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1
    response = _dashboard(client, town, "pdf")
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    for expected in [
        "Resultatöversikt för Småstad",
        "2026-01-08 till 2026-06-12",
        "Behörighet och meritvärde per årskurs",
        "Årskurs 9 10 6 4 60,0 % 109,5",
        "Kontakt med vårdnadshavare 4 1",
        "Åsskolan 4 3 75,0 %",
    ]:
        assert expected in text, expected
    assert "G1 " not in text and "Småstadsson" not in text


def test_the_evaluation_report_downloads_with_its_words(client, town, settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1
    client.force_login(town.principal.user)
    query = {
        "source": f"run-{town.run.pk}",
        "first": town.vt25.pk,
        "second": town.ht25.pk,
        "threshold": "5",
    }
    page = client.get(reverse("reports:evaluation"), query).content.decode()
    assert "ett starkt positivt samband" in page
    text = _pdf_text(client.get(reverse("reports:evaluation"), {**query, "format": "pdf"}).content)
    assert "Urval 12" in text and "Kvar 9" in text and "ett starkt positivt samband" in text
    book = _sheets(client.get(reverse("reports:evaluation"), {**query, "format": "xlsx"}).content)
    assert "Sammanfattning" in book.sheetnames
    change = book["Förändring i närvaro per elev"]
    assert [c.value for c in change[3]][:2] == ["Förbättrad med mer än 5,0 procentenheter", 3]


def test_bad_filters_are_named_on_the_field(client, town):
    client.force_login(town.admin.user)
    response = client.get(
        reverse("reports:municipality"), {"start": "2026-03-01", "end": "2026-02-01"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Perioden slutar innan den börjar." in body
    response = client.get(reverse("reports:municipality"), {"start": "2026-13-01", "end": "x"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
