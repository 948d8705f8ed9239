"""The shipped default rules (organiser empty: used by every organiser without its own)."""

from django.db import migrations

DEFAULTS = [
    # code, indicator, comparison, threshold, window, baseline, grade years, further conditions
    (
        "rising_absence",
        "absence_total",
        ">=",
        "10",
        "28d",
        "",
        "",
        [
            {
                "indicator": "invalid_trend",
                "comparison": ">=",
                "threshold": "1",
                "window": "28d",
                "baseline": "84d_28",
            }
        ],
    ),
    ("invalid_4w", "absence_invalid", ">=", "15", "28d", "", "", []),
    ("failing", "failing_subjects", ">=", "3", "", "", "7,8,9", []),
    ("not_eligible", "vocational_eligible", "<", "1", "", "", "9", []),
]


def create(apps, schema_editor):
    rule = apps.get_model("screening", "ScreeningRule")
    for order, (code, indicator, comparison, threshold, window, baseline, years, also) in enumerate(
        DEFAULTS
    ):
        rule.objects.get_or_create(
            organiser=None,
            code=code,
            defaults={
                "indicator": indicator,
                "comparison": comparison,
                "threshold": threshold,
                "window": window,
                "baseline": baseline,
                "grade_years": years,
                "also": also,
                "active": True,
                "order": order,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("screening", "ScreeningRule").objects.filter(
        organiser=None, code__in=[d[0] for d in DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
