"""Writes of the resource bank: pick an entry into a case, remove an entry (docs/bank.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fullfolj.schools.models import Staff
from fullfolj.support import actions as support
from fullfolj.support.models import Case, Measure

from .models import Entry, Use


@transaction.atomic
def pick_entry(
    entry: Entry,
    *,
    case: Case,
    fields: Mapping[str, Any],
    by: Staff,
    restricted: bool = False,
) -> Measure:
    """Start an extra adaptation on the case from a bank entry, remembering the entry so its
    outcome figures count the measure. An archived entry is not offered any more."""
    if entry.is_archived:
        raise ValidationError(_("This entry is archived; pick another one."))
    if not case.is_open:
        raise ValidationError(_("The case is closed; open a new case first."))
    measure = support.add_measure(
        case,
        fields={**fields, "kind": Measure.Kind.EXTRA_ADAPTATION},
        by=by,
        restricted=restricted,
    )
    Use.objects.create(measure=measure, entry=entry)
    return measure


@transaction.atomic
def remove_entry(entry: Entry) -> bool:
    """Delete an entry no measure used; an entry in use is archived instead (its measures keep
    where they came from and its figures stay readable). Returns whether it was deleted."""
    if Use.objects.filter(entry=entry).exists():
        entry.is_archived = True
        entry.save(update_fields=["is_archived", "updated_at"])
        return False
    entry.delete()
    return True
