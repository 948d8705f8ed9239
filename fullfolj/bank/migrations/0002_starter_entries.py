"""The starter set of the resource bank (fullfolj/bank/starter.py), loaded once."""

from django.db import migrations


def load(apps, schema_editor):
    from fullfolj.bank.starter import ENTRIES, TAGS

    Tag = apps.get_model("bank", "Tag")
    Entry = apps.get_model("bank", "Entry")
    tags = {
        slug: Tag.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in TAGS.items()
    }
    for slug, title, tag_slugs, summary, when, how, follow in ENTRIES:
        entry, created = Entry.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "summary": summary,
                "when_to_use": when,
                "how_to": how,
                "follow_up": follow,
            },
        )
        if created:
            entry.tags.set([tags[t] for t in tag_slugs])


class Migration(migrations.Migration):
    dependencies = [("bank", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
