"""Recording an outcome after the channel accepted the message: retried, never the send.

The database refuses the UPDATE that marks a notice sent (a locked SQLite file, a dropped
PostgreSQL connection) through `connection.execute_wrapper`, the hook Django runs around every
statement, so the rest of the code runs as it does in production.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError, connection

from fullfolj.notices import actions
from fullfolj.notices.channels import LocmemSMSBackend
from fullfolj.notices.models import GuardianNotice, Status

from .helpers import at, lesson_at, mark_invalid

# The recording code closes the failed connection to reconnect, which a test's wrapping
# transaction would not survive; hence transaction=True throughout.
pytestmark = pytest.mark.django_db(transaction=True)


def _due_sms_notices(cast, travel) -> list[GuardianNotice]:  # type: ignore[no-untyped-def]
    """Alva's and Cora's guardians, both by SMS (a gateway that can say what it delivered)."""
    for guardian, phone in ((cast.parent, "0701234567"), (cast.guardian, "0707654321")):
        guardian.email, guardian.phone = "", phone
        guardian.save()
    travel(at(11))
    lesson = lesson_at(cast, 10)
    mark_invalid(cast, lesson)
    mark_invalid(cast, lesson, cast.protected)
    travel(at(12))
    return list(GuardianNotice.objects.order_by("pk"))


def _records_sent(sql: str, params: object) -> bool:
    return (
        sql.lstrip().upper().startswith("UPDATE")
        and GuardianNotice._meta.db_table in sql
        and Status.SENT in (params or ())
    )


@contextlib.contextmanager
def _refusing_sent(times: int | None, fault: Callable[[], None] | None = None) -> Iterator[list]:
    """The database fails the UPDATE recording "sent" `times` times (None: every time)."""
    refused: list[str] = []

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if _records_sent(sql, params) and (times is None or len(refused) < times):
            refused.append(sql)
            if fault is None:
                raise OperationalError("database is locked")
            fault()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield refused


def _messages() -> Counter[str]:
    return Counter(message.key for message in LocmemSMSBackend.outbox)


@pytest.mark.parametrize("failures", [1, 3])  # the recording is tried four times
def test_a_send_whose_recording_fails_is_recorded_on_a_retry_not_sent_again(cast, travel, failures):
    notices = _due_sms_notices(cast, travel)
    with _refusing_sent(failures) as refused:
        delivery = actions.deliver_due()
    assert len(refused) == failures
    assert _messages() == {n.dedup_key: 1 for n in notices}
    assert delivery.counts == {Status.SENT: 2}
    for notice in notices:
        notice.refresh_from_db()
        assert (notice.status, notice.attempts, notice.error) == (Status.SENT, 1, "")
        assert notice.body
    travel(at(13))
    assert actions.deliver_due().counts == {}
    assert _messages() == {n.dedup_key: 1 for n in notices}


def test_when_recording_keeps_failing_the_notice_stays_claimed_and_nothing_more_is_sent(
    cast, travel, settings
):
    settings.FULLFOLJ_NOTICE_LEASE_SECONDS = 300
    notices = _due_sms_notices(cast, travel)
    with _refusing_sent(None) as refused:
        delivery = actions.deliver_due()
    # One message went out; the batch stopped there instead of sending the other.
    [sent_key] = [message.key for message in LocmemSMSBackend.outbox]
    assert delivery.counts == {"unrecorded": 1}
    assert len(refused) == 4  # tried four times
    assert delivery.sent == 0
    for notice in notices:
        notice.refresh_from_db()
        assert notice.status == Status.SENDING  # neither rescheduled nor failed: still claimed
        assert notice.error == ""

    # The database is back, but the claim holds until the lease has passed.
    travel(at(12, 4))
    assert actions.deliver_due().counts == {}
    assert len(LocmemSMSBackend.outbox) == 1
    # Then the next worker takes over; the gateway says the first was delivered.
    travel(at(12, 6))
    assert actions.deliver_due().counts == {Status.SENT: 2}
    assert _messages() == {n.dedup_key: 1 for n in notices}
    assert sent_key in _messages()
    for notice in notices:
        notice.refresh_from_db()
        assert (notice.status, notice.attempts) == (Status.SENT, 2)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="drops a PostgreSQL server connection; SQLite has none",
)
def test_a_connection_dropped_by_the_server_before_recording_is_reopened(cast, travel):
    """The server ends the session (a restart, a failover) as "sent" is being recorded."""
    notices = _due_sms_notices(cast, travel)

    def terminate_this_session() -> None:
        pid = connection.connection.info.backend_pid
        other = connection.get_new_connection(connection.get_connection_params())
        try:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()

    with _refusing_sent(1, terminate_this_session) as refused:
        delivery = actions.deliver_due()
    assert len(refused) == 1
    assert delivery.counts == {Status.SENT: 2}
    assert _messages() == {n.dedup_key: 1 for n in notices}
    assert set(GuardianNotice.objects.values_list("status", flat=True)) == {Status.SENT}
