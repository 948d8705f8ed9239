"""The read log of one pupil's record, for the principal of the pupil's school."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from fullfolj.schools.models import Role

from . import gate
from .models import AccessLog

ROLE_NAMES = dict(Role.choices)


@login_required
def pupil_reads(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Who read this pupil's record, when, through which role and on which page."""
    pupil = gate.get_pupil_access_log_or_404(request, pupil_id)
    entries = (AccessLog.objects.filter(pupil=pupil).select_related("staff")
               .order_by("-at", "-pk"))
    page = Paginator(entries, 50).get_page(request.GET.get("sida"))
    for entry in page:
        entry.role_name = ROLE_NAMES.get(entry.role, entry.role)
    return render(request, "access/pupil_reads.html", {
        "title": _("Who read %(pupil)s's record") % {"pupil": pupil.full_name},
        "pupil": pupil, "page": page,
    })
