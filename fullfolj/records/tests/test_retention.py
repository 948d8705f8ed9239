"""Retention on a fixed municipality: each kind removed exactly when past its period, the others
kept; a dry run writes nothing; the run's record holds counts only."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from fullfolj.access.models import AccessLog
from fullfolj.attendance.models import LessonAttendance, PupilDay
from fullfolj.notices.models import GuardianNotice
from fullfolj.records import retention, tasks
from fullfolj.records.models import Kind, RetentionPolicy, RetentionRun
from fullfolj.screening.models import Flag
from fullfolj.support.models import Case, CaseEntry
from tests import factories as f

from .conftest import flag

TODAY = dt.date(2026, 3, 18)  # conftest.py pins today
# With 12 months everywhere the cutoff is 2025-03-18: the day before goes, the day itself stays.
GONE, KEPT = dt.date(2025, 3, 17), dt.date(2025, 3, 18)


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def dated(cast) -> SimpleNamespace:
    """Two rows of every kind for Alva: one dated the day before the cutoff, one on it."""
    rows: dict[str, list] = {}
    _old_year, _old_autumn, old_spring = f.school_year(dt.date(2024, 8, 19))
    marks = []
    for day in (GONE, KEPT):
        lesson = f.lesson(cast.group, cast.maths, cast.teacher, old_spring, _at(day))
        marks.append(f.mark(lesson, cast.pupil, absent=10, valid=True))
    from fullfolj.attendance.actions import rebuild_pupil_days

    rebuild_pupil_days()
    rows[Kind.LESSON_ATTENDANCE] = marks
    rows[Kind.GUARDIAN_NOTICES] = [
        GuardianNotice.objects.create(
            pupil=cast.pupil,
            guardian=cast.parent,
            date=day,
            channel="email",
            status="sent",
            send_after=_at(day),
            body="Hej",
        )
        for day in (GONE, KEPT)
    ]
    rows[Kind.SCREENING_FLAGS] = [flag(cast, cast.pupil, day, "Flagga") for day in (GONE, KEPT)]
    cases = []
    for day in (GONE, KEPT):
        case = Case.objects.create(
            pupil=cast.pupil, school=cast.north, responsible=cast.mentor, opened_at=_at(day)
        )
        Case.objects.filter(pk=case.pk).update(
            status="closed", closed_at=_at(day), closed_reason="Klart"
        )
        cases.append(case)
    rows[Kind.CASES] = cases
    open_case = Case.objects.create(pupil=cast.pupil, school=cast.north, responsible=cast.mentor)
    rows[Kind.HEALTH_ENTRIES] = [
        CaseEntry.objects.create(
            case=open_case, kind="note", occurred_on=day, text="Samtal", health_restricted=True
        )
        for day in (GONE, KEPT)
    ]
    # An old entry that is not the student-health team's stays with its (open) case.
    note = CaseEntry.objects.create(case=open_case, kind="note", occurred_on=GONE, text="Mentor")
    reads = []
    for day in (GONE, KEPT):
        read = AccessLog.objects.create(
            staff=cast.mentor, pupil=cast.pupil, role="mentor", path="/"
        )
        AccessLog.objects.filter(pk=read.pk).update(at=_at(day))
        reads.append(read)
    rows[Kind.ACCESS_LOG] = reads
    policy = RetentionPolicy.objects.create(organiser=cast.org, **{kind.value: 12 for kind in Kind})
    return SimpleNamespace(rows=rows, note=note, open_case=open_case, policy=policy)


def _exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def test_each_kind_goes_exactly_when_past_its_period(cast, dated):
    today_mark = LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil)
    counts = retention.run()
    assert counts == {cast.org.pk: {kind.value: 1 for kind in Kind}}
    for kind, (gone, kept) in dated.rows.items():
        assert not _exists(gone), kind
        assert _exists(kept), kind
    assert _exists(dated.note) and _exists(dated.open_case) and _exists(today_mark)
    assert not PupilDay.objects.filter(date=GONE).exists()
    assert PupilDay.objects.filter(date=KEPT).exists()


def test_a_second_run_removes_nothing_more(cast, dated):
    retention.run()
    assert retention.run() == {cast.org.pk: {kind.value: 0 for kind in Kind}}


def test_an_empty_period_keeps_that_kind(cast, dated):
    dated.policy.cases = None
    dated.policy.access_log = None
    dated.policy.save()
    counts = retention.run()[cast.org.pk]
    assert set(counts) == {k.value for k in Kind} - {"cases", "access_log"}
    assert all(_exists(row) for row in dated.rows[Kind.CASES] + dated.rows[Kind.ACCESS_LOG])


def test_an_organiser_without_a_policy_keeps_everything(cast, dated):
    dated.policy.delete()
    assert retention.run() == {}
    assert all(_exists(row) for rows in dated.rows.values() for row in rows)


def test_a_notice_not_yet_sent_is_kept(cast, dated):
    old = dated.rows[Kind.GUARDIAN_NOTICES][0]
    GuardianNotice.objects.filter(pk=old.pk).update(status="scheduled")
    assert retention.run()[cast.org.pk]["guardian_notices"] == 0
    assert _exists(old)


def test_a_dry_run_counts_and_writes_nothing(cast, dated):
    before = {
        model: model.objects.count()
        for model in (LessonAttendance, GuardianNotice, Flag, Case, CaseEntry, AccessLog, PupilDay)
    }
    assert retention.run(dry_run=True) == {cast.org.pk: {kind.value: 1 for kind in Kind}}
    assert {model: model.objects.count() for model in before} == before
    assert not RetentionRun.objects.exists()


def test_the_record_holds_counts_only(cast, dated):
    retention.run()
    run = RetentionRun.objects.get()
    assert run.as_of == TODAY
    assert run.counts == {str(cast.org.pk): {kind.value: 1 for kind in Kind}}
    assert run.total() == len(Kind)


def test_the_command_says_what_went_and_a_dry_run_what_would(cast, dated):
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert "Testkommun: lesson_attendance: would remove 1" in out.getvalue()
    assert not RetentionRun.objects.exists()
    out = io.StringIO()
    call_command("retention", stdout=out)
    assert "Testkommun: access_log: removed 1" in out.getvalue()
    assert RetentionRun.objects.count() == 1


def test_the_cutoff_counts_calendar_months():
    assert retention.cutoff(dt.date(2026, 3, 18), 12) == dt.date(2025, 3, 18)
    assert retention.cutoff(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert retention.cutoff(dt.date(2026, 1, 15), 120) == dt.date(2016, 1, 15)


def test_a_health_period_shorter_than_the_law_is_named():
    policy = RetentionPolicy(health_entries=60)
    assert policy.too_short() == ["health_entries"]
    assert RetentionPolicy(health_entries=120).too_short() == []
    assert RetentionPolicy().too_short() == []


def test_the_daily_run_is_queued_once_and_queues_the_next(cast, settings):
    from django_tasks_db.models import DBTaskResult

    settings.FULLFOLJ_RETENTION_RUN_AT = "03:00"
    tasks.start()
    tasks.start()
    queued = DBTaskResult.objects.filter(task_path=tasks.retention_daily.module_path)
    assert queued.count() == 1
    run_at = timezone.localtime(queued.get().run_after)
    assert (run_at.hour, run_at.minute) == (3, 0)
    now = timezone.make_aware(dt.datetime(2026, 3, 18, 4, 0))
    assert tasks.next_run(now) == timezone.make_aware(dt.datetime(2026, 3, 19, 3, 0))


def test_the_admin_saves_a_short_health_period_with_a_warning(cast, client):
    from django.contrib.auth.models import User

    policy = RetentionPolicy.objects.create(organiser=cast.org)
    root = User.objects.create_superuser("root", password="x" * 16)
    client.force_login(root)
    data = {"organiser": cast.org.pk} | {
        kind.value: ("" if months is None else months) for kind, months in zip(
            Kind, policy.months().values(), strict=True)
    } | {"health_entries": 60}  # fmt: skip
    response = client.post(f"/admin/records/retentionpolicy/{policy.pk}/change/", data, follow=True)
    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.health_entries == 60
    shown = [str(m) for m in response.context["messages"]]
    assert any("120" in m for m in shown), shown
