"""The default ladder's triggers, recalibrated (defaults.FIRST_TRIGGERS says why); steps a
municipality has edited are left as they are."""

from django.db import migrations


def recalibrate(apps, schema_editor):
    from fullfolj.ladder.defaults import recalibrate as recalibrate_defaults

    recalibrate_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("ladder", "0003_validation_and_daily_uniqueness")]
    operations = [migrations.RunPython(recalibrate, migrations.RunPython.noop)]
