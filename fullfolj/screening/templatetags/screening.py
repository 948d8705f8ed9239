"""{% pupil_flags pupil as screening %}: the pupil's flags from the latest run, for the pupil
page (the page itself has already passed the gate and logged the read)."""

from __future__ import annotations

from django import template

from fullfolj.schools.models import Pupil
from fullfolj.screening import queries

register = template.Library()


@register.simple_tag
def pupil_flags(pupil: Pupil) -> dict[str, object]:
    run, flags = queries.pupil_flags(pupil)
    return {"run": run, "flags": flags}
