"""Count the shipped early-warning rule `rising_late_skip` in school days: the last 20 school
days against the 120 before (was 28 and 168 calendar days), with skipped lessons in place of
skip days inside the indicator (engine.late_skip_score).

The row is changed only where it still has the windows shipped by 0006; a municipality's own
edit of it is kept. See engine.default_rules for the measured figures.
"""

from django.db import migrations, models

SHIPPED = {"window": "28d", "baseline": "168d_28"}
SCHOOL_DAYS = {"window": "20s", "baseline": "120s_20"}


def _swap(apps, old: dict[str, str], new: dict[str, str]) -> None:
    rule = apps.get_model("screening", "ScreeningRule")
    rule.objects.filter(
        organiser=None, code="rising_late_skip", indicator="late_skip_trend", **old
    ).update(**new)


def forward(apps, schema_editor):
    _swap(apps, SHIPPED, SCHOOL_DAYS)


def backward(apps, schema_editor):
    _swap(apps, SCHOOL_DAYS, SHIPPED)


class Migration(migrations.Migration):
    dependencies = [("screening", "0006_rising_late_skip_default_rule")]
    operations = [
        migrations.AlterField(
            model_name="screeningrule",
            name="baseline",
            field=models.CharField(
                blank=True,
                help_text="For trends: the period compared with, e.g. 84d_28 or 120s_20 (empty: the same length just before the window).",
                max_length=20,
                verbose_name="baseline",
            ),
        ),
        migrations.AlterField(
            model_name="screeningrule",
            name="indicator",
            field=models.CharField(
                choices=[
                    ("absence_invalid", "absence_invalid"),
                    ("absence_total", "absence_total"),
                    ("absence_trend", "absence_trend"),
                    ("absence_unknown", "absence_unknown"),
                    ("absence_valid", "absence_valid"),
                    ("f_grades", "f_grades"),
                    ("f_warnings", "f_warnings"),
                    ("failing_subjects", "failing_subjects"),
                    ("invalid_trend", "invalid_trend"),
                    ("irregular_days", "irregular_days"),
                    ("irregular_share", "irregular_share"),
                    ("irregular_trend", "irregular_trend"),
                    ("late_count", "late_count"),
                    ("late_skip_trend", "late_skip_trend"),
                    ("merit_value", "merit_value"),
                    ("passed_subjects", "passed_subjects"),
                    ("preparatory_eligible", "preparatory_eligible"),
                    ("school_changes", "school_changes"),
                    ("skip_days", "skip_days"),
                    ("skipped_lessons", "skipped_lessons"),
                    ("subject_concentration", "subject_concentration"),
                    ("support_in_place", "support_in_place"),
                    ("vocational_eligible", "vocational_eligible"),
                    ("weekday_concentration", "weekday_concentration"),
                    ("whole_day_run", "whole_day_run"),
                    ("whole_days", "whole_days"),
                ],
                max_length=40,
                verbose_name="indicator",
            ),
        ),
        migrations.AlterField(
            model_name="screeningrule",
            name="window",
            field=models.CharField(
                blank=True,
                help_text="Days up to the screening date: 28d; the 28 days before those: 28d_28; school days: 20s, 120s_20; the term: term. Empty for grade indicators.",
                max_length=20,
                verbose_name="window",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
