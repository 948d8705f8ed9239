from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from fullfolj.schools.admin_scope import OrganiserScopedAdmin

from .models import ScreeningRule, ScreeningRun


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(OrganiserScopedAdmin):
    """Rules are edited here; clean() refuses an invalid rule with the field and the reason.

    The shared defaults (no organiser) are seen by every organiser and changed by a superuser.
    """

    organiser_field = "organiser"
    shared_defaults = True
    list_display = (
        "code",
        "name",
        "organiser",
        "indicator",
        "comparison",
        "threshold",
        "window",
        "grade_years",
        "active",
    )
    list_filter = ("organiser", "active", "indicator")
    ordering = ("organiser", "order", "code")


@admin.register(ScreeningRun)
class ScreeningRunAdmin(OrganiserScopedAdmin):
    """Runs are history: read-only."""

    organiser_field = "organiser"
    list_display = (
        "as_of",
        "organiser",
        "source",
        "started_by",
        "pupils",
        "flagged_pupils",
        "flags",
        "started_at",
        "finished_at",
    )
    list_filter = ("organiser", "source")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
