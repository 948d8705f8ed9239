"""How a notice leaves the building: email through Django's email backend, SMS through a gateway.

Both channels take an OutgoingMessage carrying a dedup key that stays the same when a message is
sent again after a crash: email puts it in the Message-ID header, an SMS gateway gets it as its
client reference (most gateways drop a second message with the same reference). A channel raises
Undeliverable for a permanent problem (no address, a malformed or refused one): the notice is
marked failed and shown to the mentor. Any other exception is transient: the notice is tried
again. Undeliverable reasons are English msgids (gettext_noop), translated when shown.

The SMS gateway is a class named by settings.FULLFOLJ_SMS_BACKEND with `send(message)` and,
optionally, `delivered(key) -> bool | None`; ConsoleSMSBackend (the demo) logs the message.
"""

from __future__ import annotations

import logging
import re
import smtplib
import sys
import threading
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from .models import Channel

logger = logging.getLogger("fullfolj.notices")
PHONE = re.compile(r"\+?[0-9][0-9 -]{6,18}[0-9]")
NO_CONTACT = gettext_noop("the guardian has no email address or phone number")
MALFORMED_EMAIL = gettext_noop("malformed email address")
REFUSED_EMAIL = gettext_noop("email address refused by the mail server")
MALFORMED_PHONE = gettext_noop("malformed phone number")


class Undeliverable(Exception):
    """A permanent failure; the reason is shown to the mentor, so it never holds the address."""


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    subject: str
    body: str
    key: str


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...

    def delivered(self, key: str) -> bool | None: ...


class EmailSender:
    """Email through Django's configured email backend (SMTP in production)."""

    def send(self, message: OutgoingMessage) -> None:
        try:
            validate_email(message.to)
        except ValidationError as error:
            raise Undeliverable(MALFORMED_EMAIL) from error
        email = EmailMessage(
            message.subject,
            message.body,
            to=[message.to],
            headers={"Message-ID": f"<{message.key}@fullfolj>"},
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            raise Undeliverable(REFUSED_EMAIL) from error

    def delivered(self, key: str) -> bool | None:
        """Ask the email backend, if it can tell (a mail API); SMTP cannot, so None.

        Then a resend after a crash carries the same Message-ID for the receiver to drop.
        """
        probe = getattr(get_connection(), "delivered", None)
        return probe(key) if probe else None


def normalise_phone(number: str) -> str:
    if not PHONE.fullmatch(number.strip()):
        raise Undeliverable(MALFORMED_PHONE)
    return re.sub(r"[ -]", "", number.strip())


class ConsoleSMSBackend:
    """The demo's SMS gateway: writes each message to standard output and the log."""

    def send(self, message: OutgoingMessage) -> None:
        to = normalise_phone(message.to)
        text = f"SMS to {to} [{message.key}]:\n{message.body}\n"
        logger.info(text)
        sys.stdout.write(text)

    def delivered(self, key: str) -> bool | None:
        return None


class LocmemSMSBackend:
    """For tests: keeps messages in `LocmemSMSBackend.outbox` and answers `delivered` from it."""

    outbox: list[OutgoingMessage] = []
    _lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> None:
        normalise_phone(message.to)
        with self._lock:
            self.outbox.append(message)

    def delivered(self, key: str) -> bool | None:
        return any(m.key == key for m in self.outbox)


class SMSSender:
    def __init__(self) -> None:
        self.backend = import_string(settings.FULLFOLJ_SMS_BACKEND)()

    def send(self, message: OutgoingMessage) -> None:
        self.backend.send(message)

    def delivered(self, key: str) -> bool | None:
        probe = getattr(self.backend, "delivered", None)
        return probe(key) if probe else None


class NoContact:
    """A guardian without contact details: never silently skipped, shown to the mentor."""

    def send(self, message: OutgoingMessage) -> None:
        raise Undeliverable(NO_CONTACT)

    def delivered(self, key: str) -> bool | None:
        return None


def sender_for(channel: str) -> Sender:
    if channel == Channel.EMAIL:
        return EmailSender()
    if channel == Channel.SMS:
        return SMSSender()
    return NoContact()
