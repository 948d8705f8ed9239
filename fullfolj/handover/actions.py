"""The one way to change handovers: start one for a coming move, save it, send it, record that
the receiving school read it (docs/handover.md)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fullfolj.lib import clock
from fullfolj.schools.models import Placement, Pupil, School, Staff
from fullfolj.schools.queries import current_placement

from . import queries
from .models import Handover, HandoverRead, HandoverVersion


class EditConflict(Exception):
    """A save on top of someone else's save: refused, nothing overwritten."""


@transaction.atomic
def start_handover(
    pupil: Pupil, *, school: School, by: Staff | None, texts: dict[str, str] | None = None
) -> Handover:
    """Start (or return) the handover for the pupil's coming move to `school`, prefilled from
    what the system knows. Refused when the pupil is not moving to that school: a handover goes
    only where a placement is planned (skollagen: the receiving school needs the facts, no other
    school may have them). `texts` replace prefilled texts (the demo's words)."""
    today = clock.today()
    placement = (
        queries.coming_placement(pupil, today).filter(school=school).order_by("start").first()
    )
    if placement is None:
        raise ValidationError(
            {
                "receiving_school": _(
                    "%(pupil)s is not moving to %(school)s: no placement there starts after "
                    "today, so no handover can go there."
                )
                % {"pupil": pupil.full_name, "school": school.name}
            }
        )
    existing = Handover.objects.filter(placement=placement).first()
    if existing is not None:
        return existing
    now_at = current_placement(pupil, today)
    handover = Handover.objects.create(
        pupil=pupil,
        placement=placement,
        sending_school=now_at.school if now_at else None,
        receiving_school=school,
        created_by=by,
    )
    facts = queries.collect_facts(pupil, today)
    HandoverVersion.objects.create(
        handover=handover,
        number=1,
        facts=facts,
        written_by=by,
        **(queries.prefill_texts(facts, pupil) | (texts or {})),
    )
    return handover


def _still_going(handover: Handover) -> Placement:
    """The move the handover is for must still be planned: a placement changed to another
    school since the handover was started refuses the save."""
    placement = Placement.objects.get(pk=handover.placement_id)
    if placement.school_id != handover.receiving_school_id:
        raise ValidationError(
            _("The pupil is no longer moving to %(school)s; this handover cannot be sent there.")
            % {"school": handover.receiving_school.name}
        )
    return placement


@transaction.atomic
def save_handover(
    handover: Handover, *, texts: dict[str, Any], edits: int, by: Staff
) -> HandoverVersion:
    """Save the texts. A draft, or a sent version nobody has read, changes in place (a sent one
    stays sent); a version the receiving school has read is kept as it was and the texts become
    the next version, a draft. `edits` is the counter the form was opened with."""
    _still_going(handover)
    latest = (
        HandoverVersion.objects.select_for_update().filter(handover=handover).order_by("-number")
    ).first()
    assert latest is not None  # noqa: S101 - every handover starts with a version
    if latest.edits != edits:
        raise EditConflict
    fields = {name: str(texts.get(name, "")).strip() for name in HandoverVersion.TEXTS}
    facts = queries.collect_facts(handover.pupil, clock.today())
    if latest.reads.exists():
        return HandoverVersion.objects.create(
            handover=handover,
            number=latest.number + 1,
            facts=facts,
            written_by=by,
            **fields,
        )
    for name, value in fields.items():
        setattr(latest, name, value)
    latest.facts = facts
    latest.written_by = by
    latest.updated_at = clock.now()
    latest.edits += 1
    latest.save()
    return latest


@transaction.atomic
def send_handover(handover: Handover, *, by: Staff) -> HandoverVersion:
    """Send the latest version to the receiving school; sending twice changes nothing."""
    _still_going(handover)
    latest = (
        HandoverVersion.objects.select_for_update().filter(handover=handover).order_by("-number")
    ).first()
    assert latest is not None  # noqa: S101
    if latest.status == HandoverVersion.Status.SENT:
        return latest
    latest.status = HandoverVersion.Status.SENT
    latest.sent_at = clock.now()
    latest.sent_by = by
    latest.edits += 1
    latest.save()
    return latest


def record_read(version: HandoverVersion, *, by: Staff, role: str) -> None:
    """The receiving school read a sent version: from now on it is never changed."""
    if version.is_sent and not version.reads.filter(staff=by).exists():
        HandoverRead.objects.create(version=version, staff=by, role=role)
