"""The administration's upload page for CSV and Excel files: upload, preview with a column map,
import in the background with its progress (docs/exchange.md).

The pages show no pupil's record, only the uploaded file's own rows and counts, so they log no
read.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fullfolj.access import gate
from fullfolj.schools.models import Organiser

from . import actions
from .forms import KIND_CHOICES, MappingForm, PresetForm, UploadForm
from .models import FileImport, ImportPreset
from .tabular import load, presets, reader


def _organiser(request: HttpRequest) -> Organiser:
    return gate.administered_organiser_or_404(gate.viewer_for(request))


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a file for the administration's own organiser; its preview comes next."""
    viewer = gate.viewer_for(request)
    organiser = gate.administered_organiser_or_404(viewer)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        sent = form.cleaned_data["file"]
        data = sent.read()
        try:
            reader.read(data, sent.name)
        except reader.FileRejected as error:
            form.add_error("file", str(error))
        else:
            made = actions.upload_file(
                organiser,
                kind=form.cleaned_data["kind"],
                name=sent.name,
                data=data,
                by=viewer.staff,
            )
            return redirect("exchange:file", made.pk)
    kinds = dict(KIND_CHOICES)
    recent = [
        (item, kinds[item.kind])
        for item in FileImport.objects.filter(organiser=organiser)
        .exclude(status=FileImport.Status.PREVIEW)
        .defer("data")[:5]
    ]
    return render(
        request,
        "exchange/upload.html",
        {
            "title": _("Import a file"),
            "form": form,
            "organiser": organiser,
            "recent": recent,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def file_import(request: HttpRequest, file_id: int) -> HttpResponse:
    """A file's preview (first rows by our columns, every bad row, the column map), then its
    progress and outcome once it is queued."""
    organiser = _organiser(request)
    upload = get_object_or_404(FileImport, pk=file_id, organiser=organiser)
    known = presets.presets_for(upload.kind, organiser)
    if upload.status != FileImport.Status.PREVIEW:
        if request.method == "POST":
            return redirect("exchange:file", upload.pk)  # already queued: nothing to do twice
        return _outcome(request, upload)
    shown = presets.preview(
        upload.kind,
        bytes(upload.data),
        name=upload.name,
        columns=upload.columns,
        organiser=organiser,
    )
    mapping = MappingForm(shown.columns, shown.headers, shown.chosen)
    current = next((name for name, columns in known.items() if columns == upload.columns), "")
    chooser = PresetForm(list(known), initial={"preset": current})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "preset":
            chooser = PresetForm(list(known), request.POST)
            if chooser.is_valid():
                upload.columns = known[chooser.cleaned_data["preset"]]
                upload.save(update_fields=["columns"])
                return redirect("exchange:file", upload.pk)
        elif action == "map":
            mapping = MappingForm(shown.columns, shown.headers, shown.chosen, request.POST)
            if mapping.is_valid():
                upload.columns = mapping.columns()
                upload.save(update_fields=["columns"])
                if mapping.cleaned_data["save_as"]:
                    ImportPreset.objects.update_or_create(
                        organiser=organiser,
                        kind=upload.kind,
                        name=mapping.cleaned_data["save_as"],
                        defaults={"columns": upload.columns},
                    )
                return redirect("exchange:file", upload.pk)
        elif action in {"import", "check"} and not (shown.error or shown.missing or shown.problems):
            actions.queue_file_import(upload, check_only=action == "check")
            return redirect("exchange:file", upload.pk)
        status = 400
    labels = [label for _key, label, _required in shown.columns]
    return render(
        request,
        "exchange/file_preview.html",
        {
            "title": _("Preview of %(name)s") % {"name": upload.name},
            "upload": upload,
            "kind": dict(KIND_CHOICES)[upload.kind],
            "preview": shown,
            "labels": labels,
            "mapping": mapping,
            "chooser": chooser,
            "presets": known,
            "current": current,
        },
        status=status,
    )


def _outcome(request: HttpRequest, upload: FileImport) -> HttpResponse:
    problems = [load.Problem(*p) for p in upload.outcome.get("problems", [])]
    return render(
        request,
        "exchange/file_outcome.html",
        {
            "title": upload.name,
            "upload": upload,
            "kind": dict(KIND_CHOICES)[upload.kind],
            "problems": problems,
            "status_url": reverse("exchange:file-status", args=[upload.pk]),
        },
    )


@require_GET
@login_required
def file_status(request: HttpRequest, file_id: int) -> JsonResponse:
    """How far a queued file has come, for the progress indicator on its page."""
    organiser = _organiser(request)
    upload = get_object_or_404(FileImport, pk=file_id, organiser=organiser)
    return JsonResponse(
        {
            "status": upload.status,
            "label": upload.get_status_display(),
            "percent": upload.percent,
            "rows_done": upload.rows_done,
            "rows_total": upload.rows_total,
            "running": upload.is_running,
        }
    )
