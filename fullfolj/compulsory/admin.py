from django.contrib import admin

from fullfolj.schools.admin_scope import OrganiserScopedAdmin

from .models import OversightRules


@admin.register(OversightRules)
class OversightRulesAdmin(OrganiserScopedAdmin):
    """A municipality's levels for long absence and the steps' deadlines. The register and the
    cases are not in the admin: they name children, and the officer's pages log who read them."""

    organiser_field = "organiser"
    list_display = ["organiser", "absence_percent", "absence_weeks", "step_days", "moved_days"]
