"""The outbox's claims and leases, in one process (the multi-process proof is test_workers.py)."""

from __future__ import annotations

import datetime as dt

from django.core import mail

from fullfolj.notices import actions
from fullfolj.notices.channels import LocmemSMSBackend, OutgoingMessage
from fullfolj.notices.models import GuardianNotice, Status

from .helpers import at, lesson_at, mark_invalid


def _due_notices(cast, travel):  # type: ignore[no-untyped-def]
    travel(at(11))
    lesson = lesson_at(cast, 10)
    mark_invalid(cast, lesson)
    mark_invalid(cast, lesson, cast.protected)
    travel(at(12))


def test_two_claims_never_share_a_notice(cast, travel):
    _due_notices(cast, travel)
    _first, first_ids = actions.claim_due(limit=1)
    _second, second_ids = actions.claim_due(limit=1)
    assert len(first_ids) == len(second_ids) == 1
    assert first_ids != second_ids
    assert actions.claim_due()[1] == []


def test_a_dead_worker_s_claim_is_taken_over_only_after_the_lease(cast, travel, settings):
    settings.FULLFOLJ_NOTICE_LEASE_SECONDS = 300
    _due_notices(cast, travel)
    dead, ids = actions.claim_due()
    assert len(ids) == 2
    assert actions.next_wakeup() == at(12, 5) + dt.timedelta(seconds=1)
    travel(at(12, 4))
    assert actions.claim_due()[1] == []
    travel(at(12, 6))
    assert actions.deliver_due().sent == 2
    assert len(mail.outbox) == 2
    assert {n.attempts for n in GuardianNotice.objects.all()} == {2}
    # The "dead" worker was only stalled: it wakes up, but its claim is gone.
    assert actions.send_claimed(dead, ids).counts == {}
    assert len(mail.outbox) == 2


def test_a_claim_lost_between_claim_and_send_sends_nothing(cast, travel):
    _due_notices(cast, travel)
    token, ids = actions.claim_due()
    GuardianNotice.objects.update(claim_token=None)  # as if another worker had taken them over
    delivery = actions.send_claimed(token, ids)
    assert delivery.sent == 0
    assert mail.outbox == []


def test_a_taken_over_notice_the_gateway_already_delivered_is_not_sent_again(
    cast, travel, settings
):
    cast.parent.email, cast.parent.phone = "", "0701234567"
    cast.parent.save()
    _due_notices(cast, travel)
    actions.claim_due()
    notice = GuardianNotice.objects.get(pupil=cast.pupil)
    # The dead worker got the SMS out but died before recording it.
    LocmemSMSBackend.outbox.append(OutgoingMessage("0701234567", "", "", notice.dedup_key))
    travel(at(12, 6))
    assert actions.deliver_due().sent == 2
    assert [m.key for m in LocmemSMSBackend.outbox] == [notice.dedup_key]
    notice.refresh_from_db()
    assert notice.status == Status.SENT
