"""The admin of access: the access log (read-only, append-only), which student-health data asks
for a second factor, and the tables only a superuser may open (users, groups, background tasks,
login attempts, second-factor devices). The partition by organiser that every
other admin follows is `fullfolj.schools.admin_scope`.
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes import models as axes_models
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from fullfolj.schools.admin_scope import OrganiserScopedAdmin, SuperuserOnlyAdmin, is_superuser

from .models import AccessLog, SecondFactorRequirement

# An organiser's administrator who could edit users could make themselves superuser.


class SuperuserOnlyUserAdmin(SuperuserOnlyAdmin, UserAdmin):
    pass


class SuperuserOnlyGroupAdmin(SuperuserOnlyAdmin, GroupAdmin):
    pass


class SuperuserOnlyTaskResultAdmin(SuperuserOnlyAdmin, DBTaskResultAdmin):
    """Task arguments name pupils and organisers of every kind."""


# Login attempts name every organiser's staff and their addresses.
class SuperuserOnlyAccessAttemptAdmin(SuperuserOnlyAdmin, axes_admin.AccessAttemptAdmin):
    pass


# A device is a user's second factor: whoever could edit it could read health data as them.
class SuperuserOnlyTOTPDeviceAdmin(SuperuserOnlyAdmin, TOTPDeviceAdmin):
    pass


class SuperuserOnlyLoginLogAdmin(SuperuserOnlyAdmin, axes_admin.AccessLogAdmin):
    pass


class SuperuserOnlyAccessFailureLogAdmin(SuperuserOnlyAdmin, axes_admin.AccessFailureLogAdmin):
    pass


for model, model_admin in (
    (get_user_model(), SuperuserOnlyUserAdmin),
    (Group, SuperuserOnlyGroupAdmin),
    (DBTaskResult, SuperuserOnlyTaskResultAdmin),
    (axes_models.AccessAttempt, SuperuserOnlyAccessAttemptAdmin),
    (axes_models.AccessLog, SuperuserOnlyLoginLogAdmin),
    (axes_models.AccessFailureLog, SuperuserOnlyAccessFailureLogAdmin),
    (TOTPDevice, SuperuserOnlyTOTPDeviceAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


@admin.register(AccessLog)
class AccessLogAdmin(OrganiserScopedAdmin):
    """The access log, read-only: evidence is never edited; only a superuser may erase it."""

    organiser_field = "pupil__organiser"
    pupil_field = "pupil"  # the log names pupils: reading it is a read like any other
    list_display = ["at", "staff", "pupil", "role", "path"]
    list_filter = ["role"]
    list_select_related = ["staff", "pupil"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)

    def delete_model(self, request: HttpRequest, obj: AccessLog) -> None:
        if not is_superuser(request):
            raise PermissionDenied
        obj.delete(erase=True)


@admin.register(SecondFactorRequirement)
class SecondFactorRequirementAdmin(OrganiserScopedAdmin):
    """Which kinds of student-health data the organiser's staff read only after a second factor;
    an organiser without a row has the model's defaults."""

    organiser_field = "organiser"
    list_display = ["organiser", "health_entries", "investigations", "mapping_health"]
