"""The follow-up pages: Uppföljningar att göra, the EHT meeting's agenda and a case's minutes."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.lib import clock
from fullfolj.schools.models import Staff

from . import eht, followups
from .flow_forms import MeetingDayForm, MinutesForm
from .models import AgreedAction, Case, CaseEntry


@login_required
def follow_ups(request: HttpRequest) -> HttpResponse:
    """Uppföljningar att göra: the viewer's follow-ups overdue and due within two weeks; the
    principal's include every one at their schools."""
    viewer = gate.viewer_for(request)
    today = clock.today()
    listing = followups.follow_up_rows(viewer, today, _page_number(request))
    pupils = {row.measure.case.pupil_id for row in listing.rows}
    gate.record_reads(request, pupils, role=viewer.role_map(pupils))
    return render(
        request,
        "support/followups_list.html",
        {
            "title": _("Follow-ups to do"),
            "listing": listing,
            "pager": _pager(request, listing.page, _("Pages of the list")),
            "soon_days": followups.SOON_DAYS,
            "is_principal": bool(followups.principal_schools(viewer)),
            "today": today,
        },
    )


def _page_number(request: HttpRequest, name: str = "page") -> int:
    """The page asked for in the query string; a bad or missing number is the first page."""
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


@dataclass(frozen=True)
class Pager:
    """The links of one paged list on a page: its own parameter changed, the others kept."""

    page: Page
    label: str
    first: str
    previous: str
    next: str
    last: str


def _pager(
    request: HttpRequest, page: Page, label: str, name: str = "page", anchor: str = ""
) -> Pager:
    def link(number: int) -> str:
        query = request.GET.copy()
        query[name] = str(number)
        return f"?{query.urlencode()}{anchor}"

    last = page.paginator.num_pages
    return Pager(
        page=page,
        label=label,
        first=link(1),
        previous=link(max(1, page.number - 1)),
        next=link(min(last, page.number + 1)),
        last=link(last),
    )


def _meeting_school(request: HttpRequest, school_id: int) -> tuple[gate.Viewer, object]:
    viewer = gate.viewer_for(request)
    if not eht.may_hold_meeting(viewer, school_id):
        raise Http404
    return viewer, gate.get_school_or_404(request, school_id)


@login_required
def eht_start(request: HttpRequest) -> HttpResponse:
    """The menu's way to the meeting: the agenda of the first school where this viewer holds it."""
    schools = eht.agenda_schools(gate.viewer_for(request))
    if not schools:
        raise Http404
    return redirect("followup:eht-agenda", school_id=schools[0].pk)


@login_required
def eht_agenda(request: HttpRequest, school_id: int) -> HttpResponse:
    """The EHT meeting's agenda for a school and a date (?datum=, today unless given)."""
    viewer, school = _meeting_school(request, school_id)
    today = clock.today()
    form = MeetingDayForm(request.GET if "datum" in request.GET else None)
    day = today
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["datum"]
    elif not form.is_bound:
        form = MeetingDayForm(initial={"datum": today})
    pages = eht.AgendaPages(
        cases=_page_number(request, "fall"),
        flags=_page_number(request, "flaggor"),
        tasks=_page_number(request, "steg"),
    )
    listing = eht.agenda(viewer, school, day, pages)  # type: ignore[arg-type]
    gate.record_reads(request, listing.pupil_ids(), role=viewer.school_role(school_id))
    return render(
        request,
        "support/eht_agenda.html",
        {
            "title": _("Student health team meeting"),
            "agenda": listing,
            "case_pager": _pager(
                request, listing.case_page, _("Pages of the cases"), "fall", "#due-heading"
            ),
            "flag_pager": _pager(
                request, listing.flag_page, _("Pages of the flagged"), "flaggor", "#flags-heading"
            ),
            "task_pager": _pager(
                request,
                listing.task_page,
                _("Pages of the ladder steps"),
                "steg",
                "#ladder-heading",
            ),
            "form": form,
            "schools": eht.agenda_schools(viewer),
            "today": today,
        },
        status=400 if form.errors else 200,
    )


def _minutes_case(request: HttpRequest, case_id: int) -> tuple[gate.Viewer, Case]:
    """The case if this viewer holds the meeting at its school and reaches its pupil."""
    viewer = gate.viewer_for(request)
    schools = viewer.schools_with(eht.AGENDA_ROLES)
    cases = Case.objects.filter(
        school_id__in=schools,
        pupil__in=gate.pupils_visible_to(viewer, roles=eht.AGENDA_ROLES),
    ).select_related("pupil", "school", "responsible")
    case = get_object_or_404(cases, pk=case_id)
    gate.record_reads(request, [case.pupil_id], role=viewer.school_role(case.school_id))
    return viewer, case


@login_required
@require_http_methods(["GET", "POST"])
def eht_minutes(request: HttpRequest, case_id: int) -> HttpResponse:
    """Minutes of the meeting for one case: what was said, decided, and who does what by when."""
    viewer, case = _minutes_case(request, case_id)
    staff = (
        Staff.objects.filter(Q(roles__school=case.school_id) | Q(pk=case.responsible_id))
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    open_actions = AgreedAction.objects.filter(
        entry__case=case, done_on__isnull=True
    ).select_related("who")
    day = clock.today()
    if request.GET.get("datum"):
        picked = MeetingDayForm(request.GET)
        day = picked.cleaned_data["datum"] if picked.is_valid() else day
    status = 200
    if request.method == "POST":
        form = MinutesForm(request.POST, staff=staff, open_actions=open_actions)
        if form.is_valid():
            try:
                eht.record_minutes(
                    case,
                    day=form.cleaned_data["day"],
                    text=form.cleaned_data["text"],
                    decision=form.cleaned_data["decision"],
                    agreed=form.agreed(),
                    done=list(form.cleaned_data["done"]),
                    by=viewer.staff,
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                status = 400
            else:
                messages.success(request, _("The minutes are kept in the case."))
                agenda = reverse("followup:eht-agenda", args=[case.school_id])
                return redirect(f"{agenda}?datum={form.cleaned_data['day']:%Y-%m-%d}")
        else:
            status = 400
    else:
        form = MinutesForm(initial={"day": day}, staff=staff, open_actions=open_actions)
    earlier = CaseEntry.objects.filter(case=case, kind=CaseEntry.Kind.EHT_MINUTES)
    health = gate.health_entries_access(viewer, case)
    if health is gate.HealthAccess.NONE:
        earlier = earlier.filter(health_restricted=False)
    return render(
        request,
        "support/eht_minutes.html",
        {
            "title": _("Minutes: %(pupil)s") % {"pupil": case.pupil.full_name},
            "case": case,
            "form": form,
            "earlier": earlier.select_related("written_by").prefetch_related("actions__who")[:5],
            "health_locked": health is gate.HealthAccess.VERIFY,
            "restricted": eht.writes_under_secrecy(viewer.staff, case.school_id),
        },
        status=status,
    )
