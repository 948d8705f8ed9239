"""Attendance pages: a teacher's lessons by day and week and those left to register, a lesson's
register, a group's absence and a pupil's calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.lib import clock
from fullfolj.lib.params import parse_ids
from fullfolj.schools.calendar import term_so_far
from fullfolj.schools.models import GroupMembership, Placement, Pupil, Role, Staff, Term

from . import actions, lessons, patterns, queries
from .forms import PeriodForm, RegisterForm, SettleForm, signed_version
from .lessons import LessonState
from .models import AbsenceReason, AttendanceChange, Lesson


@dataclass
class DayChoice:
    """The day (or week) a lesson page shows, and why, when it is not the one asked for."""

    day: dt.date
    term: Term | None
    error: str = ""
    landed_from: dt.date | None = None  # today, when it is no school day


def _chosen_day(request: HttpRequest, staff: Staff, *, land: bool = True) -> DayChoice:
    """The day named by ?dag=YYYY-MM-DD, inside the current term; else today, or (`land`) on a
    weekend or holiday the last school day before it."""
    today = clock.today()
    term = lessons.current_term(today)
    raw = request.GET.get("dag", "")
    error = ""
    if raw:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            error = _("Enter the day as YYYY-MM-DD, not “%(value)s”.") % {"value": raw[:20]}
        else:
            if term is None or term.start <= day <= term.end:
                return DayChoice(day, term)
            error = _("Choose a day in the term, %(start)s – %(end)s.") % {
                "start": date_format(term.start, "j F Y"),
                "end": date_format(term.end, "j F Y"),
            }
    last = lessons.last_school_day(staff, today) if land else None
    if last is not None and last != today:
        return DayChoice(last, term, error, landed_from=today)
    return DayChoice(today, term, error)


def _lesson_rows(lesson_list: QuerySet[Lesson]) -> list[tuple[Lesson, LessonState]]:
    return [(lesson, lessons.lesson_state(lesson)) for lesson in lesson_list]


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """Dagens lektioner: the signed-in teacher's lessons of one school day (today by default),
    each with its state and register, and the school days before and after it."""
    viewer = gate.viewer_for(request)
    choice = _chosen_day(request, viewer.staff)
    day, term = choice.day, choice.term
    school_days = lessons.teaching_days(viewer.staff, term.start, term.end) if term else []
    lesson_list = lessons.with_states(
        lessons.taught_by(viewer.staff).filter(date=day).select_related("group", "subject")
    ).order_by("start", "pk")
    is_today = day == clock.today()
    return render(
        request,
        "attendance/lesson_today.html",
        {
            "title": _("Today's lessons") if is_today else _("Lessons"),
            "rows": _lesson_rows(lesson_list),
            "day": day,
            "is_today": is_today,
            "choice": choice,
            "is_school_day": day in school_days,
            "day_off": lessons.days_off(viewer.staff, day, day).get(day, ""),
            "previous_day": max((d for d in school_days if d < day), default=None),
            "next_day": min((d for d in school_days if d > day), default=None),
            "to_register": lessons.unregistered_lessons(viewer.staff, clock.today()).count(),
            "tab": "day",
        },
        status=400 if choice.error else 200,
    )


@login_required
def week(request: HttpRequest) -> HttpResponse:
    """The teacher's lessons of one week, Monday to Friday, each with its state; the weeks of
    the current term are reachable one by one."""
    viewer = gate.viewer_for(request)
    # A weekend shows the week just ending: no landing needed.
    choice = _chosen_day(request, viewer.staff, land=False)
    monday = choice.day - dt.timedelta(days=choice.day.weekday())
    friday = monday + dt.timedelta(days=4)
    term = choice.term
    school_days = set(lessons.teaching_days(viewer.staff, monday, friday))
    off = lessons.days_off(viewer.staff, monday, friday)
    by_day: dict[dt.date, list[tuple[Lesson, LessonState]]] = {}
    lesson_list = lessons.with_states(
        lessons.taught_by(viewer.staff)
        .filter(date__gte=monday, date__lte=friday)
        .select_related("group", "subject")
    ).order_by("start", "pk")
    for lesson, state in _lesson_rows(lesson_list):
        by_day.setdefault(lesson.date, []).append((lesson, state))
    today = clock.today()
    days = [
        {
            "date": day,
            "is_today": day == today,
            "is_school_day": day in school_days,
            "day_off": off.get(day, ""),
            "rows": by_day.get(day, []),
        }
        for day in (monday + dt.timedelta(days=offset) for offset in range(5))
    ]
    previous_week = monday - dt.timedelta(days=7)
    next_week = monday + dt.timedelta(days=7)
    return render(
        request,
        "attendance/lesson_week.html",
        {
            "title": _("Week %(number)s") % {"number": monday.isocalendar().week},
            "days": days,
            "monday": monday,
            "friday": friday,
            "choice": choice,
            "week_number": monday.isocalendar().week,
            "previous_week": previous_week
            if term and previous_week + dt.timedelta(days=4) >= term.start
            else None,
            "next_week": next_week if term and next_week <= term.end else None,
            "this_week": today - dt.timedelta(days=today.weekday()),
            "to_register": lessons.unregistered_lessons(viewer.staff, today).count(),
            "tab": "week",
        },
        status=400 if choice.error else 200,
    )


UNREGISTERED_PER_PAGE = 50


@login_required
def to_register(request: HttpRequest) -> HttpResponse:
    """Lektioner att registrera: the teacher's lessons of the term left unregistered, oldest
    first, each a link to its register."""
    viewer = gate.viewer_for(request)
    today = clock.today()
    pending = lessons.unregistered_lessons(viewer.staff, today)
    page = Paginator(pending, UNREGISTERED_PER_PAGE).get_page(request.GET.get("sida"))
    return render(
        request,
        "attendance/lesson_to_register.html",
        {
            "title": _("Lessons to register"),
            "page": page,
            "to_register": page.paginator.count,
            "today": today,
            "tab": "to-register",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def lesson_register(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The register of one lesson: everyone present by default, one save for the group."""
    registers = Lesson.objects.select_related(
        "group__school", "subject", "teacher", "registered_by"
    )
    lesson = gate.get_lesson_or_404(request, registers, lesson_id)
    roster, role = gate.lesson_roster(request, lesson)
    has_started = lesson.start <= clock.now()
    conflict: list[AttendanceChange] = []
    status = 200
    if request.method == "POST" and not has_started:
        form = RegisterForm(lesson, request.POST, roster=roster)
        status = 400
    elif request.method == "POST":
        form = RegisterForm(lesson, request.POST, roster=roster)
        if form.is_valid():
            try:
                actions.register_lesson(
                    lesson,
                    form.marks(),
                    by=gate.viewer_for(request).staff,
                    expected_version=form.version,
                    loaded=form.loaded,
                )
            except actions.StaleRegister as stale:
                conflict = stale.changes
                form = RegisterForm(
                    stale.lesson,
                    form.merged_with(conflict),
                    conflicts=conflict,
                    rebase=stale.lesson.version,
                    roster=roster,
                )
                form.is_valid()
                status = 409
            except ValidationError as error:  # the group changed between form and save
                form.version_error = " ".join(error.messages)
                status = 400
            else:
                messages.success(request, _("The register is saved."))
                return redirect("attendance:lesson-register", lesson_id=lesson.pk)
        else:
            status = 400
    else:
        form = RegisterForm(lesson, roster=roster)
    shown = [row.pupil for row in form.rows]
    gate.record_reads(request, shown, role=role)
    history = (
        AttendanceChange.objects.filter(lesson=lesson, attendance__pupil__in=shown)
        .select_related("attendance__pupil", "changed_by")
        .order_by("-changed_at", "-pk")
    )
    return render(
        request,
        "attendance/lesson_register.html",
        {
            "title": f"{lesson.subject}, {lesson.group}",
            "lesson": lesson,
            "form": form,
            "has_started": has_started,
            "today": clock.today(),
            "starts": date_format(timezone.localtime(lesson.start), "j F H:i"),
            "conflict": conflict,
            "history": history,
            "registered_late": lessons.registered_late(lesson),
            "next_to_register": (
                lessons.unregistered_lessons(gate.viewer_for(request).staff, clock.today())
                .exclude(pk=lesson.pk)
                .first()
                if lesson.teacher_id == gate.viewer_for(request).staff.pk and lesson.registered_at
                else None
            ),
        },
        status=status,
    )


def _absence_table(
    request: HttpRequest, title: str, pupils: QuerySet[Pupil], *, role: str
) -> HttpResponse:
    """A group's absence per pupil for a chosen period, sortable by every column."""
    form = PeriodForm(
        request.GET if "start" in request.GET else None,
        initial=dict(zip(("start", "end"), term_so_far(clock.today()), strict=True)),
    )
    start, end = form.period(term_so_far(clock.today()))
    sort = request.GET.get("sort", "name")
    sort = sort if sort in patterns.SORT_KEYS else "name"
    descending = request.GET.get("dir") == "desc"
    classes = dict(
        Placement.objects.active_on(end)
        .filter(pupil__in=pupils)
        .values_list("pupil_id", "school_class__name")
    )
    rows = patterns.group_absence(
        pupils,
        {k: v or "" for k, v in classes.items()},
        start,
        end,
        sort=sort,
        descending=descending,
    )
    gate.record_reads(request, [row.pupil for row in rows], role=role)
    columns = [
        ("name", _("Pupil")),
        ("class", _("Class")),
        ("total", _("Total")),
        ("invalid", _("Invalid")),
        ("valid", _("Valid")),
        ("unknown", _("Not yet known")),
        ("late", _("Late minutes")),
    ]
    query = f"start={start.isoformat()}&end={end.isoformat()}"
    headers = [
        {
            "key": key,
            "label": label,
            "active": key == sort,
            "aria_sort": ("descending" if descending else "ascending") if key == sort else "",
            "url": f"?{query}&sort={key}&dir={'asc' if key == sort and descending else 'desc' if key == sort else 'asc'}",
        }
        for key, label in columns
    ]
    return render(
        request,
        "attendance/group_absence.html",
        {
            "title": title,
            "form": form,
            "rows": rows,
            "headers": headers,
            "start": start,
            "end": end,
        },
        status=400 if form.errors else 200,
    )


@login_required
def group_absence(request: HttpRequest, group_id: int) -> HttpResponse:
    """A teaching group's absence per pupil: for its teachers, principal and EHT."""
    group, role = gate.get_group_or_404(request, group_id)
    members = GroupMembership.objects.active_on(clock.today()).filter(group=group)
    pupils = gate.pupils_visible_to(gate.viewer_for(request)).filter(
        pk__in=members.values("pupil_id")
    )
    return _absence_table(request, str(group.name), pupils, role=role)


@login_required
def mentees_absence(request: HttpRequest) -> HttpResponse:
    """The mentor's own pupils as a group: absence per pupil for a chosen period."""
    viewer = gate.viewer_for(request)
    if not viewer.is_mentor:
        raise Http404
    pupils = gate.pupils_visible_to(viewer, roles={Role.MENTOR})
    return _absence_table(request, _("Absence of my pupils"), pupils, role=Role.MENTOR)


@login_required
def pupil_calendar(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """A pupil's attendance calendar: one cell per school day, coloured and written out."""
    form = PeriodForm(
        request.GET if "start" in request.GET else None,
        initial=dict(zip(("start", "end"), term_so_far(clock.today()), strict=True)),
    )
    if form.is_bound and not form.is_valid():
        # Refused before the record is read (and logged): the answer shows nothing of the
        # pupil, and is a 404 to those who may not see them, as without the period.
        if not gate.pupils_visible_to(gate.viewer_for(request)).filter(pk=pupil_id).exists():
            raise Http404
        return render(
            request,
            "attendance/pupil_calendar_refused.html",
            {
                "title": _("Attendance calendar"),
                "form": form,
            },
            status=400,
        )
    pupil = gate.get_pupil_or_404(request, pupil_id)
    start, end = form.period(term_so_far(clock.today()))
    weekdays = queries.absence_by_weekday(pupil.pk, start, end)
    return render(
        request,
        "attendance/pupil_calendar.html",
        {
            "title": pupil.full_name,
            "pupil": pupil,
            "form": form,
            "start": start,
            "end": end,
            "weeks": patterns.pupil_calendar(pupil, start, end),
            "weekdays": [(patterns.WEEKDAYS[day], absence) for day, absence in weekdays],
            "subjects": queries.absence_by_subject(pupil.pk, start, end),
            "hours": patterns.hour_labels(patterns.absence_by_time_of_day(pupil.pk, start, end)),
        },
        status=400 if form.errors else 200,
    )


def _settleable_pupils(request: HttpRequest) -> QuerySet[Pupil]:
    """Pupils whose absence this viewer may settle: current mentees; a principal's school."""
    viewer = gate.viewer_for(request)
    if not (viewer.is_mentor or viewer.schools_with({Role.PRINCIPAL})):
        raise Http404
    return gate.pupils_visible_to(viewer, roles={Role.MENTOR, Role.PRINCIPAL})


@login_required
@require_http_methods(["GET", "POST"])
def settle(request: HttpRequest) -> HttpResponse:
    """Att avgöra: absences left "not yet known", marked valid or invalid with one save."""
    pupils = _settleable_pupils(request)
    reasons = {r.code: r for r in AbsenceReason.objects.order_by("-is_valid", "name")}
    conflict: list[AttendanceChange] = []
    gone = 0
    status = 200
    damaged = False
    if request.method == "POST":
        ids = parse_ids(request.POST.getlist("row"))
        damaged = ids is None  # the page posts the ids it showed; anything else is refused
        rows = queries.absences_by_id(pupils, ids or set())
        gone = len(ids or ()) - len(rows)  # no longer this viewer's pupils: left untouched
        form = SettleForm(rows, reasons, request.POST)
        valid = form.is_valid()
        damaged = damaged or form.is_damaged
        if valid and not gone and not damaged:
            try:
                history = actions.settle_absences(
                    form.settlements(), by=gate.viewer_for(request).staff
                )
            except actions.StaleSettlement as stale:
                conflict = stale.changes
            else:
                count = len(history)
                messages.success(
                    request,
                    ngettext(
                        "%(count)s absence is settled.", "%(count)s absences are settled.", count
                    )
                    % {"count": count},
                )
                return redirect("attendance:settle")
        # Show the absences still open, keeping every choice made; versions move to now so
        # saving again settles what is left.
        rows = queries.unsettled_absences(pupils)
        data = request.POST.copy()
        for row in rows:
            data[f"v{row.pk}"] = signed_version(row.pk, row.lesson.version)
        form = SettleForm(rows, reasons, data)
        form.is_valid()
        status = 409 if (conflict or gone) and not damaged else 400
    else:
        form = SettleForm(queries.unsettled_absences(pupils), reasons)
    shown = {row.pupil_id for row in form.rows}
    gate.record_reads(request, shown, role=gate.viewer_for(request).role_map(shown))
    return render(
        request,
        "attendance/settle.html",
        {
            "title": _("Absence to settle"),
            "form": form,
            "conflict": conflict,
            "gone": gone,
            "damaged": damaged,
        },
        status=status,
    )
