"""Fixtures for the notice tests: the clock at noon on the pinned day, fake channels."""

from __future__ import annotations

import pytest
import time_machine

from fullfolj.notices.channels import LocmemSMSBackend

from .helpers import at


@pytest.fixture
def travel():  # type: ignore[no-untyped-def]
    """Move the clock: `travel(at(15))`; starts at 12:00 on the pinned day."""
    machine = time_machine.travel(at(12), tick=False)
    traveller = machine.start()
    yield traveller.move_to
    machine.stop()


@pytest.fixture(autouse=True)
def _settings(settings, travel):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FULLFOLJ_SMS_BACKEND = "fullfolj.notices.channels.LocmemSMSBackend"
    settings.FULLFOLJ_NOTICE_DELAY_MINUTES = 30
    settings.FULLFOLJ_NOTICE_SEND_AT = ""
    settings.FULLFOLJ_NOTICE_GRACE_MINUTES = 5
    settings.FULLFOLJ_NOTICE_PROTECTED_IDENTITY = "send"
    LocmemSMSBackend.outbox = []
