"""Running an import: one transaction, watermarks moved only by a run that went through."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser, Staff

from .models import FileImport, ImportRun, Source
from .ss12000.client import Auth, Client, SS12000Error
from .ss12000.importer import Importer, Report


def client_for(source: Source, *, token: str = "", timeout: float = 30.0) -> Client:
    """The source's client; `token` (from the command line) overrides a stored one."""
    auth = Auth(
        kind=source.auth,
        token=token or source.token,
        token_url=source.token_url,
        client_id=source.client_id,
        client_secret=source.client_secret,
        scope=source.scope,
        cert_file=source.cert_file,
        key_file=source.key_file,
        ca_file=source.ca_file,
    )
    return Client(source.base_url, auth, timeout=timeout)


@dataclass
class Outcome:
    run: ImportRun
    report: Report


class ImportStopped(SS12000Error):
    """The import stopped; nothing was written. Carries the run that records why."""

    def __init__(self, message: str, run: ImportRun) -> None:
        super().__init__(message)
        self.run = run


def run_import(
    source: Source,
    *,
    client: Client | None = None,
    since: dt.datetime | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Import what changed at the source since its last good run (or `since`), all or nothing.

    A dry run does everything, reports it and rolls it back. A failed run writes nothing but
    its ImportRun row with the reason; the next run starts from the same watermarks.
    """
    client = client or client_for(source)
    started = timezone.now()
    modified_since = since or source.modified_since
    deleted_since = since or source.deleted_since
    run = ImportRun.objects.create(
        source=source, started_at=started, since=modified_since, status=ImportRun.Status.RUNNING
    )
    importer = Importer(
        client,
        source,
        since=modified_since,
        deleted_since=deleted_since,
        today=clock.today(),
    )
    try:
        importer.fetch()
        with transaction.atomic():
            Source.objects.select_for_update().filter(pk=source.pk).first()
            report = importer.write()
            if dry_run:
                transaction.set_rollback(True)
            else:
                latest = importer.data.latest
                if latest is not None and (
                    source.modified_since is None or latest > source.modified_since
                ):
                    source.modified_since = latest
                # Deletions are asked for from the moment before this run asked.
                source.deleted_since = started
                source.save(update_fields=["modified_since", "deleted_since"])
    except SS12000Error as error:
        run.status = ImportRun.Status.FAILED
        run.message = str(error)
        run.finished_at = timezone.now()
        run.save()
        raise ImportStopped(str(error), run) from error
    except Exception as error:  # a fault of ours: recorded, not left "running"
        run.status = ImportRun.Status.FAILED
        run.message = f"Internal error: {error!r}"
        run.finished_at = timezone.now()
        run.save()
        raise
    run.status = ImportRun.Status.DRY_RUN if dry_run else ImportRun.Status.DONE
    run.counts = dict(report.counts)
    run.message = "\n".join(report.warnings[:200])
    run.finished_at = timezone.now()
    run.save()
    return Outcome(run, report)


def upload_file(
    organiser: Organiser, *, kind: str, name: str, data: bytes, by: Staff | None
) -> FileImport:
    """Keep an uploaded file for its preview, with the column map of the preset its headers
    fit. Previews left for more than a day are dropped: a file holds pupils' personnummer."""
    from .tabular import presets, reader

    FileImport.objects.filter(
        organiser=organiser,
        status=FileImport.Status.PREVIEW,
        uploaded_at__lt=timezone.now() - dt.timedelta(days=1),
    ).delete()
    columns: dict[str, str] = {}
    try:
        headers, _rows = reader.read(data, name)
    except reader.FileRejected:
        headers = []  # the preview says why
    known = presets.presets_for(kind, organiser)
    fitting = presets.detect(kind, headers, known)
    if fitting is not None:
        columns = known[fitting]
    return FileImport.objects.create(
        organiser=organiser,
        uploaded_by=by,
        uploaded_at=timezone.now(),
        kind=kind,
        name=name[:200],
        data=data,
        columns=columns,
        status=FileImport.Status.PREVIEW,
    )


def queue_file_import(upload: FileImport, *, check_only: bool = False) -> None:
    """Hand a previewed file to the background worker (`fullfolj worker`)."""
    from .tasks import import_uploaded_file

    upload.status = FileImport.Status.QUEUED
    upload.check_only = check_only
    upload.save(update_fields=["status", "check_only"])
    import_uploaded_file.enqueue(upload.pk)


def queue_file(
    organiser: Organiser,
    *,
    kind: str,
    name: str,
    data: bytes,
    columns: dict[str, str],
    check_only: bool,
    by: Staff | None,
) -> FileImport:
    """Keep a file sent without a preview (the API) and hand it straight to the worker, with
    the column map its sender chose; its progress and outcome are read as the page's are."""
    upload = FileImport.objects.create(
        organiser=organiser,
        uploaded_by=by,
        uploaded_at=timezone.now(),
        kind=kind,
        name=name[:200],
        data=data,
        columns=columns,
        status=FileImport.Status.PREVIEW,
    )
    queue_file_import(upload, check_only=check_only)
    return upload


def run_file_import(upload: FileImport) -> FileImport:
    """Import a queued file, all or nothing, noting how far it has come for the page that
    shows its progress. The file's bytes are dropped once it is done: what it held is now in
    the records, or was refused."""
    from .tabular import load, reader

    last = [0.0]

    def progress(status: str, done: int, total: int) -> None:
        now = time.monotonic()
        if status == "checking" and done and now - last[0] < 0.5:
            return
        last[0] = now
        FileImport.objects.filter(pk=upload.pk).update(
            status=FileImport.Status.WRITING if status == "writing" else FileImport.Status.CHECKING,
            rows_done=done,
            rows_total=total,
        )

    outcome: dict[str, object]
    try:
        result = load.import_file(
            upload.kind,
            bytes(upload.data),
            name=upload.name,
            dry_run=upload.check_only,
            organiser=upload.organiser,
            columns=upload.columns,
            progress=progress,
        )
    except reader.FileRejected as error:
        status, outcome = FileImport.Status.REFUSED, {"error": str(error)}
    except load.Rejected as error:
        status = FileImport.Status.REFUSED
        outcome = {"problems": [[p.line, p.column, p.reason] for p in error.problems]}
    else:
        status = FileImport.Status.CHECKED if upload.check_only else FileImport.Status.DONE
        outcome = {
            "rows": result.rows,
            "created": result.created,
            "changed": result.changed,
            "unchanged": result.unchanged,
        }
    upload.status, upload.outcome = status, outcome
    rows = outcome.get("rows")
    if isinstance(rows, int):
        upload.rows_done = upload.rows_total = rows
    upload.finished_at = timezone.now()
    if status != FileImport.Status.CHECKED:
        upload.data = b""
    upload.save()
    return upload
