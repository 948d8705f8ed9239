"""The resource bank's pages: search the bank, read an entry with its outcome figures, and pick
an entry into a pupil's case as an extra adaptation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.lib import clock
from fullfolj.support.forms import FOLLOW_UP_WEEKS, MeasureForm
from fullfolj.support.models import Case, Measure

from . import actions, queries
from .models import Entry


def _case_of(request: HttpRequest, value: str | None) -> Case | None:
    """The open case named in the request, if this viewer may read it (the read is logged)."""
    if not value or not value.isdigit():
        return None
    cases = Case.objects.open().select_related("pupil", "school", "responsible")
    return gate.get_case_or_404(request, cases, int(value))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The bank: search by words and tag; from a case, each entry can be picked into it."""
    gate.viewer_for(request)  # staff only
    text = request.GET.get("q", "").strip()[:100]
    tag = request.GET.get("tag", "")[:50]
    case = _case_of(request, request.GET.get("case"))
    entries = list(queries.search(text, tag))
    return render(
        request,
        "bank/index.html",
        {
            "title": _("Resource bank"),
            "entries": entries,
            "tags": queries.tags_in_use(),
            "q": text,
            "tag": tag,
            "case": case,
        },
    )


@login_required
def entry_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """An entry: what it is, when and how, and how it went in the municipality."""
    viewer = gate.viewer_for(request)
    entry = get_object_or_404(Entry.objects.prefetch_related("tags"), slug=slug)
    case = _case_of(request, request.GET.get("case"))
    figures = queries.outcomes(entry, queries.organisers_of(viewer), clock.today())
    return render(
        request,
        "bank/entry_detail.html",
        {"title": entry.title, "entry": entry, "figures": figures, "case": case},
    )


def _initial(entry: Entry, case: Case) -> dict[str, Any]:
    today = clock.today()
    return {
        "title": entry.title,
        "description": entry.adaptation_text(),
        "responsible": case.responsible_id,
        "start": today,
        "follow_up_on": today + dt.timedelta(weeks=FOLLOW_UP_WEEKS),
    }


@login_required
@require_http_methods(["GET", "POST"])
def pick(request: HttpRequest, slug: str) -> HttpResponse:
    """Pick the entry into a case: without a case, choose one of the open cases this viewer
    reads; with one, the extra adaptation's form, filled from the entry."""
    viewer = gate.viewer_for(request)
    entry = get_object_or_404(Entry.objects.listed(), slug=slug)
    case = _case_of(request, request.GET.get("case") or request.POST.get("case"))
    if case is None:
        cases = gate.cases_visible_to(viewer, Case.objects.open()).select_related("pupil")
        shown = list(cases.order_by("pupil__last_name", "pupil__first_name")[:200])
        gate.record_reads(
            request, [c.pupil_id for c in shown], role=viewer.role_map([c.pupil_id for c in shown])
        )
        return render(
            request,
            "bank/pick_case.html",
            {
                "title": _("Pick “%(entry)s” into a case") % {"entry": entry.title},
                "entry": entry,
                "cases": shown,
            },
        )
    kind = Measure.Kind.EXTRA_ADAPTATION
    instance = Measure(case=case, kind=kind)
    status = 200
    if request.method == "POST":
        form = MeasureForm(request.POST, instance=instance, kind=kind, school=case.school)
        if form.is_valid():
            data = {
                k: v
                for k, v in form.cleaned_data.items()
                if k not in ("version", "seen", "subjects")
            }
            try:
                actions.pick_entry(
                    entry,
                    case=case,
                    fields=data,
                    by=viewer.staff,
                    restricted=gate.writes_health_entries(viewer, case),
                )
            except ValidationError as error:
                for name, problems in getattr(
                    error, "message_dict", {None: error.messages}
                ).items():
                    form.add_error(name if name in form.fields else None, problems)
            else:
                messages.success(request, _("The extra adaptation is saved."))
                return redirect("support:case", case_id=case.pk)
        status = 400
    else:
        form = MeasureForm(
            instance=instance, kind=kind, school=case.school, initial=_initial(entry, case)
        )
    return render(
        request,
        "bank/pick_form.html",
        {
            "title": _("Pick “%(entry)s” into a case") % {"entry": entry.title},
            "entry": entry,
            "case": case,
            "pupil": case.pupil,
            "form": form,
        },
        status=status,
    )
