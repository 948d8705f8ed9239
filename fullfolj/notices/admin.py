from typing import Any

from django.contrib import admin
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.admin_scope import OrganiserScopedAdmin

from . import actions
from .models import GuardianNotice

HIDDEN = "—"
# Who was told, and what: for a protected-identity pupil these lead to the family.
GUARDIAN_DETAILS = ["guardian", "body", "error"]


@admin.register(GuardianNotice)
class GuardianNoticeAdmin(OrganiserScopedAdmin):
    """The outbox, read-only but for recording a bounce reported by the mail system.

    For a pupil with protected identity, the guardian and the message are shown only with the
    permission to see protected details.
    """

    organiser_field = "pupil__organiser"
    pupil_field = "pupil"
    list_display = ["date", "pupil", "guardian", "channel", "status", "send_after", "error"]
    list_select_related = ["pupil", "guardian"]
    search_fields = ["=id"]
    list_filter = ["status", "channel", "date"]
    raw_id_fields = ["pupil", "guardian"]
    actions = ["mark_bounced"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        shown = list(super().get_list_display(request))
        if self.sees_protected_identity(request):
            return shown
        return [hidden_if_protected(name) if name in GUARDIAN_DETAILS else name for name in shown]

    def get_exclude(self, request: HttpRequest, obj: GuardianNotice | None = None) -> list[str]:
        excluded = list(super().get_exclude(request, obj) or [])
        if (
            obj is not None
            and obj.pupil.protected_identity
            and not (self.sees_protected_identity(request))
        ):
            excluded += GUARDIAN_DETAILS
        return excluded

    @admin.action(description=_("Mark as bounced (address did not work)"))
    def mark_bounced(self, request: HttpRequest, queryset: QuerySet[GuardianNotice]) -> None:
        for notice in queryset:
            actions.record_bounce(notice)


def hidden_if_protected(name: str) -> Any:
    """A change-list column that shows `name` unless the pupil has protected identity."""

    field = GuardianNotice._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{name} is not a column of GuardianNotice")

    @admin.display(description=field.verbose_name)
    def column(notice: GuardianNotice) -> object:
        return HIDDEN if notice.pupil.protected_identity else getattr(notice, name)

    column.__name__ = name
    return column
