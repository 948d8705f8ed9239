"""The riskzon list as a page shows it: each flagged pupil with their class, filtered by school,
class, grade year and rule, and sorted by a column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.http import QueryDict
from django.utils.translation import gettext_lazy

from fullfolj.lib import clock
from fullfolj.schools.models import Placement, Pupil, School, SchoolClass
from fullfolj.screening import queries as screening
from fullfolj.screening.engine import describe
from fullfolj.screening.models import ScreeningRule

from . import lists


@dataclass
class RiskLine:
    """A flagged pupil (or one no longer flagged) with where they are now."""

    pupil: Pupil
    placement: Placement | None
    flagged: screening.RiskRow | None = None

    @property
    def school(self) -> School | None:
        if self.flagged is not None and self.flagged.school is not None:
            return self.flagged.school
        return self.placement.school if self.placement else None

    @property
    def school_class(self) -> SchoolClass | None:
        return self.placement.school_class if self.placement else None

    @property
    def rules(self) -> list[str]:
        return self.flagged.rules if self.flagged else []


SORTS: dict[str, Callable[[RiskLine], Any]] = {
    "name": lambda line: lists.name_key(line.pupil),
    "class": lambda line: (
        (line.school_class.grade, line.school_class.name, *lists.name_key(line.pupil))
        if line.school_class
        else None
    ),
    "school": lambda line: (line.school.name, *lists.name_key(line.pupil)) if line.school else None,
    "signals": lambda line: (len(line.rules), *lists.name_key(line.pupil)),
}


class RiskForm(lists.QueryForm):
    """The riskzon list's query string; a bad parameter is named, the rest still applies."""

    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[("", ""), *lists.sort_choices(SORTS)],
    )
    school = forms.IntegerField(label=gettext_lazy("School"), required=False, min_value=1)
    class_name = forms.CharField(label=gettext_lazy("Class"), required=False, max_length=20)
    grade = forms.IntegerField(
        label=gettext_lazy("Grade year"), required=False, min_value=0, max_value=9
    )
    rule = forms.CharField(label=gettext_lazy("Rule"), required=False, max_length=50)
    page = forms.IntegerField(label=gettext_lazy("Page"), required=False, min_value=1)
    page_acted = forms.IntegerField(label=gettext_lazy("Page"), required=False, min_value=1)


def rule_names(organiser_id: int, codes: Iterable[str]) -> list[tuple[str, str]]:
    """The rules of the run, each with its description in words (the code if it has none)."""
    rules = {r.code: r for r in ScreeningRule.objects.for_organiser(organiser_id)}
    named = []
    for code in codes:
        try:
            text = describe(rules[code].to_engine()) if code in rules else code
        except ValidationError:  # a rule edited into an invalid state still has its code
            text = code
        named.append((code, text))
    return named


@dataclass
class RiskPage:
    """What the riskzon template shows, after the filter and the sort."""

    listing: screening.Riskzon  # the filtered listing
    without_action: list[RiskLine]  # the page of them shown (PAGE_SIZE rows)
    with_action: list[RiskLine]  # the page of them shown
    no_action_page: Page
    acted_page: Page
    new: list[RiskLine]
    left: list[RiskLine]
    sorting: dict[str, lists.SortColumn]
    wanted: dict[str, Any]
    problems: list[str]
    schools: list[tuple[int, str]]
    classes: list[str]
    grades: list[tuple[int, str]]
    rules: list[tuple[str, str]]
    total: int

    @property
    def filtered(self) -> bool:
        return len(self.listing.rows) != self.total

    def shown_pupil_ids(self) -> list[int]:
        """The pupils the page names: the two tables' pages, the new and those who left."""
        lines = [*self.without_action, *self.with_action, *self.new, *self.left]
        return sorted({line.pupil.pk for line in lines})


def risk_page(
    listing: screening.Riskzon, data: QueryDict, *, organiser_id: int, today: dt.date | None = None
) -> RiskPage:
    """The listing with every pupil's current class, filtered and sorted by the query string."""
    today = today or clock.today()
    form = RiskForm(data)
    wanted = form.valid()
    ids = [r.pupil.pk for r in listing.rows] + [p.pk for p in listing.left]
    placements = {
        p.pupil_id: p
        for p in Placement.objects.active_on(today)
        .filter(pupil_id__in=ids)
        .select_related("school", "school_class")
        .order_by("start")
    }
    flagged = [RiskLine(r.pupil, placements.get(r.pupil.pk), r) for r in listing.rows]
    left = [RiskLine(p, placements.get(p.pk)) for p in listing.left]
    everyone = flagged + left
    schools = sorted({(line.school.pk, line.school.name) for line in everyone if line.school})
    classes = sorted(
        {
            (line.school_class.grade, line.school_class.name)
            for line in everyone
            if line.school_class
        }
    )
    codes = sorted({code for line in flagged for code in line.rules}, key=_run_order(listing))

    def keep(line: RiskLine) -> bool:
        if "school" in wanted and (line.school is None or line.school.pk != wanted["school"]):
            return False
        klass = line.school_class
        if "class_name" in wanted and (
            klass is None or klass.name.casefold() != wanted["class_name"].casefold()
        ):
            return False
        if "grade" in wanted and (klass is None or klass.grade != wanted["grade"]):
            return False
        return "rule" not in wanted or wanted["rule"] in line.rules

    flagged = [line for line in flagged if keep(line)]
    left = [line for line in left if keep(line)]
    flagged, sorting = lists.sort_rows(flagged, wanted.get("sort", ""), SORTS, default="name")
    left, _sorting = lists.sort_rows(left, wanted.get("sort", ""), SORTS, default="name")
    shown = screening.Riskzon(
        listing.run,
        listing.previous,
        [line.flagged for line in flagged if line.flagged],
        [line.pupil for line in left],
    )
    no_action_page = lists.page_of(
        [ln for ln in flagged if ln.flagged and not ln.flagged.has_action], wanted.get("page")
    )
    acted_page = lists.page_of(
        [ln for ln in flagged if ln.flagged and ln.flagged.has_action], wanted.get("page_acted")
    )
    return RiskPage(
        listing=shown,
        without_action=list(no_action_page.object_list),
        with_action=list(acted_page.object_list),
        no_action_page=no_action_page,
        acted_page=acted_page,
        new=[ln for ln in flagged if ln.flagged and ln.flagged.is_new],
        left=left,
        sorting=sorting,
        wanted=wanted,
        problems=form.problems(),
        schools=schools,
        classes=[name for _grade, name in classes],
        grades=[(g, lists.grade_label(g)) for g in sorted({g for g, _n in classes})],
        rules=rule_names(organiser_id, codes),
        total=len(listing.rows),
    )


def _run_order(listing: screening.Riskzon) -> Callable[[str], Any]:
    run = listing.run
    order = [r.get("code") for r in run.configuration.get("rules", [])] if run else []
    return lambda code: (order.index(code) if code in order else len(order), code)
