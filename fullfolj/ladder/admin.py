from django.contrib import admin

from .models import LadderRecord, LadderStep, LadderTask, LadderTrigger


class TriggerInline(admin.TabularInline):
    model = LadderTrigger
    extra = 1


@admin.register(LadderStep)
class LadderStepAdmin(admin.ModelAdmin):
    """The municipality's ladder: steps, who acts, deadlines and triggers."""

    list_display = ["order", "name", "actor", "deadline_days", "organiser", "is_active"]
    list_filter = ["organiser", "is_active"]
    inlines = [TriggerInline]


class RecordInline(admin.TabularInline):
    model = LadderRecord
    extra = 0
    readonly_fields = ["kind", "date", "text", "by", "created_at"]
    can_delete = False


@admin.register(LadderTask)
class LadderTaskAdmin(admin.ModelAdmin):
    list_display = ["opened_on", "step", "pupil", "actor", "assignee", "due", "closed_at"]
    list_filter = ["step", "actor"]
    raw_id_fields = ["pupil", "assignee", "closed_by", "school"]
    inlines = [RecordInline]
