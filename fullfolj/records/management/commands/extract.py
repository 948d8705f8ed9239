"""`fullfolj extract PUPIL_ID --out DIR`: a pupil's register extract as PDF and JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.lib import clock
from fullfolj.records import extract
from fullfolj.records.models import Extract
from fullfolj.schools.models import Pupil


class Command(BaseCommand):
    help = "Write a pupil's register extract (GDPR art. 15) as a PDF and a JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pupil_id", type=int)
        parser.add_argument("--out", type=Path, required=True, help="directory to write to")

    def handle(self, *args: Any, **options: Any) -> None:
        pupil = Pupil.objects.filter(pk=options["pupil_id"]).first()
        if pupil is None:
            raise CommandError(f"pupil_id: no pupil {options['pupil_id']}.")
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        sections = extract.collect(pupil)
        stem = out / f"registerutdrag-{pupil.pk}-{clock.today():%Y-%m-%d}"
        written = []
        for file_format, body in (
            ("pdf", extract.as_pdf(pupil, sections)),
            ("json", extract.as_json(pupil, sections)),
        ):
            path = stem.with_suffix(f".{file_format}")
            path.write_bytes(body)
            written.append(path)
            Extract.objects.create(
                pupil=pupil,
                made_by=None,
                made_at=clock.now(),
                channel=Extract.Channel.COMMAND,
                file_format=file_format,
            )
        for path in written:
            self.stdout.write(str(path))
