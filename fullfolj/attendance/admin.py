from django.contrib import admin

from . import models


@admin.register(models.AbsenceReason)
class AbsenceReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_valid"]


@admin.register(models.AttendanceChange)
class AttendanceChangeAdmin(admin.ModelAdmin):
    """History is evidence: it is read here, never edited."""

    list_display = ["changed_at", "changed_by", "lesson", "old_text", "new_text"]
    list_select_related = ["changed_by", "lesson__group", "lesson__subject"]
    raw_id_fields = ["attendance", "lesson"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
