"""`fullfolj notice_bounce [FILE]`: record a bounce report from the mail system (a DSN).

The mail server can pipe bounces here (e.g. a Postfix alias `| fullfolj notice_bounce`). The
report names our Message-ID (<fullfolj-notice-N@fullfolj>); the notice is marked bounced with
the report's status code, so the mentor sees the guardian was not reached.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.notices import actions
from fullfolj.notices.models import GuardianNotice

NOTICE_ID = re.compile(r"<fullfolj-notice-(\d+)@fullfolj>")
STATUS = re.compile(r"^Status:\s*([245])\.(\d{1,3})\.(\d{1,3})", re.MULTILINE | re.IGNORECASE)


class Command(BaseCommand):
    help = "Record a bounce report (delivery status notification) for a guardian notice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", help="the bounce message; standard input if left out"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"] or "standard input"
        try:
            if options["file"]:
                with open(options["file"], encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            else:
                text = sys.stdin.read()
        except OSError as error:
            raise CommandError(f"notice_bounce: cannot read {source}: {error}") from error
        ids = sorted({int(match) for match in NOTICE_ID.findall(text)})
        if not ids:
            raise CommandError(f"notice_bounce: no Fullfölj notice Message-ID in {source}")
        status = STATUS.search(text)
        code = ".".join(status.groups()) if status else ""
        if code and not code.startswith("5"):
            self.stdout.write(
                f"notice_bounce: {source}: status {code} is not a permanent "
                "failure, nothing recorded"
            )
            return
        marked = [
            pk
            for pk in ids
            if (n := GuardianNotice.objects.filter(pk=pk).first())
            and actions.record_bounce(n, detail=code)
        ]
        unknown = sorted(set(ids) - set(marked))
        self.stdout.write(
            f"notice_bounce: {len(marked)} marked bounced{f' ({code})' if code else ''}"
            + (f", not a sent notice: {', '.join(map(str, unknown))}" if unknown else "")
        )
