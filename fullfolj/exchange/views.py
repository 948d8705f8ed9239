"""The administration's upload page for CSV and Excel files (docs/exchange.md)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fullfolj.access import gate

from .forms import UploadForm
from .tabular import load, reader


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a file of pupils or lesson attendance for the administration's own organiser.

    The whole file or nothing: a bad file comes back with every bad row named. The page shows
    no pupil's record, only the file's own rows and counts, so there is no read to log.
    """
    viewer = gate.viewer_for(request)
    organiser = gate.administered_organiser_or_404(viewer)
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list[load.Problem] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            check_only = form.cleaned_data["check_only"]
            try:
                result = load.import_file(
                    form.cleaned_data["kind"],
                    upload.read(),
                    name=upload.name,
                    dry_run=check_only,
                    organiser=organiser,
                )
            except reader.FileRejected as error:
                form.add_error("file", str(error))
            except load.Rejected as error:
                problems = error.problems
            else:
                counts = {
                    "rows": result.rows,
                    "created": result.created,
                    "changed": result.changed,
                    "unchanged": result.unchanged,
                }
                if check_only:
                    text = _(
                        "The file is fine: %(rows)s rows would give %(created)s new, "
                        "%(changed)s changed and %(unchanged)s unchanged. Nothing was imported."
                    )
                else:
                    text = _(
                        "Imported %(rows)s rows: %(created)s new, %(changed)s changed, "
                        "%(unchanged)s unchanged."
                    )
                messages.success(request, text % counts)
                return redirect("exchange:upload")
        status = 400
    return render(
        request,
        "exchange/upload.html",
        {
            "title": _("Import a file"),
            "form": form,
            "problems": problems,
            "organiser": organiser,
        },
        status=status,
    )
