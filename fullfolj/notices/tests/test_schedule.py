"""Scheduling the day's notice: who gets one, when it goes out, and cancelling on correction."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from fullfolj.attendance.actions import (
    Loaded,
    Mark,
    Settlement,
    register_lesson,
    settle_absences,
)
from fullfolj.attendance.models import LessonAttendance
from fullfolj.notices import actions
from fullfolj.notices.models import Channel, GuardianNotice, Status
from fullfolj.schools import models as s

from .helpers import at, lesson_at, mark_invalid, mark_present, mark_valid


def notices(pupil):  # type: ignore[no-untyped-def]
    return list(GuardianNotice.objects.filter(pupil=pupil).order_by("guardian__first_name"))


def test_invalid_absence_schedules_one_notice_per_guardian_30_minutes_after_the_lesson(
    cast, travel
):
    travel(at(10, 30))
    mark_invalid(cast, lesson_at(cast, 10))
    [notice] = notices(cast.pupil)
    assert notice.guardian == cast.parent
    assert notice.channel == Channel.EMAIL
    assert notice.status == Status.SCHEDULED
    assert notice.send_after == at(11, 30)  # the lesson ends 11:00, plus 30 minutes


def test_a_second_invalid_lesson_moves_the_same_notice_to_after_the_later_lesson(cast, travel):
    travel(at(10, 30))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(13, 10))
    mark_invalid(cast, lesson_at(cast, 13, minutes=40))
    [notice] = notices(cast.pupil)
    assert notice.send_after == at(14, 10)  # 13:00 + 40 min + 30 min


def test_a_late_register_still_leaves_the_grace_period_for_corrections(cast, travel):
    travel(at(15))
    mark_invalid(cast, lesson_at(cast, 8))
    [notice] = notices(cast.pupil)
    assert notice.send_after == at(15, 5)


def test_a_fixed_send_time_waits_for_the_end_of_the_school_day(cast, travel, settings):
    settings.FULLFOLJ_NOTICE_SEND_AT = "15:30"
    travel(at(10, 30))
    mark_invalid(cast, lesson_at(cast, 10))
    [notice] = notices(cast.pupil)
    assert notice.send_after == at(15, 30)


@pytest.mark.parametrize("mark", [mark_valid, mark_present])
def test_correcting_the_absence_before_the_send_time_cancels_the_notice(cast, travel, mark):
    lesson = lesson_at(cast, 10)
    travel(at(10, 30))
    mark_invalid(cast, lesson)
    travel(at(11))
    mark(cast, lesson)
    [notice] = notices(cast.pupil)
    assert notice.status == Status.CANCELLED
    travel(at(16))
    assert actions.deliver_due().sent == 0
    assert mail.outbox == []


def test_correcting_one_of_two_lessons_keeps_the_notice_for_the_other(cast, travel):
    first, second = lesson_at(cast, 9), lesson_at(cast, 10)
    travel(at(11))
    mark_invalid(cast, first)
    mark_invalid(cast, second)
    mark_valid(cast, second)
    [notice] = notices(cast.pupil)
    assert notice.status == Status.SCHEDULED


def test_an_absence_made_invalid_again_reschedules_the_cancelled_notice(cast, travel):
    lesson = lesson_at(cast, 10)
    travel(at(11))
    mark_invalid(cast, lesson)
    mark_valid(cast, lesson)
    mark_invalid(cast, lesson)
    [notice] = notices(cast.pupil)
    assert notice.status == Status.SCHEDULED
    assert GuardianNotice.objects.count() == 1


def test_valid_absence_and_lateness_schedule_nothing(cast, travel):
    from fullfolj.attendance.actions import Mark, register_lesson

    lesson = lesson_at(cast, 10)
    travel(at(11))
    mark_valid(cast, lesson)
    register_lesson(lesson, [Mark(cast.pupil.pk, late_minutes=10)], by=cast.teacher)
    register_lesson(
        lesson, [Mark(cast.pupil.pk, absent_minutes=60, is_valid=None)], by=cast.teacher
    )  # "not yet known": the mentor settles it first
    assert notices(cast.pupil) == []


def test_every_guardian_gets_a_notice_by_email_else_sms_else_one_the_mentor_sees(cast, travel):
    sms = s.Guardian.objects.create(first_name="Sam", last_name="Sms", phone="070-123 45 67")
    none = s.Guardian.objects.create(first_name="Nils", last_name="Nokontakt")
    for guardian in (sms, none):
        s.Guardianship.objects.create(pupil=cast.pupil, guardian=guardian)
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    channels = {n.guardian.first_name: n.channel for n in notices(cast.pupil)}
    assert channels == {"Greta": Channel.EMAIL, "Sam": Channel.SMS, "Nils": Channel.NONE}


def test_guardians_of_other_pupils_get_nothing(cast, travel):
    travel(at(11))
    mark_invalid(cast, lesson_at(cast, 10))
    assert not GuardianNotice.objects.filter(guardian=cast.guardian).exists()


def test_a_notice_already_sent_is_neither_moved_nor_doubled_by_a_later_register(cast, travel):
    travel(at(10, 30))
    mark_invalid(cast, lesson_at(cast, 10))
    travel(at(11, 30))
    assert actions.deliver_due().sent == 1
    travel(at(14, 10))
    mark_invalid(cast, lesson_at(cast, 13))
    [notice] = notices(cast.pupil)
    assert notice.status == Status.SENT
    travel(at(16))
    assert actions.deliver_due().sent == 0
    assert len(mail.outbox) == 1


def test_a_rolled_back_register_leaves_no_notice(cast, travel):
    from django.db import transaction

    travel(at(11))
    lesson = lesson_at(cast, 10)
    with pytest.raises(RuntimeError), transaction.atomic():
        mark_invalid(cast, lesson)
        raise RuntimeError("the request failed after the save")
    assert notices(cast.pupil) == []


def test_a_rolled_back_save_of_a_loaded_form_leaves_no_notice(cast, travel):
    """The form's save: the notices' read goes with the swap and the writes (PostgreSQL)."""
    from django.db import transaction

    travel(at(11))
    lesson = lesson_at(cast, 10)
    loaded = Loaded(rows={}, organisers={cast.pupil.pk: cast.pupil.organiser_id})
    with pytest.raises(RuntimeError), transaction.atomic():
        register_lesson(
            lesson,
            [Mark(cast.pupil.pk, absent_minutes=60, is_valid=False)],
            by=cast.teacher,
            expected_version=0,
            loaded=loaded,
        )
        assert len(notices(cast.pupil)) == 1  # written in the register's transaction
        raise RuntimeError("the request failed after the save")
    assert notices(cast.pupil) == []
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()


def test_a_rolled_back_correction_leaves_the_scheduled_notice_as_it_was(cast, travel):
    from django.db import transaction

    travel(at(11))
    lesson = lesson_at(cast, 10)
    mark_invalid(cast, lesson)
    [before] = notices(cast.pupil)
    travel(at(11, 5))
    with pytest.raises(RuntimeError), transaction.atomic():
        mark_valid(cast, lesson)
        assert notices(cast.pupil)[0].status == Status.CANCELLED
        raise RuntimeError("the request failed after the save")
    [after] = notices(cast.pupil)
    assert (after.status, after.send_after) == (Status.SCHEDULED, before.send_after)


def test_registering_wakes_a_worker_at_the_send_time_after_commit(
    cast, travel, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    travel(at(10, 30))
    with django_capture_on_commit_callbacks(execute=True):
        mark_invalid(cast, lesson_at(cast, 10))
    with django_capture_on_commit_callbacks(execute=True):
        mark_invalid(cast, lesson_at(cast, 10, subject=cast.maths))  # a second lesson, same day
    [task] = DBTaskResult.objects.filter(task_path="fullfolj.notices.tasks.deliver_notices")
    assert task.run_after is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FULLFOLJ_NOTICE_SEND_AT", "half past three"),
        ("FULLFOLJ_NOTICE_PROTECTED_IDENTITY", "maybe"),
        ("FULLFOLJ_NOTICE_BATCH", 0),
        ("FULLFOLJ_SMS_BACKEND", "no.such.Gateway"),
    ],
)
def test_a_mistyped_notice_setting_is_reported_by_name_at_start(settings, name, value):
    setattr(settings, name, value)
    messages = [e.msg for e in run_checks() if e.id.startswith("notices.")]
    assert len(messages) == 1
    assert name in messages[0]


def test_a_mistyped_send_time_is_a_configuration_error_not_a_crash_elsewhere(settings):
    settings.FULLFOLJ_NOTICE_SEND_AT = "25:99"
    with pytest.raises(ImproperlyConfigured, match="FULLFOLJ_NOTICE_SEND_AT"):
        actions.fixed_send_time()


def _unknown_absence(cast, hour: int) -> LessonAttendance:  # type: ignore[no-untyped-def]
    """Alva absent from a lesson today, whether validly not yet known."""
    lesson = lesson_at(cast, hour)
    register_lesson(lesson, [Mark(cast.pupil.pk, absent_minutes=lesson.minutes)], by=cast.teacher)
    return LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil)


def test_settling_an_absence_invalid_tells_the_guardian_once(cast, travel):
    travel(at(14))
    ill, truant = _unknown_absence(cast, 9), _unknown_absence(cast, 11)
    assert notices(cast.pupil) == []
    settle_absences(
        [
            Settlement(ill.pk, 1, is_valid=True, reason=cast.reasons["SJUK"]),
            Settlement(truant.pk, 1, is_valid=False),
        ],
        by=cast.mentor,
    )
    [notice] = notices(cast.pupil)
    assert (notice.guardian, notice.status) == (cast.parent, Status.SCHEDULED)


def test_settling_an_absence_valid_tells_nobody(cast, travel):
    travel(at(14))
    row = _unknown_absence(cast, 9)
    settle_absences(
        [Settlement(row.pk, 1, is_valid=True, reason=cast.reasons["LEDIG"])], by=cast.mentor
    )
    assert not GuardianNotice.objects.exists()
