"""The risk model in the admin: read its evaluation, then switch it on (or off).

Opening a model's page shows its held-out evaluation beside the rule screen and records that it
was shown; switching on is refused until then (`actions.switch_on`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fullfolj.schools.admin_scope import OrganiserScopedAdmin, SuperuserOnlyAdmin

from . import actions
from .models import ProtectedColumn, RiskModel


@admin.register(RiskModel)
class RiskModelAdmin(OrganiserScopedAdmin):
    organiser_field = "organiser"
    list_display = (
        "trained_at",
        "organiser",
        "learner",
        "data_start",
        "data_end",
        "rows",
        "evaluated_at",
        "is_active",
    )
    list_filter = ("organiser", "is_active")
    actions = ["switch_on", "switch_off"]
    fields = (
        "organiser",
        "trained_at",
        "data_start",
        "data_end",
        "outcome",
        "horizon_weeks",
        "learner",
        "rows",
        "pupils",
        "positives",
        "features",
        "evaluated_at",
        "evaluation_report",
        "evaluation_shown_at",
        "evaluation_shown_to",
        "is_active",
        "activated_at",
        "activated_by",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("evaluation on held-out history"))
    def evaluation_report(self, obj: RiskModel) -> SafeString:
        return render_to_string("riskmodel/admin_evaluation.html", evaluation_context(obj))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        model = RiskModel.objects.filter(pk=object_id).first()
        if model is not None and response.status_code == 200 and request.method == "GET":
            actions.show_evaluation(model, by=request.user)
        return response

    @admin.action(
        description=gettext_lazy("Switch on (after reading the evaluation)"), permissions=["change"]
    )
    def switch_on(self, request: HttpRequest, queryset: QuerySet[RiskModel]) -> None:
        for model in queryset:
            try:
                actions.switch_on(model, by=request.user)
            except actions.RiskModelRefused as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                self.message_user(request, _("%(model)s is switched on.") % {"model": model})

    @admin.action(description=gettext_lazy("Switch off"), permissions=["change"])
    def switch_off(self, request: HttpRequest, queryset: QuerySet[RiskModel]) -> None:
        for model in queryset:
            actions.switch_off(model, by=request.user)
            self.message_user(request, _("%(model)s is switched off.") % {"model": model})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # models come from `fullfolj model train`


METRICS = (
    ("roc_auc", gettext_lazy("ROC AUC (ranking)")),
    ("flagged", gettext_lazy("pupils flagged (the rule screen's list size)")),
    ("precision_at_k", gettext_lazy("precision at that list size")),
    ("recall_at_k", gettext_lazy("recall at that list size")),
    ("brier", gettext_lazy("Brier score (lower is better)")),
)
GROUPS = (("gender", gettext_lazy("gender")), ("school", gettext_lazy("school")))


def evaluation_context(model: RiskModel) -> dict[str, Any]:
    """The stored evaluation arranged for the template (model and rule screen side by side)."""
    result = model.evaluation
    if not result:
        return {"model": model, "result": None}
    metrics = [
        (label, result["model"].get(name), result["rules"].get(name)) for name, label in METRICS
    ]
    groups = []
    for column, label in GROUPS:
        rules = {row["group"]: row for row in result["fairness"][column]["rules"]}
        rows = [(row, rules.get(row["group"], {})) for row in result["fairness"][column]["model"]]
        groups.append(
            {
                "label": label,
                "rows": rows,
                "model_gaps": result["disparities"][column]["model"],
                "rule_gaps": result["disparities"][column]["rules"],
            }
        )
    return {"model": model, "result": result, "metrics": metrics, "groups": groups}


@admin.register(ProtectedColumn)
class ProtectedColumnAdmin(SuperuserOnlyAdmin):
    """Column names never used as inputs by `model evaluate --csv` unless asked, always audited."""

    list_display = ("name", "note")
    search_fields = ("name",)
