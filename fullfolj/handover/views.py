"""The handover pages: the moves to write handovers for, the pupils arriving at a school, the
handover itself (written by the sending school, read by the receiving one) and its PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fullfolj.access import gate
from fullfolj.lib import clock
from fullfolj.schools.models import School

from . import actions, pdf, queries
from .forms import HandoverForm
from .models import Handover, HandoverVersion


@dataclass
class Opened:
    """A handover as this viewer opens it: as its writer, or as the receiving school."""

    handover: Handover
    writing: bool
    role: str


def _handover_or_404(request: HttpRequest, handover_id: int, *, write: bool = False) -> Opened:
    """The handover if this viewer writes it, or receives it once sent; the pupil's read is
    logged. Else 404."""
    viewer = gate.viewer_for(request)
    handovers = Handover.objects.select_related(
        "pupil", "placement__school_class", "sending_school", "receiving_school"
    )
    found = gate.handovers_written_by(viewer, handovers).filter(pk=handover_id).first()
    writing = found is not None
    if found is None and not write:
        sent = handovers.filter(versions__status=HandoverVersion.Status.SENT).distinct()
        found = gate.handovers_received_by(viewer, sent).filter(pk=handover_id).first()
    if found is None:
        raise Http404
    role = gate.handover_role(viewer, found, writing=writing)
    gate.record_reads(request, [found.pupil_id], role=role)
    return Opened(found, writing, role)


def _shown_version(opened: Opened, number: str | None) -> HandoverVersion:
    """The version to show: the writer sees the latest, the receiving school the latest sent;
    `?version=N` opens an earlier one."""
    versions = opened.handover.versions.select_related("sent_by", "written_by")
    if not opened.writing:
        versions = versions.filter(status=HandoverVersion.Status.SENT)
    if number and number.isdigit():
        return get_object_or_404(versions, number=int(number))
    version = versions.order_by("-number").first()
    if version is None:
        raise Http404
    return version


def _context(opened: Opened, version: HandoverVersion) -> dict[str, Any]:
    handover = opened.handover
    pupil = handover.pupil
    protected = pupil.protected_identity
    return {
        "handover": handover,
        "version": version,
        "versions": list(handover.versions.order_by("-number").prefetch_related("reads")),
        "pupil": pupil,
        "protected": protected,
        # No former school and no address for a protected-identity pupil (DOMAIN.md).
        "from_school": None if protected else handover.sending_school,
        "address": "" if protected else pupil.address,
        "facts": version.facts,
        "contacts": [
            {"role": queries.contact_label(c["role"]), "name": c["name"]}
            for c in version.facts.get("contacts", [])
        ],
        "writing": opened.writing,
        "reads": list(version.reads.select_related("staff")),
        "title": _("Handover: %(pupil)s") % {"pupil": pupil.full_name},
    }


@login_required
def to_write(request: HttpRequest) -> HttpResponse:
    """Överlämningar att skriva: the coming moves of the pupils this person works with."""
    viewer = gate.viewer_for(request)
    pupils = gate.handover_pupils(viewer).values("pk")
    placements = queries.coming_placements().filter(pupil_id__in=pupils)
    moves = queries.moves(placements)
    gate.record_reads(
        request,
        [m.placement.pupil_id for m in moves],
        role=viewer.role_map([m.placement.pupil_id for m in moves]),
    )
    return render(
        request,
        "handover/to_write.html",
        {"moves": moves, "title": _("Handovers to write"), "today": clock.today()},
    )


@login_required
def arriving(request: HttpRequest) -> HttpResponse:
    """Elever som börjar hos oss: per receiving school, the pupils arriving and whether their
    handover is missing, a draft, sent or read."""
    viewer = gate.viewer_for(request)
    placements = gate.arrivals_visible_to(viewer, queries.coming_placements())
    listing = queries.arriving(placements, request.GET.get("page"))
    moves = listing.page.object_list
    gate.record_reads(
        request,
        [m.placement.pupil_id for m in moves],
        role={
            m.placement.pupil_id: gate.handover_role(viewer, _as_handover(m), writing=False)
            for m in moves
        },
    )
    return render(
        request,
        "handover/arriving.html",
        {"schools": listing.schools, "page": listing.page, "title": _("Pupils starting with us")},
    )


def _as_handover(move: queries.Move) -> Handover:
    return move.handover or Handover(
        pupil_id=move.placement.pupil_id, receiving_school_id=move.placement.school_id
    )


@require_POST
@login_required
def start(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Start the handover of a pupil's coming move to the school posted; refused (400, nothing
    written) when the pupil is not moving there."""
    viewer = gate.viewer_for(request)
    pupil = get_object_or_404(gate.handover_pupils(viewer), pk=pupil_id)
    gate.record_reads(request, [pupil], role=viewer.role_for(pupil))
    school_id = request.POST.get("school", "")
    school = School.objects.filter(pk=int(school_id)).first() if school_id.isdigit() else None
    if school is None:
        messages.error(request, _("Choose the school the pupil is moving to."))
        return redirect("handover:to-write")
    try:
        handover = actions.start_handover(pupil, school=school, by=viewer.staff)
    except ValidationError as error:
        return render(
            request,
            "handover/refused.html",
            {"errors": error.messages, "pupil": pupil, "title": _("The handover was refused")},
            status=400,
        )
    return redirect("handover:edit", handover.pk)


@login_required
def detail(request: HttpRequest, handover_id: int) -> HttpResponse:
    """The handover as the receiving school reads it (the read is recorded) or as its writer
    sees it; earlier versions stay readable."""
    opened = _handover_or_404(request, handover_id)
    version = _shown_version(opened, request.GET.get("version"))
    if not opened.writing:
        actions.record_read(version, by=gate.viewer_for(request).staff, role=opened.role)
    return render(request, "handover/detail.html", _context(opened, version))


@require_http_methods(["GET", "POST"])
@login_required
def edit(request: HttpRequest, handover_id: int) -> HttpResponse:
    """The sending school edits the texts; after the receiving school has read the handover,
    saving makes a new version and keeps the one they read."""
    opened = _handover_or_404(request, handover_id, write=True)
    latest = opened.handover.versions.order_by("-number").first()
    assert latest is not None  # noqa: S101
    form = HandoverForm(request.POST or None, instance=latest, initial={"edits": latest.edits})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                version = actions.save_handover(
                    opened.handover,
                    texts=form.cleaned_data,
                    edits=form.cleaned_data["edits"],
                    by=gate.viewer_for(request).staff,
                )
            except actions.EditConflict:
                form.add_error(
                    None, _("Someone else saved this after you opened it; nothing was overwritten.")
                )
                status = 409
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                if "send" in request.POST:
                    actions.send_handover(opened.handover, by=gate.viewer_for(request).staff)
                    messages.success(request, _("The handover is sent to the receiving school."))
                elif version.number != latest.number:
                    messages.success(
                        request,
                        _(
                            "The receiving school had read version %(old)s; your changes are "
                            "version %(new)s, a draft. Version %(old)s is kept."
                        )
                        % {"old": latest.number, "new": version.number},
                    )
                else:
                    messages.success(request, _("The handover is saved."))
                return redirect("handover:detail", opened.handover.pk)
    context = _context(opened, latest) | {"form": form, "title": _("Write the handover")}
    return render(request, "handover/edit.html", context, status=status)


@require_POST
@login_required
def send(request: HttpRequest, handover_id: int) -> HttpResponse:
    """Send the latest version as it is."""
    opened = _handover_or_404(request, handover_id, write=True)
    try:
        actions.send_handover(opened.handover, by=gate.viewer_for(request).staff)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The handover is sent to the receiving school."))
    return redirect("handover:detail", opened.handover.pk)


@login_required
def handover_pdf(request: HttpRequest, handover_id: int) -> HttpResponse:
    """The handover as a PDF, as the receiving school files it (the read is recorded)."""
    opened = _handover_or_404(request, handover_id)
    version = _shown_version(opened, request.GET.get("version"))
    if not opened.writing:
        actions.record_read(version, by=gate.viewer_for(request).staff, role=opened.role)
    content = pdf.handover_pdf(_context(opened, version), base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="overlamning-{handover_id}.pdf"'
    return response
