from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import actions
from .models import GuardianNotice


@admin.register(GuardianNotice)
class GuardianNoticeAdmin(admin.ModelAdmin):
    """The outbox, read-only but for recording a bounce reported by the mail system."""

    list_display = ["date", "pupil", "guardian", "channel", "status", "send_after", "error"]
    search_fields = ["=id"]
    list_filter = ["status", "channel", "date"]
    raw_id_fields = ["pupil", "guardian"]
    actions = ["mark_bounced"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Mark as bounced (address did not work)"))
    def mark_bounced(self, request: HttpRequest, queryset: QuerySet[GuardianNotice]) -> None:
        for notice in queryset:
            actions.record_bounce(notice)
