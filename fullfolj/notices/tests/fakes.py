"""Fake channels for the tests, configured by environment so worker subprocesses use them too.

FileEmailBackend writes every message it accepts to its own file in $NOTICE_TEST_OUTBOX, named
by Message-ID and a random suffix, so a second copy of a message shows up as a second file.
Optional hooks, read from the environment:

  NOTICE_TEST_DELAY     seconds each send takes (a slow mail server)
  NOTICE_TEST_HANG_AT   on this send of the process (1-based), hang before accepting ("before")
                        or after accepting ("after", per NOTICE_TEST_HANG_WHEN), having written
                        $NOTICE_TEST_OUTBOX/hanging.<pid> so the test knows when to SIGKILL
  NOTICE_TEST_BARRIER   wait at the first send until this many processes have reached it, so
                        concurrent workers really do send at the same time
  NOTICE_TEST_DROP_AT   after accepting these sends of the process ("2,5"), have PostgreSQL end
                        the process's database session, as a server restart or failover does
"""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from fullfolj.notices.channels import OutgoingMessage, normalise_phone

_sent_by_this_process = 0


def _outbox() -> Path:
    return Path(os.environ["NOTICE_TEST_OUTBOX"])


def _hooks(key: str) -> None:
    """Runs before a message is accepted; returns after the optional hang and delay."""
    global _sent_by_this_process
    _sent_by_this_process += 1
    barrier = int(os.environ.get("NOTICE_TEST_BARRIER", "0"))
    if barrier and _sent_by_this_process == 1:
        (_outbox() / f"barrier.{os.getpid()}").touch()
        deadline = time.monotonic() + 20
        while len(list(_outbox().glob("barrier.*"))) < barrier and time.monotonic() < deadline:
            time.sleep(0.02)
    time.sleep(float(os.environ.get("NOTICE_TEST_DELAY", "0")))


def _hang_if(when: str) -> None:
    if (
        int(os.environ.get("NOTICE_TEST_HANG_AT", "0")) == _sent_by_this_process
        and os.environ.get("NOTICE_TEST_HANG_WHEN", "before") == when
    ):
        (_outbox() / f"hanging.{os.getpid()}").touch()
        time.sleep(3600)  # until the test kills this process


def _drop_connection_if() -> None:
    drops = {int(n) for n in os.environ.get("NOTICE_TEST_DROP_AT", "").split(",") if n}
    if _sent_by_this_process in drops:
        from django.db import connection

        pid = connection.connection.info.backend_pid
        with connection.get_new_connection(connection.get_connection_params()) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _write(key: str, to: str, text: str) -> None:
    name = f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.msg"
    (_outbox() / name).write_text(f"To: {to}\n\n{text}", encoding="utf-8")


class FileEmailBackend(BaseEmailBackend):
    """An email backend that keeps one file per accepted message (see the module docstring)."""

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            key = message.extra_headers["Message-ID"].strip("<>").split("@")[0]
            _hooks(key)
            _hang_if("before")
            _write(key, ",".join(message.to), message.body)
            _hang_if("after")
            _drop_connection_if()
        return len(email_messages)


class RefusingEmailBackend(BaseEmailBackend):
    """A mail server that refuses every recipient (a permanent failure)."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused(
            {m.to[0]: (550, b"no such user") for m in email_messages}
        )


class BrokenEmailBackend(BaseEmailBackend):
    """A mail server that cannot be reached (a transient failure)."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("mail server down")


class FileSMSGateway:
    """An SMS gateway that keeps one file per message and can tell what it delivered."""

    def send(self, message: OutgoingMessage) -> None:
        to = normalise_phone(message.to)
        _hooks(message.key)
        _hang_if("before")
        _write(message.key, to, message.body)
        _hang_if("after")
        _drop_connection_if()

    def delivered(self, key: str) -> bool | None:
        return any(_outbox().glob(f"{key}.*.msg"))
