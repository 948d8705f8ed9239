"""Access pages: the read log of a pupil's record for their principal, and the page a login
throttled by axes gets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import gate
from .models import AccessLog


@login_required
def pupil_reads(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Who read this pupil's record, when, through which role and on which page."""
    pupil = gate.get_pupil_access_log_or_404(request, pupil_id)
    entries = (AccessLog.objects.filter(pupil=pupil).select_related("staff")
               .order_by("-at", "-pk"))
    page = Paginator(entries, 50).get_page(request.GET.get("sida"))
    return render(request, "access/pupil_reads.html", {
        "title": _("Who read %(pupil)s's record") % {"pupil": pupil.full_name},
        "pupil": pupil, "page": page,
    })


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """Explain the pause and how long it lasts, as 429 Too Many Requests (axes' default)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)
