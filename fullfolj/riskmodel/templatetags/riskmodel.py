"""{% risk_estimate pupil as estimate %}: the active model's estimate for a pupil, or None.

For the riskzon lists and the pupil page (which have passed the gate and logged the read). Only
the roles in `queries.ESTIMATE_ROLES` get an estimate; the estimates a viewer may see are read
once per request, so a list of flagged pupils costs one query, not one per row.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import Http404

from fullfolj.access import gate
from fullfolj.riskmodel import queries
from fullfolj.riskmodel.models import RiskEstimate
from fullfolj.schools.models import Pupil

register = template.Library()


@register.simple_tag(takes_context=True)
def risk_estimate(context: dict[str, Any], pupil: Pupil) -> RiskEstimate | None:
    request = context.get("request")
    if request is None or pupil is None:
        return None
    estimates = getattr(request, "_riskmodel_estimates", None)
    if estimates is None:
        try:
            viewer = gate.viewer_for(request)
        except Http404:
            return None
        estimates = queries.visible_estimates(viewer)
        request._riskmodel_estimates = estimates
    return estimates.get(pupil.pk)
