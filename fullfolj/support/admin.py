"""Support cases in the admin: for a superuser to look up, never to change.

Cases, their timeline entries, mappings, measures and evaluations are the school's documentation
of a pupil's support (Skollagen 3 kap., OSL 23 and 25 kap.): they are written and corrected on
the case pages, where every change leaves an entry and a version, and kept as they were written.
So the admin shows them read-only and deletes nothing; an organiser's administrators do not see
them at all (the student-health team's notes are not theirs to read).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from fullfolj.access import gate
from fullfolj.schools.admin_scope import OrganiserScopedInline, SuperuserOnlyAdmin

from .models import AgreedAction, Case, CaseEntry, Evaluation, Mapping, Measure

PUPIL_SEARCH = ["pupil__last_name", "pupil__first_name", "=pupil__personnummer"]


def _via(prefix: str) -> list[str]:
    return [
        f"{field[0]}{prefix}{field[1:]}" if field.startswith("=") else prefix + field
        for field in PUPIL_SEARCH
    ]


def _unguarded_without_second_factor(request: HttpRequest, entries: QuerySet[CaseEntry]) -> Any:
    """Health-restricted entries only for a session that gave a second factor: the admin is
    one more route to them, and a superuser's password alone opens it."""
    if gate.has_second_factor(request):
        return entries
    return entries.filter(health_restricted=False)


class ReadOnlyAdmin(SuperuserOnlyAdmin):
    """A superuser reads and searches; nobody adds, changes or deletes here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(OrganiserScopedInline, admin.TabularInline):
    model = CaseEntry
    organiser_field = "case__pupil__organiser"
    fields = ("occurred_on", "kind", "written_by", "health_restricted", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return _unguarded_without_second_factor(request, super().get_queryset(request))


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["pupil", "school", "status", "opened_from", "responsible", "opened_at"]
    list_filter = ["status", "opened_from", "school"]
    search_fields = [*PUPIL_SEARCH, "reason", "responsible__last_name"]
    list_select_related = ["pupil", "school", "responsible"]
    date_hierarchy = "opened_at"
    inlines = [EntryInline]


@admin.register(CaseEntry)
class CaseEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "kind", "case", "written_by", "health_restricted"]
    list_filter = ["kind", "health_restricted"]
    search_fields = [*_via("case__"), "text", "decision"]
    list_select_related = ["case__pupil", "written_by"]
    date_hierarchy = "occurred_on"

    def get_queryset(self, request: HttpRequest) -> Any:
        return _unguarded_without_second_factor(request, super().get_queryset(request))


@admin.register(Mapping)
class MappingAdmin(ReadOnlyAdmin):
    list_display = ["written_on", "case", "written_by"]
    search_fields = _via("case__")
    list_select_related = ["case__pupil", "written_by"]


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ["start", "kind", "title", "case", "responsible", "follow_up_on", "status"]
    list_filter = ["kind", "status", "decision"]
    search_fields = [*_via("case__"), "title"]
    list_select_related = ["case__pupil", "responsible"]
    date_hierarchy = "start"


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["evaluated_on", "measure", "judgement", "by"]
    list_filter = ["judgement"]
    search_fields = [*_via("measure__case__"), "text"]
    list_select_related = ["measure", "by"]


@admin.register(AgreedAction)
class AgreedActionAdmin(ReadOnlyAdmin):
    list_display = ["due", "what", "who", "done_on"]
    search_fields = [*_via("entry__case__"), "what"]
    list_select_related = ["who"]
