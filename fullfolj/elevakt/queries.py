"""Pupil lists composed from each app's reads: who, where, absence, ladder step, unreached
guardians."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from fullfolj.attendance.queries import Absence, absence_by_pupil
from fullfolj.ladder.queries import summaries as ladder_summaries
from fullfolj.lib import clock
from fullfolj.notices.queries import unreached_counts
from fullfolj.schools.calendar import term_and_recent_windows
from fullfolj.schools.models import Placement, Pupil


@dataclass(frozen=True)
class PupilRow:
    """One line of a pupil list: who, where, and absence this term and the last four weeks."""

    pupil: Pupil
    placement: Placement | None
    term: Absence
    recent: Absence
    ladder_step: str | None = None  # the highest step of the absence ladder this term
    overdue_tasks: int = 0
    unreached_guardians: int = 0  # guardian notices failed or bounced, last 30 days


def pupil_rows(pupils: QuerySet[Pupil], *, today: dt.date | None = None) -> list[PupilRow]:
    """Pupils with their current placement and absence, sorted by class and name."""
    today = today or clock.today()
    current = Placement.objects.active_on(today).select_related("school", "school_class")
    pupils = pupils.prefetch_related(Prefetch("placements", queryset=current, to_attr="current"))
    listed = list(pupils)
    absence = absence_by_pupil((p.pk for p in listed), term_and_recent_windows(today))
    ladder = ladder_summaries((p.pk for p in listed), today)
    unreached = unreached_counts((p.pk for p in listed), today)
    rows = [
        PupilRow(
            pupil=p,
            placement=p.current[0] if p.current else None,
            term=absence[p.pk]["term"],
            recent=absence[p.pk]["recent"],
            ladder_step=ladder[p.pk].step if p.pk in ladder else None,
            overdue_tasks=ladder[p.pk].overdue if p.pk in ladder else 0,
            unreached_guardians=unreached.get(p.pk, 0),
        )
        for p in listed
    ]
    rows.sort(
        key=lambda r: (
            r.placement.school_class.name if r.placement and r.placement.school_class else "",
            r.pupil.last_name,
            r.pupil.first_name,
        )
    )
    return rows
