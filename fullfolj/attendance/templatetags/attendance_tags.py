"""`{% pupil_patterns pupil %}`: absence by time of day for the pupil page's include."""

from __future__ import annotations

from typing import Any

from django import template

from fullfolj.lib import clock
from fullfolj.schools.calendar import term_so_far

from ..patterns import absence_by_time_of_day, hour_labels

register = template.Library()


@register.simple_tag
def pupil_patterns(pupil: Any) -> dict[str, Any]:
    start, end = term_so_far(clock.today())
    return {"hours": hour_labels(absence_by_time_of_day(pupil.pk, start, end))}


@register.simple_tag(takes_context=True)
def absences_to_settle(context: Any) -> int:
    """How many of the signed-in mentor's mentees' absences are not yet known (Att avgöra)."""
    from fullfolj.access import gate
    from fullfolj.schools.models import Role

    from ..models import LessonAttendance

    viewer = gate.viewer_for(context["request"])
    if not viewer.is_mentor:
        return 0
    mentees = gate.pupils_visible_to(viewer, roles={Role.MENTOR})
    return LessonAttendance.objects.filter(
        pupil__in=mentees, absent_minutes__gt=0, is_valid__isnull=True
    ).count()
