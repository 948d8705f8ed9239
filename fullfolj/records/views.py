from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from fullfolj.access import gate
from fullfolj.lib import clock

from . import extract
from .access import get_extract_pupil_or_404
from .models import Extract


@login_required
def pupil_extract(request: HttpRequest, pupil_id: int, file_format: str) -> HttpResponse:
    """The pupil's register extract as a PDF or JSON download; making one is logged."""
    pupil = get_extract_pupil_or_404(request, pupil_id)
    if gate.second_factor_missing_for(gate.viewer_for(request), pupil.organiser_id):
        # The extract holds the student-health team's entries: the same second factor first.
        target = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('access:second-factor')}?{target}")
    sections = extract.collect(pupil)
    if file_format == "json":
        body, content_type = extract.as_json(pupil, sections), "application/json"
    else:
        body = extract.as_pdf(pupil, sections, base_url=request.build_absolute_uri("/"))
        content_type = "application/pdf"
    Extract.objects.create(
        pupil=pupil,
        made_by=gate.viewer_for(request).staff,
        made_at=clock.now(),
        channel=Extract.Channel.PAGE,
        file_format=file_format,
    )
    response = HttpResponse(body, content_type=content_type)
    name = f"registerutdrag-{pupil.pk}-{clock.today():%Y-%m-%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
