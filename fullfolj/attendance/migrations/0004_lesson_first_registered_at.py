from django.db import migrations, models
from django.db.models import F


def first_save_is_the_last_known(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Before this field only the last save was kept: the best known first one.
    Lesson = apps.get_model("attendance", "Lesson")
    Lesson.objects.filter(registered_at__isnull=False).update(
        first_registered_at=F("registered_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0003_pupil_subject_week"),
    ]

    operations = [
        migrations.AddField(
            model_name="lesson",
            name="first_registered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(first_save_is_the_last_known, migrations.RunPython.noop),
    ]
