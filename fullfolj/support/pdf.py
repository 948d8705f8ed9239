"""The åtgärdsprogram as a PDF (WeasyPrint), in the layout Swedish schools use: the pupil, the
school, the needs, the measures with who is responsible, the follow-up and evaluation date, the
principal's decision and how to appeal it. It names no address (protected identity or not)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from fullfolj.lib import clock
from fullfolj.schools.queries import current_placement

from .models import Measure


def appeal_text(kind: str) -> str:
    """How to appeal the principal's decision (Skollagen 28 kap. 16 §), as the form offers it."""
    if kind in Measure.DECIDED_KINDS:
        return _(
            "The pupil's guardians (and the pupil, from 16) may appeal this decision to the School "
            "Appeals Board (Skolväsendets överklagandenämnd). The appeal is written, says which "
            "decision it concerns and what should be changed, and reaches the school within three "
            "weeks of the day the decision was received. The school sends it on to the board."
        )
    return ""


def action_programme(measure: Measure, *, base_url: str | None = None) -> bytes:
    """The PDF of an åtgärdsprogram (or of the decision not to draw one up)."""
    from weasyprint import HTML  # heavy: loaded only when a programme is printed

    case = measure.case
    pupil = case.pupil
    placement = current_placement(pupil, clock.today())
    html = render_to_string(
        "support/action_programme_pdf.html",
        {
            "measure": measure,
            "case": case,
            "pupil": pupil,
            "school": case.school,
            "school_class": placement.school_class if placement else None,
            "mapping": case.mappings.first(),
            "evaluations": list(measure.evaluations.select_related("by")),
            "printed_on": clock.today(),
        },
    )
    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
