"""Two saves of one register at once, on PostgreSQL: the second waits, then is refused."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction

from fullfolj.attendance.actions import Loaded, Mark, StaleRegister, register_lesson
from fullfolj.attendance.models import LessonAttendance
from fullfolj.schools import models as s
from tests import factories as f

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: two connections to one test database",
    ),
    pytest.mark.django_db(transaction=True),
]
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_save_that_waited_for_anothers_commit_is_refused_and_writes_nothing(cast):
    s.GroupMembership.objects.create(
        group=cast.group, pupil=cast.other_pupil, start=cast.year.start
    )
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM), tick=False):
        lesson = f.lesson(
            cast.group,
            cast.maths,
            cast.teacher,
            cast.spring,
            dt.datetime(2026, 3, 18, 10, 0, tzinfo=STOCKHOLM),
        )
        # The teacher's form read the register at version 0: nobody marked yet.
        loaded = Loaded(
            rows={}, organisers={p.pk: p.organiser_id for p in (cast.pupil, cast.other_pupil)}
        )
        outcome: list[object] = []

        def teacher_saves() -> None:
            try:
                register_lesson(
                    lesson,
                    [Mark(cast.other_pupil.pk, late_minutes=7)],
                    by=cast.teacher,
                    expected_version=0,
                    loaded=loaded,
                )
                outcome.append("saved")
            except StaleRegister as stale:
                outcome.append(stale)
            finally:
                connections.close_all()

        with transaction.atomic():  # the principal's save holds the lesson row
            register_lesson(
                lesson,
                [Mark(cast.pupil.pk, absent_minutes=60, is_valid=False)],
                by=cast.principal,
                expected_version=0,
            )
            teacher = threading.Thread(target=teacher_saves)
            teacher.start()
            for _ in range(500):  # until the teacher's save waits on the lesson row
                if _waiting_on_a_lock() or not teacher.is_alive():
                    break
                time.sleep(0.01)
            assert teacher.is_alive()
        teacher.join()
    [stale] = outcome
    assert isinstance(stale, StaleRegister)
    assert [c.attendance.pupil_id for c in stale.changes] == [cast.pupil.pk]
    # Only the principal's mark: nothing of the refused save was written.
    assert list(
        LessonAttendance.objects.filter(lesson=lesson).values_list(
            "pupil_id", "absent_minutes", "late_minutes"
        )
    ) == [(cast.pupil.pk, 60, 0)]
    lesson.refresh_from_db()
    assert lesson.version == 1
