"""Who may make a pupil's register extract: the principal of the pupil's school, or the
administration of the organiser whose records hold the pupil (docs/records.md)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from fullfolj.access import gate
from fullfolj.schools.models import Pupil, Role


def extract_role(viewer: gate.Viewer, pupil_id: int) -> str | None:
    """The role through which this viewer may make the pupil's extract, or None."""
    if (
        viewer.has(Role.PRINCIPAL)
        and gate.pupils_visible_to(viewer, roles={Role.PRINCIPAL}).filter(pk=pupil_id).exists()
    ):
        return Role.PRINCIPAL
    organisers = viewer.organisers_with({Role.ADMINISTRATION})
    if organisers and Pupil.objects.filter(pk=pupil_id, organiser_id__in=organisers).exists():
        return Role.ADMINISTRATION
    return None


def may_make_extract(viewer: gate.Viewer, pupil: Pupil) -> bool:
    return extract_role(viewer, pupil.pk) is not None


def get_extract_pupil_or_404(request: HttpRequest, pupil_id: int) -> Pupil:
    """The pupil whose extract this viewer may make, the read logged; else 404 (not allowed
    looks like not found)."""
    viewer = gate.viewer_for(request)
    role = extract_role(viewer, pupil_id)
    if role is None:
        raise Http404
    pupil = Pupil.objects.get(pk=pupil_id)
    gate.record_reads(request, [pupil], role=role)
    return pupil
