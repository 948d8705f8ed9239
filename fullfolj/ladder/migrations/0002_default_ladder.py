"""Ship the typical absence ladder (docs/ladder.md); municipalities edit it in the admin."""

from django.db import migrations


def install(apps, schema_editor):
    from fullfolj.ladder.defaults import install as install_defaults

    install_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("ladder", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
