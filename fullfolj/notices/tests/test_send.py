"""Sending: the Swedish message, channels, failures the mentor must see, protected identity."""

from __future__ import annotations

import pytest
from django.core import mail

from fullfolj.notices import actions, tasks
from fullfolj.notices.channels import LocmemSMSBackend
from fullfolj.notices.models import Channel, GuardianNotice, Status
from fullfolj.schools import models as s

from .helpers import at, lesson_at, mark_invalid


def the_notice(pupil=None, guardian=None) -> GuardianNotice:  # type: ignore[no-untyped-def]
    filters = {"pupil": pupil} if pupil else {}
    if guardian:
        filters["guardian"] = guardian
    return GuardianNotice.objects.get(**filters)


def test_the_day_s_message_is_one_swedish_email_naming_every_invalid_lesson(cast, travel):
    english = s.Subject.objects.create(code="EN", name="Engelska")
    travel(at(14))
    mark_invalid(cast, lesson_at(cast, 9))
    mark_invalid(cast, lesson_at(cast, 13, minutes=40, subject=english), minutes=20)
    travel(at(14, 10))
    delivery = actions.deliver_due()
    assert delivery.sent == 1
    [email] = mail.outbox
    assert email.to == ["greta@example.se"]
    assert email.subject == "Ogiltig frånvaro 18 mars: Alva"
    assert "Alva var frånvarande utan giltigt skäl onsdag 18 mars" in email.body
    assert "- Matematik 09:00–10:00\n" in email.body
    assert "- Engelska 13:00–13:40 (20 minuter)" in email.body
    assert "Norrskolan" in email.body  # an ordinary pupil's message is signed by the school
    notice = the_notice(cast.pupil)
    assert email.extra_headers["Message-ID"] == f"<{notice.dedup_key}@fullfolj>"
    assert notice.status == Status.SENT
    assert notice.body == email.body


def test_nothing_goes_out_before_the_send_time(cast, travel):
    travel(at(10, 30))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(11, 29))
    assert actions.deliver_due().sent == 0
    travel(at(11, 30))
    assert actions.deliver_due().sent == 1
    assert actions.deliver_due().sent == 0  # and never twice
    assert len(mail.outbox) == 1


def test_an_absence_corrected_after_the_claim_but_before_sending_sends_nothing(cast, travel):
    lesson = lesson_at(cast, 10)
    travel(at(11))
    mark_invalid(cast, lesson)
    travel(at(12))
    token, ids = actions.claim_due()
    from .helpers import mark_valid

    mark_valid(cast, lesson)  # the row was already being sent: it stays claimed
    assert actions.send_claimed(token, ids).counts == {Status.CANCELLED: 1}
    assert mail.outbox == []


def test_a_guardian_without_email_gets_an_sms(cast, travel):
    cast.parent.email, cast.parent.phone = "", "070-123 45 67"
    cast.parent.save()
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    assert actions.deliver_due().sent == 1
    [sms] = LocmemSMSBackend.outbox
    assert sms.to == "070-123 45 67"
    assert "Matematik 10:00–11:00" in sms.body
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "phone", "backend", "reason"),
    [
        ("greta(at)example.se", "", None, "malformed email address"),
        (
            "greta@example.se",
            "",
            "fullfolj.notices.tests.fakes.RefusingEmailBackend",
            "email address refused by the mail server",
        ),
        ("", "ring mig", None, "malformed phone number"),
        ("", "", None, "the guardian has no email address or phone number"),
    ],
)
def test_an_unusable_address_fails_for_the_mentor_to_see_without_the_address(
    cast, travel, settings, email, phone, backend, reason
):
    if backend:
        settings.EMAIL_BACKEND = backend
    cast.parent.email, cast.parent.phone = email, phone
    cast.parent.save()
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    assert actions.deliver_due().counts == {Status.FAILED: 1}
    notice = the_notice(cast.pupil)
    assert notice.status == Status.FAILED
    assert notice.is_unreached
    assert notice.error == reason
    assert (email or phone or "@") not in notice.error


def test_a_mail_server_that_is_down_is_tried_again_then_given_up(cast, travel, settings):
    settings.EMAIL_BACKEND = "fullfolj.notices.tests.fakes.BrokenEmailBackend"
    settings.FULLFOLJ_NOTICE_MAX_ATTEMPTS = 2
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    assert actions.deliver_due().counts == {Status.SCHEDULED: 1}
    notice = the_notice(cast.pupil)
    assert notice.send_after == at(12, 5)
    assert notice.error == "temporary failure, trying again | ConnectionRefusedError"
    travel(at(12, 5))
    assert actions.deliver_due().counts == {Status.FAILED: 1}
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (Status.FAILED, 2)
    assert notice.error.startswith("gave up after repeated failures")


def test_each_guardian_gets_their_own_message(cast, travel):
    other = s.Guardian.objects.create(
        first_name="Olle", last_name="Åkesson", email="olle@example.se"
    )
    s.Guardianship.objects.create(pupil=cast.pupil, guardian=other)
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    assert actions.deliver_due().sent == 2
    assert sorted(m.to for m in mail.outbox) == [["greta@example.se"], ["olle@example.se"]]
    assert all(not m.cc and not m.bcc for m in mail.outbox)
    assert all("Olle" not in m.body and "Greta" not in m.body for m in mail.outbox)


def test_a_protected_pupil_s_guardian_is_told_without_school_or_address(cast, travel):
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10), cast.protected)
    travel(at(12))
    assert actions.deliver_due().sent == 1
    [email] = mail.outbox
    assert email.to == ["gustav@example.se"]
    assert "Cora" in email.body and "Matematik 10:00–11:00" in email.body
    message = email.subject + email.body
    for leak in (
        "Norrskolan",
        "7A",
        cast.teacher.full_name,
        "Hemliga gatan",
        "Carlsson",
        cast.protected.last_name,
    ):
        assert leak not in message
    assert "Skolan" in email.body


def test_with_the_hold_rule_a_protected_pupil_s_guardian_is_left_to_the_mentor(
    cast, travel, settings
):
    settings.FULLFOLJ_NOTICE_PROTECTED_IDENTITY = "hold"
    lesson = lesson_at(cast, 10)
    travel(at(11))
    mark_invalid(cast, lesson, cast.protected)
    mark_invalid(cast, lesson, cast.pupil)
    travel(at(16))
    assert actions.deliver_due().sent == 1  # Alva's guardian only
    assert [m.to for m in mail.outbox] == [["greta@example.se"]]
    held = the_notice(cast.protected)
    assert held.status == Status.HELD
    assert held.is_unreached
    from .helpers import mark_valid

    mark_valid(cast, lesson, cast.protected)
    held.refresh_from_db()
    assert held.status == Status.CANCELLED  # corrected: nothing for the mentor to do


def test_a_bounce_report_marks_a_sent_notice_for_the_mentor(cast, travel):
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    actions.deliver_due()
    notice = the_notice(cast.pupil)
    assert actions.record_bounce(notice, detail="5.1.1")
    notice.refresh_from_db()
    assert notice.status == Status.BOUNCED
    assert notice.is_unreached
    from django.utils import translation

    with translation.override("sv"):
        assert notice.error_display == "e-postmeddelandet kom i retur (5.1.1)"
    with translation.override("en"):
        assert notice.error_display == "the email bounced (5.1.1)"
    assert not actions.record_bounce(notice)  # only a sent notice can bounce


def test_the_worker_task_sends_what_is_due_and_queues_the_next_wake_up(cast, travel):
    from django_tasks_db.models import DBTaskResult

    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    mark_invalid(cast, lesson_at(cast, 10), cast.protected)
    GuardianNotice.objects.filter(pupil=cast.protected).update(send_after=at(15))
    travel(at(12))
    assert tasks.deliver_notices.call() == {Status.SENT: 1}
    [queued] = DBTaskResult.objects.filter(task_path=tasks.deliver_notices.module_path)
    assert queued.run_after is not None
    assert the_notice(cast.protected).status == Status.SCHEDULED


def test_channels_are_recorded_per_notice(cast, travel):
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    assert the_notice(cast.pupil).channel == Channel.EMAIL


DSN = """From: MAILER-DAEMON@example.se
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.se
Final-Recipient: rfc822; greta@example.se
Action: failed
Status: {status}

--b
Content-Type: text/rfc822-headers

Message-ID: <fullfolj-notice-{pk}@fullfolj>
Subject: =?utf-8?q?Ogiltig_fr=C3=A5nvaro?=
--b--
"""


@pytest.mark.parametrize(("status", "outcome"), [("5.1.1", Status.BOUNCED), ("4.4.1", Status.SENT)])
def test_a_bounce_report_piped_from_the_mail_server_is_recorded(
    cast, travel, tmp_path, status, outcome
):
    from django.core.management import call_command

    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    actions.deliver_due()
    notice = the_notice(cast.pupil)
    report = tmp_path / "bounce.eml"
    report.write_text(DSN.format(status=status, pk=notice.pk), encoding="utf-8")
    call_command("notice_bounce", str(report))
    notice.refresh_from_db()
    assert notice.status == outcome
    if outcome == Status.BOUNCED:
        assert notice.error == "the email bounced | 5.1.1"
        assert "greta" not in notice.error


def test_a_bounce_report_without_our_message_id_is_refused_by_name(tmp_path, db):
    from django.core.management import CommandError, call_command

    report = tmp_path / "other.eml"
    report.write_text("Subject: hello\n\nnothing of ours\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"no Fullfölj notice Message-ID in .*other\.eml"):
        call_command("notice_bounce", str(report))


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens its connection
def test_fullfolj_worker_sends_what_is_due(cast, travel):
    from django.core.management import call_command

    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(12))
    call_command("worker", batch=True)
    assert [m.to for m in mail.outbox] == [["greta@example.se"]]
    assert the_notice(cast.pupil).status == Status.SENT
