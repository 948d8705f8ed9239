"""`{% pupil_notices pupil %}`: the pupil page's guardian notices, for the include."""

from __future__ import annotations

from typing import Any

from django import template

from fullfolj.lib import clock

from ..models import UNREACHED
from ..queries import notices_for

register = template.Library()


@register.simple_tag(takes_context=True)
def pupil_notices(context: Any, pupil: Any) -> dict[str, Any]:
    """Notices of the last 30 days; guardian names hidden for protected identity (DOMAIN.md)."""
    viewer = context.get("viewer")
    shows_guardian = not pupil.protected_identity or bool(viewer and viewer.sees_protected_details)
    notices = list(notices_for(pupil.pk, clock.today()))
    return {
        "notices": notices,
        "unreached": [n for n in notices if n.status in UNREACHED],
        "shows_guardian": shows_guardian,
    }
