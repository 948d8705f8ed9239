"""The administration's overview: figures per school and for the whole municipality, no names.

Every count shown outside a school goes through `lib.disclosure`: a school with fewer pupils
than the minimum shows no figures, small counts are hidden, and so is any figure (a total, a
share, a whole beside its part) that would give a hidden count away (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from fullfolj.attendance.queries import Absence, absence_over, absence_per_week, at_least
from fullfolj.lib import charts, disclosure
from fullfolj.schools.models import Placement, School

# The levels of absence the overview counts pupils at, beside the organiser's own line.
LEVELS = (10, 15, 20)


@dataclass
class SchoolFigures:
    school: School
    pupils: int  # pupils with scheduled days this term (raw: shown only when not `hidden`)
    absence: Absence
    line: int  # the organiser's line for problematic absence, in per cent
    problematic: int | None  # pupils at or above `line`; None: hidden
    at_level: dict[int, int | None] = field(default_factory=dict)  # LEVELS -> pupils, None hidden
    hidden: bool = False

    def share_at(self, level: int) -> float | None:
        count = self.at_level.get(level)
        return None if count is None or not self.pupils else 100.0 * count / self.pupils

    @property
    def shares(self) -> list[tuple[int, int | None, float | None]]:
        return [(level, self.at_level.get(level), self.share_at(level)) for level in LEVELS]


@dataclass
class Overview:
    schools: list[SchoolFigures]
    weeks: list[tuple[dt.date, Absence]]  # (Monday, absence that week) for all schools
    pupils: int | None  # all pupils with days; None where it would give a hidden school away
    absence: Absence
    problematic: int | None
    at_level: dict[int, int | None]

    @property
    def shown_schools(self) -> list[SchoolFigures]:
        return [s for s in self.schools if not s.hidden]

    def share_at(self, level: int) -> float | None:
        count = self.at_level.get(level)
        return None if count is None or not self.pupils else 100.0 * count / self.pupils

    @property
    def hidden_schools(self) -> int:
        return sum(1 for s in self.schools if s.hidden)

    @property
    def shares(self) -> list[tuple[int, int | None, float | None]]:
        return [(level, self.at_level.get(level), self.share_at(level)) for level in LEVELS]

    @property
    def problematic_share(self) -> float | None:
        if self.problematic is None or not self.pupils:
            return None
        return 100.0 * self.problematic / self.pupils


def municipality_overview(
    schools: Iterable[School], today: dt.date, start: dt.date, end: dt.date, minimum: int
) -> Overview:
    """Absence between `start` and `end` of the pupils placed at each school today, per school
    and in all, with the number of pupils at or above the organiser's line and at `LEVELS`.

    One query for the placements and one for the pupils' sums, whatever the number of schools.
    """
    schools = list(schools)
    placed = Placement.objects.active_on(today).filter(school__in=schools)
    school_of = dict(placed.values_list("pupil_id", "school_id"))
    # The pupils as a subquery, not a list of thousands of ids; the term's whole months from
    # the months' aggregate.
    placed_ids = placed.values("pupil_id")
    sums = [
        {"pupil_id": pupil_id, "s": a.scheduled, "a": a.absent, "v": a.valid}
        | {"i": a.invalid, "u": a.unknown}
        for pupil_id, a in absence_over(placed_ids, start, end).items()
    ]
    # The ids as a list here: measured, the per-week sums joined to the subquery took half as
    # long again.
    per_week = absence_per_week(list(school_of), start, end)
    per_school: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in sums:
        per_school[school_of[row["pupil_id"]]].append(row)

    figures: list[SchoolFigures] = []
    raw_problematic: list[int] = []
    raw_levels: dict[int, list[int]] = {level: [] for level in LEVELS}
    for school in schools:
        rows = per_school.get(school.pk, [])
        line = school.organiser.problematic_absence_percent  # the organiser's, from the admin
        pupils = len(rows)
        problematic = sum(1 for r in rows if at_least(r["a"], r["s"], line))
        raw_problematic.append(problematic)
        at_level: dict[int, int | None] = {}
        for level in LEVELS:
            count = sum(1 for r in rows if at_least(r["a"], r["s"], level))
            raw_levels[level].append(count)
            at_level[level] = disclosure.part_of(pupils, disclosure.shown(count, minimum), minimum)
        figures.append(
            SchoolFigures(
                school=school,
                pupils=pupils,
                absence=_absence(rows),
                line=line,
                problematic=disclosure.part_of(
                    pupils, disclosure.shown(problematic, minimum), minimum
                ),
                at_level=at_level,
                hidden=pupils < minimum,
            )
        )

    all_rows = [r for rows in per_school.values() for r in rows]
    total_pupils = _total(
        [f.pupils for f in figures], [None if f.hidden else f.pupils for f in figures], minimum
    )

    def counted(raw: list[int], shown: list[int | None]) -> int | None:
        shown = [None if f.hidden else c for f, c in zip(figures, shown, strict=True)]
        return disclosure.part_of(total_pupils, _total(raw, shown, minimum), minimum)

    return Overview(
        schools=figures,
        weeks=[(monday, per_week[monday]) for monday in sorted(per_week)],
        pupils=total_pupils,
        absence=_absence(all_rows),
        problematic=counted(raw_problematic, [f.problematic for f in figures]),
        at_level={
            level: counted(raw_levels[level], [f.at_level[level] for f in figures])
            for level in LEVELS
        },
    )


def _total(raw: list[int], shown: list[int | None], minimum: int) -> int | None:
    """The sum of a column whose cells are shown or hidden (None): hidden where it is small,
    and where it would give hidden cells away. A reader learns the hidden cells' sum as the
    total minus the shown ones: one hidden cell would be given away outright, and a small sum
    bounds each of them."""
    total = sum(raw)
    hidden = [r for r, s in zip(raw, shown, strict=True) if s is None and r]
    if disclosure.is_small(total, minimum) or len(hidden) == 1:
        return None
    return None if disclosure.is_small(sum(hidden), minimum) else total


def _absence(rows: list[Mapping[str, Any]]) -> Absence:
    return Absence(
        scheduled=sum(r["s"] or 0 for r in rows),
        absent=sum(r["a"] or 0 for r in rows),
        valid=sum(r["v"] or 0 for r in rows),
        invalid=sum(r["i"] or 0 for r in rows),
        unknown=sum(r["u"] or 0 for r in rows),
    )


def overview_charts(overview: Overview) -> dict[str, str]:
    """The overview's two charts as SVG: absence per school (valid, invalid and not yet settled
    stacked), and the share of pupils at each of `LEVELS` per school. Hidden schools are left
    out; the page shows the same numbers as tables."""
    shown = overview.shown_schools
    names = [_("All schools"), *(f.school.name for f in shown)]
    absences = [overview.absence, *(f.absence for f in shown)]
    absence = charts.horizontal_bars(
        "absence-per-school",
        _("Absence this term per school"),
        names,
        [
            charts.Series(_("Valid"), [a.valid_rate for a in absences]),
            charts.Series(_("Invalid"), [a.invalid_rate for a in absences]),
            charts.Series(_("Not yet known"), [a.unknown_rate for a in absences]),
        ],
        description=_(
            "Absence this term as a share of scheduled time, for all schools and per school, "
            "valid, invalid and not yet settled absence stacked. The numbers are in the table "
            "above the chart."
        ),
    )
    levels = charts.horizontal_bars(
        "share-at-levels",
        _("Share of pupils with high absence this term"),
        names,
        [
            charts.Series(
                _("%(level)s %% or more") % {"level": level},
                [overview.share_at(level), *(f.share_at(level) for f in shown)],
            )
            for level in LEVELS
        ],
        stacked=False,
        description=_(
            "For all schools and per school, the share of pupils whose absence this term is at "
            "each level or more. Hidden figures (small groups) are marked with a dash. The "
            "numbers are in the table below the chart."
        ),
    )
    weeks = charts.stacked_bars(
        "absence-per-week",
        _("Absence per week this term, all schools"),
        [f"v{monday.isocalendar().week}" for monday, _a in overview.weeks],
        [
            charts.Series(_("Valid"), [a.valid_rate for _m, a in overview.weeks]),
            charts.Series(_("Invalid"), [a.invalid_rate for _m, a in overview.weeks]),
            charts.Series(_("Not yet known"), [a.unknown_rate for _m, a in overview.weeks]),
        ],
        label_every=max(1, len(overview.weeks) // 12),
        description=_(
            "Absence per week this term for all schools, as a share of scheduled time, valid, "
            "invalid and not yet settled absence stacked. The numbers are in the table below "
            "the chart."
        ),
    )
    return {"absence": absence, "levels": levels, "weeks": weeks}
