"""The regional view: the same key figures side by side for each organiser that shares them with
the region (as Göteborgsregionen ran Plug Innan across 13 municipalities). Aggregates only."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from fullfolj.attendance.queries import at_least
from fullfolj.lib import charts
from fullfolj.schools.models import Placement

from .dashboard import Filters, _period, grade_figures, pupil_totals, scopes
from .models import Region, RegionMember
from .suppression import Margins
from .tables import Report, Table, hide, share


def regional_view(region: Region, filters: Filters) -> Report:
    """Per sharing organiser: pupils, absence (valid, invalid), pupils at 10 % or more, and the
    share of year 9 eligible on their latest grades."""
    report = Report(title=region.name, subtitle=_period(filters))
    members = list(
        RegionMember.objects.filter(region=region, shares=True)
        .select_related("organiser")
        .order_by("organiser__name")
    )
    if not members:
        report.messages.append(_("No organiser shares its figures with this region yet."))
        return report
    if filters.end < filters.start:
        report.messages.append(_("The period ends before it starts: choose the dates again."))
        return report
    names, rates, high, eligible = [], [], [], []
    # Every member's pupils summed in one pass, then counted per member: one read of the
    # region's months, not one per organiser.
    in_region = (
        Placement.objects.filter(
            school__organiser__in=[m.organiser_id for m in members], start__lte=filters.until
        )
        .filter(Q(end__isnull=True) | Q(end__gte=filters.start))
        .values("pupil_id")
    )
    totals = pupil_totals(in_region, filters)
    chosen = scopes([m.organiser_id for m in members], filters)
    # Year 9's latest grades for the whole region at once, then counted per member.
    nines = {
        member.organiser_id: [
            p for p, row in chosen[member.organiser_id].pupils.items() if row[1] == 9
        ]
        for member in members
    }
    graded = grade_figures([p for ids in nines.values() for p in ids], filters.until)
    eligible_of = dict(
        zip(graded["pupil_id"].to_list(), graded["vocational_eligible"].to_list(), strict=True)
    )
    for member in members:
        pupils = chosen[member.organiser_id]
        s = a = v = i = 0
        above = below = 0
        for pupil in pupils.pupils:
            ps, pa, pv, pi = totals.get(pupil, (0, 0, 0, 0))
            s, a, v, i = s + ps, a + pa, v + pv, i + pi
            if ps:
                if at_least(pa, ps, 10):
                    above += 1
                else:
                    below += 1
        found = [eligible_of[p] for p in nines[member.organiser_id] if p in eligible_of]
        yes = sum(1 for e in found if e)
        names.append(member.organiser.name)
        rates.append((above + below, share(a, s), share(v, s), share(i, s)))
        high.append([above, below])
        eligible.append([yes, len(found) - yes])
    high_shown = hide(high, Margins.BOTH)
    eligible_shown = hide(eligible, Margins.BOTH)
    rows = []
    for k, name in enumerate(names):
        pupils_total = high_shown.row_totals[k]
        hidden = pupils_total is None
        _pupils, absence, valid, invalid = rates[k]
        rows.append(
            (
                name,
                [
                    pupils_total,
                    None if hidden else absence,
                    None if hidden else valid,
                    None if hidden else invalid,
                    high_shown.cells[k][0],
                    share(high_shown.cells[k][0], pupils_total),
                    eligible_shown.row_totals[k],
                    share(eligible_shown.cells[k][0], eligible_shown.row_totals[k]),
                ],
            )
        )
    table = Table(
        key="region",
        title=_("The organisers side by side"),
        header=[
            _("Organiser"),
            _("Pupils"),
            _("Absence"),
            _("Valid"),
            _("Invalid"),
            _("%(low)s %% or more") % {"low": 10},
            _("Share at 10 %"),
            _("Year 9 with grades"),
            _("Share eligible"),
        ],
        units=["count", "percent", "percent", "percent", "count", "percent", "count", "percent"],
        rows=rows,
        note=_("Only organisers that share their figures with the region are shown; no names."),
    )
    table.chart = charts.horizontal_bars(
        "chart-region",
        _("Absence per organiser"),
        names,
        [
            charts.Series(_("Valid"), [r[1][2] for r in rows]),
            charts.Series(_("Invalid"), [r[1][3] for r in rows]),
        ],
        description=_(
            "Absence per organiser, valid and invalid stacked. The numbers are in the table."
        ),
    )
    report.tables.append(table)
    return report
