"""Ship the early-warning rule `rising_invalid` in place of the first defaults' absence rules.

The level rule `invalid_4w` is left to the absence ladder (it acts on levels every day); see
engine.default_rules for how the new thresholds were chosen.
"""

from django.db import migrations

RISING = {
    "indicator": "invalid_trend",
    "comparison": ">=",
    "threshold": "3",
    "window": "28d",
    "baseline": "84d_28",
    "grade_years": "",
    "also": [
        {"indicator": "late_count", "comparison": ">=", "threshold": "2", "window": "28d"},
        {"indicator": "skip_days", "comparison": ">=", "threshold": "2", "window": "28d"},
    ],
}
OLD = {
    "rising_absence": {
        "indicator": "absence_total",
        "comparison": ">=",
        "threshold": "10",
        "window": "28d",
        "baseline": "",
        "grade_years": "",
        "also": [
            {
                "indicator": "invalid_trend",
                "comparison": ">=",
                "threshold": "1",
                "window": "28d",
                "baseline": "84d_28",
            }
        ],
    },
    "invalid_4w": {
        "indicator": "absence_invalid",
        "comparison": ">=",
        "threshold": "15",
        "window": "28d",
        "baseline": "",
        "grade_years": "",
        "also": [],
    },
}


def forward(apps, schema_editor):
    rule = apps.get_model("screening", "ScreeningRule")
    rule.objects.filter(organiser=None, code__in=list(OLD)).delete()
    rule.objects.update_or_create(
        organiser=None, code="rising_invalid", defaults={**RISING, "active": True, "order": 0}
    )


def backward(apps, schema_editor):
    rule = apps.get_model("screening", "ScreeningRule")
    rule.objects.filter(organiser=None, code="rising_invalid").delete()
    for order, (code, fields) in enumerate(OLD.items()):
        rule.objects.update_or_create(
            organiser=None, code=code, defaults={**fields, "active": True, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_indicators_and_early_warning")]
    operations = [migrations.RunPython(forward, backward)]
