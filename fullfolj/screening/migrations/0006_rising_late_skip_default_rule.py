"""Ship the early-warning rule `rising_late_skip` in place of `rising_invalid`.

`rising_invalid` is replaced only where it still has the shipped thresholds (0004); a
municipality's own edit of it is kept. See engine.default_rules for the measured figures.
"""

from decimal import Decimal

from django.db import migrations

RISING_LATE_SKIP = {
    "indicator": "late_skip_trend",
    "comparison": ">=",
    "threshold": "7.5",
    "window": "28d",
    "baseline": "168d_28",
    "grade_years": "",
    "also": [],
}
RISING_INVALID = {
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


def _shipped(row) -> bool:
    return (
        row.indicator == RISING_INVALID["indicator"]
        and Decimal(str(row.threshold)) == Decimal(RISING_INVALID["threshold"])
        and row.window == RISING_INVALID["window"]
        and row.baseline == RISING_INVALID["baseline"]
        and len(row.also or []) == len(RISING_INVALID["also"])
    )


def forward(apps, schema_editor):
    rule = apps.get_model("screening", "ScreeningRule")
    old = rule.objects.filter(organiser=None, code="rising_invalid").first()
    order = old.order if old is not None else 0
    if old is not None and _shipped(old):
        old.delete()
    rule.objects.update_or_create(
        organiser=None,
        code="rising_late_skip",
        defaults={**RISING_LATE_SKIP, "active": True, "order": order},
    )


def backward(apps, schema_editor):
    rule = apps.get_model("screening", "ScreeningRule")
    rule.objects.filter(organiser=None, code="rising_late_skip").delete()
    rule.objects.update_or_create(
        organiser=None,
        code="rising_invalid",
        defaults={**RISING_INVALID, "active": True, "order": 0},
    )


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_late_skip_trend")]
    operations = [migrations.RunPython(forward, backward)]
