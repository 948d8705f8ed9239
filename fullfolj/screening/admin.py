from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ScreeningRule, ScreeningRun


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(admin.ModelAdmin):
    """Rules are edited here; clean() refuses an invalid rule with the field and the reason."""

    list_display = ("code", "organiser", "indicator", "comparison", "threshold", "window",
                    "grade_years", "active")
    list_filter = ("organiser", "active", "indicator")
    ordering = ("organiser", "order", "code")


@admin.register(ScreeningRun)
class ScreeningRunAdmin(admin.ModelAdmin):
    """Runs are history: read-only."""

    list_display = ("as_of", "organiser", "source", "started_by", "pupils", "flagged_pupils",
                    "flags", "started_at", "finished_at")
    list_filter = ("organiser", "source")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
