"""The resource bank in the admin. The bank is one library shared by every organiser of the
installation (docs/bank.md), so, like the other shared tables, organisers' administrators read
it and a superuser adds, edits and archives entries. An entry some measure used is never
deleted: the admin refuses (the database protects it) and "Archive" takes it out of the list."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fullfolj.schools.admin_scope import OrganiserScopedAdmin

from . import actions as bank_actions
from .models import Entry, Tag


@admin.register(Tag)
class TagAdmin(OrganiserScopedAdmin):
    organiser_field = None
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Entry)
class EntryAdmin(OrganiserScopedAdmin):
    organiser_field = None
    list_display = ["title", "is_archived", "times_used"]
    list_filter = ["is_archived", "tags"]
    search_fields = ["title", "summary", "when_to_use"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    fields = [
        "title",
        "slug",
        "summary",
        "when_to_use",
        "how_to",
        "follow_up",
        "tags",
        "is_archived",
    ]
    actions = ["archive"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        entries: QuerySet = super().get_queryset(request).annotate(used=Count("uses"))
        return entries

    @admin.display(description=_("times used"), ordering="used")
    def times_used(self, entry: Entry) -> int:
        return getattr(entry, "used", 0)

    @admin.action(description=_("Archive the selected entries (an unused one is deleted)"))
    def archive(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not self.has_change_permission(request):
            return
        deleted = archived = 0
        for entry in queryset:
            if bank_actions.remove_entry(entry):
                deleted += 1
            else:
                archived += 1
        self.message_user(
            request,
            ngettext("%(n)s entry archived", "%(n)s entries archived", archived) % {"n": archived}
            + ", "
            + ngettext("%(n)s unused entry deleted", "%(n)s unused entries deleted", deleted)
            % {"n": deleted}
            + ".",
            messages.SUCCESS,
        )
