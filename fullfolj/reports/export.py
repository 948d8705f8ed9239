"""A report as a PDF (WeasyPrint, the page's SVG charts) and as an Excel workbook (openpyxl: one
sheet per table, numbers as numbers, Swedish headers). Hidden figures are "< 5" in both."""

from __future__ import annotations

import io
import re

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fullfolj.lib import clock

from .tables import Report, Table, hidden_text


def pdf(report: Report, *, base_url: str | None = None) -> bytes:
    from weasyprint import HTML  # heavy: loaded only when a report is printed

    html = render_to_string(
        "reports/report_pdf.html", {"report": report, "printed_on": clock.today()}
    )
    document: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return document


def xlsx(report: Report) -> bytes:
    workbook = Workbook()
    first = workbook.active
    assert first is not None  # noqa: S101 - a new workbook has its sheet
    workbook.remove(first)
    used: set[str] = set()
    if report.messages or report.texts:
        sheet = workbook.create_sheet(_sheet_name(_("Summary of the report"), used))
        sheet.append([report.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([report.subtitle])
        for line in [*report.messages, *report.texts]:
            sheet.append([line])
    for table in report.tables:
        _write(workbook.create_sheet(_sheet_name(table.title, used)), table)
    if not workbook.sheetnames:
        workbook.create_sheet(_sheet_name(report.title, used))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\, and unique in the workbook."""
    name = re.sub(r"[\[\]:*?/\\]", "", title)[:31].strip() or "Tabell"
    base, n = name, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _write(sheet, table: Table) -> None:  # type: ignore[no-untyped-def]
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(list(table.header))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for label, values in table.all_rows:
        row: list[object] = [label]
        for value, unit in zip(values, table.units, strict=True):
            if value is None:
                row.append(hidden_text() if unit == "count" else "–")
            elif unit == "percent" and not isinstance(value, str):
                row.append(round(float(value) / 100, 4))
            else:
                row.append(value)
        sheet.append(row)
        for cell, unit in zip(sheet[sheet.max_row][1:], table.units, strict=True):
            if unit == "percent" and isinstance(cell.value, float):
                cell.number_format = "0.0%"
            elif unit == "number" and isinstance(cell.value, float):
                cell.number_format = "0.0"
    if table.note:
        sheet.append([])
        sheet.append([table.note])
    sheet.column_dimensions["A"].width = max(
        12, min(48, max(len(r[0]) for r in table.all_rows) + 2) if table.all_rows else 12
    )
