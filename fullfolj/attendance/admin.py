from django.contrib import admin

from fullfolj.schools.admin_scope import OrganiserScopedAdmin

from . import models


@admin.register(models.AbsenceReason)
class AbsenceReasonAdmin(OrganiserScopedAdmin):
    """Absence reasons decide valid and invalid absence everywhere: shared."""

    organiser_field = None
    list_display = ["code", "name", "is_valid"]


@admin.register(models.AttendanceChange)
class AttendanceChangeAdmin(OrganiserScopedAdmin):
    """History is evidence: it is read here, never edited."""

    organiser_field = "attendance__organiser"
    pupil_field = "attendance__pupil"
    list_display = ["changed_at", "changed_by", "lesson", "old_text", "new_text"]
    list_select_related = ["changed_by", "lesson__group", "lesson__subject"]
    raw_id_fields = ["attendance", "lesson"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
