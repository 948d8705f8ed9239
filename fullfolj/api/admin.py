from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from fullfolj.schools.admin_scope import SuperuserOnlyAdmin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnlyAdmin):
    """A token acts as its staff member: issuing one is a superuser's."""

    list_display = ("prefix", "staff", "name", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("staff__username", "staff__last_name", "name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    autocomplete_fields = ("staff",)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        # A token keeps its owner: a new owner would inherit what the old one set up.
        return (*self.readonly_fields, "staff") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        key = "" if change else obj.set_key()
        super().save_model(request, obj, form, change)
        if key:
            messages.warning(
                request,
                _("The new token is %(key)s — copy it now; it is not shown again.") % {"key": key},
            )
