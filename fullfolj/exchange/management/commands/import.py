"""`fullfolj import ss12000 --url URL --token TOKEN [--since TIME] [--dry-run]`,
`fullfolj import csv KIND FILE [--dry-run]` (docs/exchange.md), and the file kinds apps above
offer through hooks.py (`fullfolj import register FILE`, docs/compulsory.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone

from fullfolj.exchange import actions, hooks
from fullfolj.exchange.models import ImportPreset, Source
from fullfolj.exchange.tabular import load, presets, reader
from fullfolj.schools.models import Organiser

SHOWN_LINES = 200  # a dry run of a first import can be long; the counts say the rest


def _moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--since: “{value}” is not a time such as 2026-03-17T22:00:00+01:00."
        ) from None
    return moment if moment.tzinfo else timezone.make_aware(moment)


class _Bar:
    """A progress bar on standard error while the rows are checked, then a line for writing;
    drawn only on a terminal."""

    WIDTH = 30

    def __init__(self, out: OutputWrapper, *, shown: bool) -> None:
        self.out = out
        self.drawn = False
        self.shown = shown and out.isatty()

    def __call__(self, status: str, done: int, total: int) -> None:
        if not self.shown:
            return
        if status == "writing":
            line = f"Writing {done} rows …"
        else:
            share = done / total if total else 0.0
            filled = int(self.WIDTH * min(share, 1.0))
            line = f"Checking [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} {done}/{total}"
        self.out.write("\r" + line.ljust(60), ending="")
        self.out.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.out.write("")
            self.drawn = False


class Command(BaseCommand):
    help = "Import from a school system's SS 12000 API, or a CSV or Excel file."

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True)
        ss = kinds.add_parser("ss12000", help="an SS 12000 (v2) API")
        ss.add_argument("--url", help="the API's base URL (a source is kept per URL)")
        ss.add_argument("--source", help="the name of a source configured in the admin")
        ss.add_argument("--token", default="", help="a bearer token (not stored)")
        ss.add_argument("--organiser", type=int, help="the organiser's id, for a new source")
        ss.add_argument("--since", type=_moment, help="read changes after this time")
        ss.add_argument("--dry-run", action="store_true", help="show what would change")
        sheet = kinds.add_parser("csv", help="a CSV file or an Excel workbook (.xlsx)")
        sheet.add_argument("what", choices=sorted(load.KINDS), help="what the file holds")
        sheet.add_argument("file", help="the file (semicolon-separated text or .xlsx)")
        sheet.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
        sheet.add_argument(
            "--preset", default="", help="a column map by name (built-in or saved in the admin)"
        )
        sheet.add_argument(
            "--no-progress", action="store_true", help="no progress bar on standard error"
        )
        for kind in hooks.file_kinds().values():
            other = kinds.add_parser(kind.name, help=kind.help)
            other.add_argument("file", help="the file (semicolon-separated text or .xlsx)")
            other.add_argument("--organiser", type=int, help="the importing organiser's id")
            other.add_argument(
                "--dry-run", action="store_true", help="check the file, write nothing"
            )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kind"] == "csv":
            self._file(options)
            return
        provided = hooks.file_kinds().get(options["kind"])
        if provided is not None:
            self._file(options, provided)
            return
        source = self._source(options)
        try:
            outcome = actions.run_import(
                source,
                client=actions.client_for(source, token=options["token"]),
                since=options["since"],
                dry_run=options["dry_run"],
            )
        except actions.ImportStopped as error:
            raise CommandError(f"Nothing was imported. {error}") from error
        report = outcome.report
        if options["dry_run"]:
            for line in report.lines[:SHOWN_LINES]:
                self.stdout.write(f"  would {line}")
            if len(report.lines) > SHOWN_LINES:
                self.stdout.write(f"  … and {len(report.lines) - SHOWN_LINES} more")
        for warning in report.warnings[:SHOWN_LINES]:
            self.stderr.write(f"  {warning}")
        verb = "Would create" if options["dry_run"] else "Created"
        self.stdout.write(
            f"{verb} {report.total('create')}, "
            f"{'change' if options['dry_run'] else 'changed'} {report.total('change')}, "
            f"{'remove' if options['dry_run'] else 'removed'} {report.total('remove')}; "
            f"skipped {report.counts['skipped']}."
        )

    def _file(self, options: dict[str, Any], provided: hooks.FileKind | None = None) -> None:
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}.") from None
        columns: dict[str, str] = {}
        if options.get("preset"):  # csv only
            columns = self._preset(options["what"], options["preset"])
        bar = _Bar(self.stderr, shown=not options.get("no_progress", False))
        try:
            if provided is None:
                result = load.import_file(
                    options["what"],
                    raw,
                    name=path.name,
                    dry_run=options["dry_run"],
                    columns=columns,
                    progress=bar,
                )
            else:
                organiser = None
                if options["organiser"] is not None:
                    organiser = Organiser.objects.filter(pk=options["organiser"]).first()
                    if organiser is None:
                        raise CommandError(
                            f"--organiser: no organiser has id {options['organiser']}."
                        )
                result = provided.run(
                    raw, name=path.name, dry_run=options["dry_run"], organiser=organiser
                )
        except reader.FileRejected as error:
            raise CommandError(f"{path}: {error} Nothing was imported.") from None
        except load.Rejected as error:
            bar.close()
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{path}: {len(error.problems)} bad rows; nothing was imported."
            ) from None
        finally:
            bar.close()
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{verb} {result.rows} rows: {result.created} new, {result.changed} changed, "
            f"{result.unchanged} unchanged."
        )

    def _preset(self, kind: str, name: str) -> dict[str, str]:
        found = dict(presets.BUILT_IN.get(kind, {}))
        for preset in ImportPreset.objects.filter(kind=kind, name=name):
            found[preset.name] = preset.columns
        if name not in found:
            raise CommandError(
                f"--preset: no column map for {kind} is named “{name}” "
                f"(built in: {', '.join(presets.BUILT_IN.get(kind, {})) or 'none'})."
            )
        return {str(k): str(v) for k, v in found[name].items()}

    def _source(self, options: dict[str, Any]) -> Source:
        if options["source"]:
            found = Source.objects.filter(name=options["source"]).first()
            if found is None:
                raise CommandError(f"--source: no source is named “{options['source']}”.")
            return found
        url = (options["url"] or "").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise CommandError("Give --url (http:// or https://) or --source.")
        source = Source.objects.filter(base_url=url).first()
        if source is None:
            organiser = None
            if options["organiser"] is not None:
                organiser = Organiser.objects.filter(pk=options["organiser"]).first()
                if organiser is None:
                    raise CommandError(f"--organiser: no organiser has id {options['organiser']}.")
            source = Source.objects.create(
                name=url[:100], base_url=url, auth=Source.Auth.BEARER, organiser=organiser
            )
        return source
