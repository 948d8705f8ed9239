from django.contrib import admin

from . import models


@admin.register(models.Organiser)
class OrganiserAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "municipality_code"]


@admin.register(models.School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "unit_code", "organiser", "grade_from", "grade_to"]
    list_filter = ["organiser"]


@admin.register(models.Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["__str__", "school_year", "start", "end"]


@admin.register(models.DayOff)
class DayOffAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "kind", "organiser"]
    list_filter = ["organiser", "kind"]


@admin.register(models.Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(models.Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["username", "first_name", "last_name", "email"]
    search_fields = ["username", "last_name"]
