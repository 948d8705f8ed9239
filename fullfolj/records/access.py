"""Who may make a pupil's register extract: the principal of the pupil's school (the same
relationship that shows them who read the record), or the administration of the organiser whose
records hold the pupil (docs/records.md)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from fullfolj.access import gate
from fullfolj.schools.models import Pupil, Role


def administers(viewer: gate.Viewer, pupil: Pupil) -> bool:
    """Whether the viewer is the administration of the organiser holding the pupil's records."""
    return pupil.organiser_id in viewer.organisers_with({Role.ADMINISTRATION})


def may_make_extract(viewer: gate.Viewer, pupil: Pupil, *, principal: bool | None = None) -> bool:
    """`principal`: the answer of `gate.may_read_access_log` when the caller has it already."""
    if principal is None:
        principal = gate.may_read_access_log(viewer, pupil)
    return principal or administers(viewer, pupil)


def get_extract_pupil_or_404(request: HttpRequest, pupil_id: int) -> Pupil:
    """The pupil whose extract this viewer may make, the read logged; else 404 (not allowed
    looks like not found)."""
    viewer = gate.viewer_for(request)
    pupil = Pupil.objects.filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    if gate.may_read_access_log(viewer, pupil):
        role = Role.PRINCIPAL
    elif administers(viewer, pupil):
        role = Role.ADMINISTRATION
    else:
        raise Http404
    gate.record_reads(request, [pupil], role=role)
    return pupil
