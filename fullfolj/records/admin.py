from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext as _

from fullfolj.schools.admin_scope import OrganiserScopedAdmin

from .models import LEGAL_MINIMUM_MONTHS, Kind, RetentionPolicy


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(OrganiserScopedAdmin):
    """An organiser's retention periods, from its records plan. A period shorter than the law
    allows is saved (the records plan decides) with a warning."""

    organiser_field = "organiser"
    list_display = ["organiser", *[kind.value for kind in Kind]]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        labels = dict(Kind.choices)
        for kind in obj.too_short():
            messages.warning(
                request,
                _("%(kind)s: the law requires at least %(months)s months.")
                % {"kind": labels[kind], "months": LEGAL_MINIMUM_MONTHS[kind]},
            )
