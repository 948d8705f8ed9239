"""The handover as a PDF (WeasyPrint): the same content as the page, no address and no former
school for a protected-identity pupil (the context decides, as for the page)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from fullfolj.lib import clock


def handover_pdf(context: dict[str, Any], *, base_url: str | None = None) -> bytes:
    from weasyprint import HTML  # heavy: loaded only when a handover is printed

    html = render_to_string("handover/handover_pdf.html", context | {"printed_on": clock.today()})
    content: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return content
