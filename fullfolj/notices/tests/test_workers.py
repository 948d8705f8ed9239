"""Exactly one message per pupil, guardian and day, with real worker processes on PostgreSQL.

Each test starts `fullfolj worker --batch` as separate processes against the test database,
with fake channels (tests/fakes.py) that write one file per accepted message, so a doubled
message would show as a second file. One worker is killed with SIGKILL in the middle of a
batch and another started; two workers run at once; the database drops a worker's connection
just after the mail server accepted a message.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from fullfolj.notices import actions, tasks
from fullfolj.notices.models import GuardianNotice, Status
from fullfolj.schools import models as s
from tests import factories as f

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: separate worker processes must share the test database, which "
    "SQLite keeps in memory; CI runs this under DATABASE_URL=postgres://...",
)
LEASE = 1  # seconds: a killed worker's claims lapse quickly
WORKER = [str(Path(sys.executable).with_name("fullfolj")), "worker", "--batch"]


@pytest.fixture
def travel():  # type: ignore[no-untyped-def]
    """The worker processes run on the real clock, so this module does too."""
    return None


def _outbox(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("*.msg"))


def _due_notices(n: int, *, email: bool = True) -> list[GuardianNotice]:
    """`n` pupils with one guardian each and an invalid absence today, their notices due."""
    org = f.organiser()
    school = f.school(org)
    year, _autumn, spring = f.school_year()
    group = s.TeachingGroup.objects.create(school=school, school_year=year, name="8B")
    teacher = f.staff("teacher", (s.Role.TEACHER, school), org=org)
    lesson = f.lesson(
        group, f.subject(), teacher, spring, timezone.make_aware(dt.datetime(2026, 3, 18, 8, 0))
    )
    for i in range(n):
        pupil = f.pupil(org, f"Elev{i:02}", "Test")
        contact = {"email": f"g{i:02}@example.se"} if email else {"phone": f"07012345{i:02}"}
        guardian = s.Guardian.objects.create(first_name=f"G{i:02}", last_name="Test", **contact)
        s.Guardianship.objects.create(pupil=pupil, guardian=guardian)
        f.mark(lesson, pupil, absent=60, valid=False)
    actions.schedule_for_days(
        (pupil_id, lesson.date) for pupil_id in s.Pupil.objects.values_list("pk", flat=True)
    )
    # Due whatever the time of day the test runs at (the workers use the real time of day).
    GuardianNotice.objects.update(send_after=timezone.make_aware(dt.datetime(2026, 3, 17)))
    notices = list(GuardianNotice.objects.order_by("send_after", "pk"))
    assert len(notices) == n
    return notices


def _env(tmp_path: Path, **hooks: object) -> dict[str, str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTICE_TEST_")}
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "FULLFOLJ_TODAY": "2026-03-18",
            "EMAIL_BACKEND": "fullfolj.notices.tests.fakes.FileEmailBackend",
            "FULLFOLJ_SMS_BACKEND": "fullfolj.notices.tests.fakes.FileSMSGateway",
            "FULLFOLJ_NOTICE_LEASE_SECONDS": str(LEASE),
            "FULLFOLJ_NOTICE_BATCH": "3",
            "NOTICE_TEST_OUTBOX": str(tmp_path),
            **{f"NOTICE_TEST_{k.upper()}": str(v) for k, v in hooks.items()},
        }
    )
    return env


def _run(env: dict[str, str]) -> None:
    done = subprocess.run(WORKER, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert done.returncode == 0, done.stderr[-3000:]


def _kill_when_hanging(tmp_path: Path, env: dict[str, str]) -> None:
    """Start a worker, wait until its fake channel hangs mid-batch, and SIGKILL it."""
    worker = subprocess.Popen(  # noqa: S603
        WORKER,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / f"hanging.{worker.pid}").exists():
        if worker.poll() is not None:
            pytest.fail(f"the worker exited before the hang: {worker.stderr.read()[-3000:]}")
        assert time.monotonic() < deadline, "the worker never reached the hang"
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL
    time.sleep(LEASE + 1)  # let the dead worker's lease lapse before the restart


def _statuses() -> Counter[str]:
    return Counter(GuardianNotice.objects.values_list("status", flat=True))


def _keys(tmp_path: Path) -> Counter[str]:
    return Counter(path.name.split(".")[0] for path in _outbox(tmp_path))


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_before_the_mail_server_accepts_is_restarted_without_doubles(tmp_path):
    notices = _due_notices(8)
    _kill_when_hanging(tmp_path, _env(tmp_path, hang_at=4, hang_when="before"))
    assert len(_outbox(tmp_path)) == 3
    # The first batch is sent, the second claimed and stuck mid-send, the rest untouched.
    assert _statuses() == {Status.SENT: 3, Status.SENDING: 3, Status.SCHEDULED: 2}

    _run(_env(tmp_path))
    assert _keys(tmp_path) == {n.dedup_key: 1 for n in notices}
    assert _statuses() == {Status.SENT: 8}
    for path in _outbox(tmp_path):
        notice = GuardianNotice.objects.select_related("guardian").get(
            pk=int(path.name.split(".")[0].rsplit("-", 1)[1])
        )
        assert path.read_text(encoding="utf-8").startswith(f"To: {notice.guardian.email}\n")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_sms_gateway_accepts_is_not_sent_again(tmp_path):
    notices = _due_notices(8, email=False)
    _kill_when_hanging(tmp_path, _env(tmp_path, hang_at=4, hang_when="after"))
    assert len(_outbox(tmp_path)) == 4  # the fourth went out; its worker died before recording
    _run(_env(tmp_path))
    assert _keys(tmp_path) == {n.dedup_key: 1 for n in notices}
    assert _statuses() == {Status.SENT: 8}


@pytest.mark.django_db(transaction=True)
def test_after_an_smtp_accept_crash_the_one_resend_carries_the_same_message_id(tmp_path):
    """SMTP cannot say whether it got a message: the documented limit, kept as small as it is.

    Only the message in flight at the kill can go twice, with the Message-ID the receiving
    system drops a copy by; the outbox records one sent notice per guardian.
    """
    notices = _due_notices(6)
    _kill_when_hanging(tmp_path, _env(tmp_path, hang_at=4, hang_when="after"))
    _run(_env(tmp_path))
    keys = _keys(tmp_path)
    assert set(keys) == {n.dedup_key for n in notices}
    assert [key for key, count in keys.items() if count > 1] == [notices[3].dedup_key]
    assert keys[notices[3].dedup_key] == 2
    assert _statuses() == {Status.SENT: 6}


@pytest.mark.django_db(transaction=True)
def test_connections_dropped_after_the_mail_server_accepts_send_nothing_twice(tmp_path):
    """Recording "sent" meets a closed connection: the worker reconnects and records it.

    SMTP cannot say what it delivered, so a notice rescheduled or left for a reclaim here
    would go out again; none may.
    """
    notices = _due_notices(8)
    _run(_env(tmp_path, drop_at="2,5,6"))
    assert _keys(tmp_path) == {n.dedup_key: 1 for n in notices}
    assert _statuses() == {Status.SENT: 8}
    assert set(GuardianNotice.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(tmp_path):
    notices = _due_notices(24)
    for _ in range(2):  # one wake-up task each, so both workers run the delivery at once
        tasks.deliver_notices.enqueue()
    env = _env(tmp_path, barrier=2, delay=0.05)
    env["FULLFOLJ_NOTICE_LEASE_SECONDS"] = "300"  # no send here outlives its lease
    workers = [
        subprocess.Popen(  # noqa: S603
            WORKER,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-3000:]
    assert _keys(tmp_path) == {n.dedup_key: 1 for n in notices}
    senders = {path.name.split(".")[1] for path in _outbox(tmp_path)}
    assert senders == {str(w.pid) for w in workers}  # both really sent
    assert _statuses() == {Status.SENT: 24}
    assert set(GuardianNotice.objects.values_list("attempts", flat=True)) == {1}
