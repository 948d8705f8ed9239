"""Running an import: one transaction, watermarks moved only by a run that went through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fullfolj.lib import clock

from .models import ImportRun, Source
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
