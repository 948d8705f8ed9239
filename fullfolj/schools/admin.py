from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import models
from .admin_scope import OrganiserScopedAdmin, is_superuser


@admin.register(models.Organiser)
class OrganiserAdmin(OrganiserScopedAdmin):
    """An administrator edits their own organiser; creating or removing one is a superuser's."""

    organiser_field = "pk"
    list_display = ["name", "kind", "municipality_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)


@admin.register(models.School)
class SchoolAdmin(OrganiserScopedAdmin):
    organiser_field = "organiser"
    list_display = ["name", "unit_code", "organiser", "grade_from", "grade_to"]
    list_filter = ["organiser"]


@admin.register(models.Term)
class TermAdmin(OrganiserScopedAdmin):
    """Terms are the country's school calendar, the same for every organiser: shared."""

    organiser_field = None
    list_display = ["__str__", "school_year", "start", "end"]


@admin.register(models.DayOff)
class DayOffAdmin(OrganiserScopedAdmin):
    organiser_field = "organiser"
    list_display = ["date", "name", "kind", "organiser"]
    list_filter = ["organiser", "kind"]


@admin.register(models.Subject)
class SubjectAdmin(OrganiserScopedAdmin):
    """Skolverket's subject codes, the same for every organiser: shared."""

    organiser_field = None
    list_display = ["code", "name"]


@admin.register(models.Staff)
class StaffAdmin(OrganiserScopedAdmin):
    """Staff of the user's organisers, through their roles.

    A new staff record has no role, hence no organiser, and linking a record to a login decides
    whose roles that login gets: both are a superuser's.
    """

    organiser_field = "roles__organiser"
    list_display = ["username", "first_name", "last_name", "email", "employee_number"]
    search_fields = ["username", "last_name", "employee_number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return fields if is_superuser(request) else [*fields, "user"]
