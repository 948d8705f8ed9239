"""`{% pupil_ladder pupil %}`: the pupil page's ladder history, for the include."""

from __future__ import annotations

from typing import Any

from django import template

from fullfolj.access.gate import pupils_visible_to
from fullfolj.lib import clock

from ..queries import LADDER_ROLES, can_read_records, history_for

register = template.Library()


@register.simple_tag(takes_context=True)
def pupil_ladder(context: Any, pupil: Any) -> dict[str, Any]:
    """The history, for viewers who reach the pupil through a ladder role (not as teacher)."""
    viewer = context.get("viewer")
    visible = bool(viewer) and pupils_visible_to(viewer, roles=LADDER_ROLES).filter(
        pk=pupil.pk).exists()
    tasks = list(history_for(pupil.pk)) if visible else []
    for task in tasks:
        task.records_readable = can_read_records(viewer, task)
    return {"visible": visible, "tasks": tasks, "today": clock.today()}
