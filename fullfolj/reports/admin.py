from django.contrib import admin

from fullfolj.schools.admin_scope import SuperuserOnlyAdmin

from .models import Region, RegionMember


@admin.register(Region)
class RegionAdmin(SuperuserOnlyAdmin):
    """A region spans organisers: only a superuser sets it up (its members consent apart)."""

    filter_horizontal = ["analysts"]


@admin.register(RegionMember)
class RegionMemberAdmin(SuperuserOnlyAdmin):
    list_display = ["region", "organiser", "shares"]
