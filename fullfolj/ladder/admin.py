"""The municipality edits its ladder here; tasks are read here and closed only on their page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.admin_scope import OrganiserScopedAdmin, OrganiserScopedInline

from .models import LadderRecord, LadderStep, LadderTask, LadderTrigger


class TriggerFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """An active step needs a trigger, or it could never open."""
        super().clean()
        if any(self.errors) or not getattr(self.instance, "is_active", False):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE", False)]
        if not kept:
            raise ValidationError(_("An active step needs at least one trigger."))


class TriggerInline(OrganiserScopedInline, admin.TabularInline):
    model = LadderTrigger
    organiser_field = "step__organiser"
    shared_defaults = True
    formset = TriggerFormSet
    extra = 0
    min_num = 1


@admin.register(LadderStep)
class LadderStepAdmin(OrganiserScopedAdmin):
    """The municipality's ladder: steps, who acts, deadlines and triggers.

    The default ladder (no organiser) is seen by every organiser and changed by a superuser.
    """

    organiser_field = "organiser"
    shared_defaults = True
    list_display = ["order", "name", "actor", "deadline_days", "organiser", "is_active"]
    list_filter = ["organiser", "is_active"]
    inlines = [TriggerInline]


class RecordInline(OrganiserScopedInline, admin.TabularInline):
    model = LadderRecord
    organiser_field = "task__pupil__organiser"
    extra = 0
    readonly_fields = ["kind", "date", "text", "by", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LadderTask)
class LadderTaskAdmin(OrganiserScopedAdmin):
    """Read-only: tasks open by the daily evaluation and close by documentation (task page)."""

    organiser_field = "pupil__organiser"
    pupil_field = "pupil"
    list_display = ["opened_on", "step", "pupil", "actor", "assignee", "due", "closed_at"]
    list_filter = ["step", "actor"]
    readonly_fields = [
        "pupil",
        "step",
        "school",
        "actor",
        "opened_on",
        "due",
        "reason",
        "closed_at",
        "closed_by",
    ]
    fields = [*readonly_fields, "assignee"]
    raw_id_fields = ["assignee"]
    inlines = [RecordInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
