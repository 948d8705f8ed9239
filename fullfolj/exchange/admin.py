"""Sources hold credentials to a whole school system: only a superuser sees or sets them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.admin_scope import SuperuserOnlyAdmin

from . import actions
from .models import FileImport, ImportPreset, ImportRun, Source

SECRETS = ("token", "client_secret")


class SourceForm(forms.ModelForm):
    """Secrets are never shown back; left empty, the stored one is kept."""

    class Meta:
        model = Source
        fields = [
            "name",
            "organiser",
            "base_url",
            "enabled",
            "run_at",
            "auth",
            "token",
            "token_url",
            "client_id",
            "client_secret",
            "scope",
            "cert_file",
            "key_file",
            "ca_file",
        ]
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRETS}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk:
            for name in SECRETS:
                if not cleaned.get(name):
                    cleaned[name] = getattr(self.instance, name)
                    setattr(self.instance, name, cleaned[name])
        return cleaned


@admin.register(Source)
class SourceAdmin(SuperuserOnlyAdmin):
    form = SourceForm
    actions = ["import_now", "check_now"]
    list_display = ["name", "base_url", "auth", "enabled", "run_at", "modified_since"]
    readonly_fields = ["modified_since", "deleted_since"]
    fieldsets = [
        (None, {"fields": ["name", "organiser", "base_url", "enabled", "run_at"]}),
        (
            _("Authentication"),
            {
                "fields": [
                    "auth",
                    "token",
                    "token_url",
                    "client_id",
                    "client_secret",
                    "scope",
                    "cert_file",
                    "key_file",
                    "ca_file",
                ]
            },
        ),
        (_("Last good run"), {"fields": ["modified_since", "deleted_since"]}),
    ]

    @admin.action(description=_("Import now"))
    def import_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        self._run(request, queryset, dry_run=False)

    @admin.action(description=_("Check now (dry run: nothing is written)"))
    def check_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        self._run(request, queryset, dry_run=True)

    def _run(self, request: HttpRequest, queryset: QuerySet[Source], *, dry_run: bool) -> None:
        """Each source's import, as the nightly job runs it; its run records the outcome."""
        for source in queryset:
            try:
                outcome = actions.run_import(source, dry_run=dry_run)
            except actions.ImportStopped as error:
                self.message_user(
                    request,
                    _("%(source)s: nothing was imported. %(reason)s")
                    % {"source": source, "reason": error},
                    messages.ERROR,
                )
                continue
            report = outcome.report
            counts = {
                "source": source,
                "created": report.total("create"),
                "changed": report.total("change"),
                "removed": report.total("remove"),
                "skipped": report.counts["skipped"],
            }
            if dry_run:
                text = _(
                    "%(source)s: %(created)s to create, %(changed)s to change, "
                    "%(removed)s to remove, %(skipped)s skipped. Nothing was written."
                )
            else:
                text = _(
                    "%(source)s: %(created)s created, %(changed)s changed, "
                    "%(removed)s removed, %(skipped)s skipped."
                )
            self.message_user(request, text % counts, messages.SUCCESS)


@admin.register(ImportRun)
class ImportRunAdmin(SuperuserOnlyAdmin):
    list_display = ["source", "started_at", "finished_at", "status", "since"]
    list_filter = ["status", "source"]
    readonly_fields = [
        "source",
        "started_at",
        "finished_at",
        "since",
        "status",
        "counts",
        "message",
    ]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportPreset)
class ImportPresetAdmin(SuperuserOnlyAdmin):
    """Saved column maps; the administration makes and uses them on the upload page."""

    list_display = ["name", "kind", "organiser"]
    list_filter = ["kind", "organiser"]
    search_fields = ["name"]


@admin.register(FileImport)
class FileImportAdmin(SuperuserOnlyAdmin):
    """Uploaded files and their outcome, read only. The bytes are never shown: they hold
    personnummer, and are dropped once the file is imported or refused."""

    list_display = ["name", "kind", "organiser", "uploaded_by", "uploaded_at", "status"]
    list_filter = ["status", "kind", "organiser"]
    search_fields = ["name"]
    exclude = ["data"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
