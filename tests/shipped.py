"""The rows the migrations ship (screening rules, ladder steps, absence reasons, …), kept aside
so a test can put them back: a transactional test's flush removes them with everything else."""

from __future__ import annotations

import io
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management import call_command

# Re-created by `flush` itself (post_migrate), with new ids: never restored from a snapshot.
RECREATED = {"contenttypes.contenttype", "auth.permission", "sessions.session"}


def snapshot(tmp: Path) -> Path:
    """The rows the database holds now (the ones the migrations ship), as a fixture file."""
    models = [
        model
        for model in apps.get_models()
        if model._meta.label_lower not in RECREATED and model.objects.exists()
    ]
    fixture = tmp / "shipped.json"
    fixture.write_text(
        serializers.serialize("json", [row for model in models for row in model.objects.all()]),
        encoding="utf-8",
    )
    return fixture


def restore(fixture: Path) -> None:
    """Empty the database and put back the snapshot's rows.

    A flush alone also removes the rows the migrations ship, which later tests rely on.
    `loaddata` puts them back with their ids and moves PostgreSQL's sequences past them.
    """
    call_command("flush", interactive=False, verbosity=0)
    call_command("loaddata", str(fixture), verbosity=0, stdout=io.StringIO())
