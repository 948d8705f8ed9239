"""The pupil record and the pupil lists: pages composed from each app's read functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fullfolj.access import gate
from fullfolj.attendance import patterns
from fullfolj.attendance import queries as attendance
from fullfolj.grades.queries import grade_table
from fullfolj.lib import charts, clock
from fullfolj.records import access as records_access
from fullfolj.riskmodel import queries as riskmodel
from fullfolj.schools.calendar import term_and_recent_windows
from fullfolj.schools.models import GroupMembership, Placement, Pupil, Role
from fullfolj.schools.queries import current_mentors, current_placement
from fullfolj.screening import queries as screening

from . import home as home_cards
from . import lists, queries, riskzon, sections
from .overview import LEVELS, municipality_overview, overview_charts
from .queries import PupilRow, pupil_rows, with_absence, with_details


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs this person today: each role's cards, grouped by role and school."""
    viewer = gate.viewer_for(request)
    today = clock.today()
    groups = home_cards.compose(viewer, today)
    for group in groups:
        for card in group.cards:
            if card.reads:
                gate.record_reads(request, card.reads, role=card.role)
    return render(
        request,
        "elevakt/home.html",
        {"title": _("Start"), "groups": groups, "today": today},
    )


def _list_sorts() -> dict[str, Callable[[PupilRow], Any]]:
    return {
        "name": lambda r: lists.name_key(r.pupil),
        "class": lambda r: (
            (r.school_class.grade, r.class_name, *lists.name_key(r.pupil))
            if r.school_class
            else None
        ),
        "term": lambda r: r.term.total_rate,
        "term_invalid": lambda r: r.term.invalid_rate,
        "recent": lambda r: r.recent.total_rate,
        "recent_invalid": lambda r: r.recent.invalid_rate,
    }


# The sorts that order by absence: the list then needs every row's absence, not the page's.
ABSENCE_SORTS = frozenset({"term", "term_invalid", "recent", "recent_invalid"})


def _pupil_list(
    request: HttpRequest,
    title: str,
    pupils: QuerySet[Pupil],
    role: str | dict[int, str],
    *,
    adaptations: bool = False,
    **extra: object,
) -> HttpResponse:
    """A pupil list sorted, filtered and paged by the query string; only the page shown is
    composed in full and logged as read. Absence is summed for every pupil only when the list
    sorts or filters by it; else for the page shown."""
    sorts = _list_sorts()
    form = lists.ListForm(request.GET, sort_keys=list(sorts))
    wanted = form.valid()
    every_absence = "min_absence" in wanted or wanted.get("sort", "").lstrip("-") in ABSENCE_SORTS
    rows = pupil_rows(pupils, absence=every_absence)
    classes = sorted({(r.school_class.grade, r.class_name) for r in rows if r.school_class})
    grades = sorted({grade for grade, _name in classes})
    shown = rows
    if "class_name" in wanted:
        shown = [r for r in shown if r.class_name.casefold() == wanted["class_name"].casefold()]
    if "grade" in wanted:
        shown = [r for r in shown if r.school_class and r.school_class.grade == wanted["grade"]]
    if "min_absence" in wanted:
        window = wanted.get("window", "term")
        line = float(wanted["min_absence"])
        shown = [
            r
            for r in shown
            if (getattr(r, window).total_rate or 0) >= line and getattr(r, window).scheduled
        ]
    shown, sorting = lists.sort_rows(shown, wanted.get("sort", ""), sorts, default="class")
    page = lists.page_of(shown, wanted.get("page"))
    page.object_list = with_details(list(page.object_list))
    if not every_absence:
        page.object_list = with_absence(page.object_list)
    if adaptations:
        page.object_list = queries.with_adaptations(page.object_list)
    gate.record_reads(request, [row.pupil for row in page.object_list], role=role)
    problems = form.problems()
    return render(
        request,
        "elevakt/pupil_list.html",
        {
            "title": title,
            "page": page,
            "rows": page.object_list,
            "total": len(rows),
            "filtered": len(shown) != len(rows),
            "sorting": sorting,
            "form": form,
            "wanted": wanted,
            "classes": [name for _grade, name in classes],
            "grades": [(g, lists.grade_label(g)) for g in grades],
            "windows": term_and_recent_windows(clock.today()),
            "window_choices": lists.WINDOWS,
            "problems": problems,
            **extra,
        },
        status=400 if problems else 200,
    )


@login_required
def my_pupils(request: HttpRequest) -> HttpResponse:
    """A mentor's own pupils (Mina elever) with absence this term and the last four weeks."""
    viewer = gate.viewer_for(request)
    pupils = gate.pupils_visible_to(viewer, roles={Role.MENTOR})
    return _pupil_list(
        request,
        _("My pupils"),
        pupils,
        Role.MENTOR,
        to_settle=attendance.unsettled_count(pupils) if viewer.is_mentor else 0,
    )


@login_required
def school_pupils(request: HttpRequest, school_id: int) -> HttpResponse:
    """All pupils of a school, for its principal and student-health team."""
    viewer = gate.viewer_for(request)
    school = gate.get_school_or_404(request, school_id)
    if not gate.names_at_school(viewer, school):
        return redirect("elevakt:overview")
    pupils = gate.pupils_visible_to(viewer).filter(
        pk__in=Placement.objects.active_on(clock.today()).filter(school=school).values("pupil_id")
    )
    return _pupil_list(request, school.name, pupils, viewer.school_role(school.pk), school=school)


@login_required
def my_groups(request: HttpRequest) -> HttpResponse:
    """The groups a teacher teaches this school year, each with its pupils."""
    groups = gate.groups_taught(gate.viewer_for(request), clock.today())
    return render(
        request,
        "elevakt/group_list.html",
        {
            "groups": groups.select_related("school").order_by("name"),
        },
    )


@login_required
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    group, role = gate.get_group_or_404(request, group_id)
    members = GroupMembership.objects.active_on(clock.today()).filter(group=group)
    pupils = gate.pupils_visible_to(gate.viewer_for(request)).filter(
        pk__in=members.values("pupil_id")
    )
    return _pupil_list(request, group.name, pupils, role, adaptations=True)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Find a pupil by name, class or personnummer among those this viewer may see by name."""
    viewer = gate.viewer_for(request)
    text = request.GET.get("q", "").strip()[:100]
    result, problem = None, ""
    if text:
        try:
            query = queries.parse_search(text)
        except queries.SearchError as error:
            problem = str(error)
        else:
            result = queries.search_pupils(viewer, query)
            gate.record_reads(request, [hit.pupil for hit in result.hits], role=result.roles)
    return render(
        request,
        "elevakt/search.html",
        {
            "title": _("Find a pupil"),
            "q": text,
            "result": result,
            "problem": problem,
            "limit": queries.SEARCH_LIMIT,
        },
        status=400 if problem else 200,
    )


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Municipality-wide figures per school, without names; small groups are hidden.

    A pupil's absence is problematic at the line of the school's organiser (its setting
    "problematic absence (%)" in the admin, 10 % unless changed): a municipality decides where
    it draws the line, as it does for its ladder's triggers.
    """
    viewer = gate.viewer_for(request)
    schools = gate.overview_schools_or_404(viewer)
    today = clock.today()
    windows = term_and_recent_windows(today)
    start, end = windows["term"]
    minimum = settings.FULLFOLJ_MIN_GROUP_SIZE
    figures = municipality_overview(
        schools.select_related("organiser").order_by("name"), today, start, end, minimum
    )
    lines = {row.line for row in figures.schools}
    return render(
        request,
        "elevakt/overview.html",
        {
            "overview": figures,
            "rows": figures.schools,
            "charts": overview_charts(figures),
            "levels": LEVELS,
            "windows": windows,
            "min_group": minimum,
            "line": lines.pop() if len(lines) == 1 else None,
        },
    )


@login_required
def pupil_detail(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """The pupil record: attendance over time, by weekday and subject, grades per term, and
    each app's section."""
    pupil = gate.get_pupil_or_404(request, pupil_id)
    viewer = gate.viewer_for(request)
    today = clock.today()
    windows = term_and_recent_windows(today)
    term_start, term_end = windows["term"]
    history_start = today - dt.timedelta(days=365)
    weeks = attendance.weekly_absence(pupil.pk, history_start, today)
    week_labels = [f"v{monday.isocalendar().week}" for monday, _absence in weeks]
    weekly_chart = charts.stacked_bars(
        "weekly",
        _("Absence per week, last 12 months"),
        week_labels,
        [
            charts.Series(_("Valid"), [a.valid_rate or 0 for _m, a in weeks]),
            charts.Series(_("Invalid"), [a.invalid_rate or 0 for _m, a in weeks]),
            charts.Series(_("Not yet known"), [a.unknown_rate or 0 for _m, a in weeks]),
        ],
        label_every=max(1, len(weeks) // 12),
        description=_(
            "Absence per week as a share of scheduled time, valid and invalid stacked. "
            "The numbers are in the table below the chart."
        ),
    )
    weekdays = attendance.absence_by_weekday(pupil.pk, term_start, term_end)
    weekday_chart = charts.stacked_bars(
        "weekday",
        _("Absence by weekday this term"),
        [str(patterns.WEEKDAYS[d]) for d, _a in weekdays],
        [
            charts.Series(_("Valid"), [a.valid_rate or 0 for _d, a in weekdays]),
            charts.Series(_("Invalid"), [a.invalid_rate or 0 for _d, a in weekdays]),
            charts.Series(_("Not yet known"), [a.unknown_rate or 0 for _d, a in weekdays]),
        ],
        width=420,
        description=_("Absence by weekday this term; the numbers are in the table below."),
    )
    subjects = attendance.absence_by_subject(pupil.pk, term_start, term_end)
    show_details = not pupil.protected_identity or viewer.sees_protected_details
    guardians = (
        [g.guardian for g in pupil.guardianships.select_related("guardian")] if show_details else []
    )
    absence = attendance.absence_by_pupil([pupil.pk], windows)[pupil.pk]
    may_read_log = gate.may_read_access_log(viewer, pupil)
    return render(
        request,
        "elevakt/pupil_detail.html",
        {
            "pupil": pupil,
            "placement": current_placement(pupil, today),
            "mentors": current_mentors(pupil, today),
            "show_details": show_details,
            "may_read_log": may_read_log,
            "may_extract": records_access.may_make_extract(viewer, pupil, principal=may_read_log),
            "guardians": guardians,
            "absence": absence,
            "windows": windows,
            "weekly_chart": weekly_chart,
            "weeks": [
                (monday, label, a) for (monday, a), label in zip(weeks, week_labels, strict=True)
            ],
            "weekday_chart": weekday_chart,
            "weekdays": [(patterns.WEEKDAYS[d], a) for d, a in weekdays],
            "subjects": subjects,
            "grades": grade_table(pupil),
            "sections": sections.for_pupil(pupil, viewer),
            "today": today,
            "term_label": f"{date_format(term_start)} – {date_format(term_end)}",
        },
    )


def _with_estimates(request: HttpRequest, listing: screening.Riskzon) -> screening.Riskzon:
    """Each flagged row with the active risk model's estimate, where this viewer may see it."""
    estimates = riskmodel.visible_estimates(gate.viewer_for(request))
    for row in listing.rows:
        row.estimate = estimates.get(row.pupil.pk)
    return listing


def _openable(viewer: gate.Viewer, page: riskzon.RiskPage | None) -> set[int]:
    """The pupils flagged with no action for whom this viewer may open a case (one query)."""
    if page is None or not page.without_action:
        return set()
    ids = [line.pupil.pk for line in page.without_action]
    return set(gate.support_pupils(viewer).filter(pk__in=ids).values_list("pk", flat=True))


def _risk_page(
    request: HttpRequest, listing: screening.Riskzon, organiser_id: int
) -> riskzon.RiskPage:
    """The listing filtered and sorted by the query string, with estimates where allowed."""
    return riskzon.risk_page(
        _with_estimates(request, listing), request.GET, organiser_id=organiser_id
    )


@login_required
def school_riskzon(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's riskzon list with names: principal and student-health team (the gate)."""
    viewer = gate.viewer_for(request)
    school = gate.get_school_or_404(request, school_id)
    if not gate.names_at_school(viewer, school):
        return redirect("elevakt:municipality-riskzon")
    listing = screening.riskzon(school.organiser_id, gate.pupils_visible_to(viewer), school=school)
    page = _risk_page(request, listing, school.organiser_id)
    gate.record_reads(request, page.shown_pupil_ids(), role=viewer.school_role(school.pk))
    return render(
        request,
        "elevakt/riskzon.html",
        {
            "title": _("Risk zone: %(school)s") % {"school": school.name},
            "listing": page.listing,
            "risk": page,
            "openable": _openable(viewer, page),
            "school": school,
            "other_schools": viewer.named_schools.exclude(pk=school.pk).order_by("name"),
            "can_run": school.organiser_id in gate.organisers_screened_by(viewer),
            "organiser": school.organiser,
        },
        status=400 if page.problems else 200,
    )


@login_required
def municipality_riskzon(request: HttpRequest) -> HttpResponse:
    """The municipality's riskzon: counts per school and rule, small groups and whatever would
    give them away hidden; names only for staff with the names permission."""
    viewer = gate.viewer_for(request)
    organiser = gate.administered_organiser_or_404(viewer)
    run, codes, rows, flagged_total = screening.municipality_counts(organiser.pk, viewer.schools)
    page = None
    if viewer.names_in_administration:
        page = _risk_page(
            request, screening.riskzon(organiser.pk, gate.pupils_visible_to(viewer)), organiser.pk
        )
        ids = page.shown_pupil_ids()
        gate.record_reads(request, ids, role=viewer.role_map(ids))
    return render(
        request,
        "elevakt/municipality.html",
        {
            "title": _("Risk zone: %(organiser)s") % {"organiser": organiser.name},
            "organiser": organiser,
            "run": run,
            "codes": codes,
            "rows": rows,
            "listing": page.listing if page else None,
            "risk": page,
            "openable": _openable(viewer, page),
            "aggregate_only": True,
            "flagged_total": flagged_total,
            "can_run": True,
            "max_hidden": settings.FULLFOLJ_MIN_GROUP_SIZE - 1,
        },
        status=400 if page and page.problems else 200,
    )
