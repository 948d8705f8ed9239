"""The rule page: the rules by name for every role that may read them, and an evaluation started
there as a background job with its progress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.screening import actions, queries, rule_quality
from fullfolj.screening.models import RuleEvaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(cast):
    """Alva in maths every school day from 12 January, away (invalid) in the last two weeks."""
    from django.utils import timezone

    from fullfolj.attendance.actions import rebuild_pupil_days
    from tests import factories as f

    day = dt.date(2026, 1, 12)
    while day < dt.date(2026, 3, 14):
        if day.isoweekday() <= 5:
            lesson = f.lesson(
                cast.group,
                cast.maths,
                cast.teacher,
                cast.spring,
                timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0))),
            )
            if day >= dt.date(2026, 3, 2):
                f.mark(lesson, cast.pupil, absent=60, valid=False, reason=cast.reasons["OGIL"])
            else:
                f.mark(lesson, cast.pupil)
        day += dt.timedelta(days=1)
    rebuild_pupil_days()
    return cast


RUNNERS = {"principal", "principal_elsewhere", "admin", "teacher_admin", "mentor_principal"}
READERS = RUNNERS | {"nurse", "health_two", "doctor"}  # the student-health team reads them


@pytest.mark.parametrize("who", ROLES)
def test_the_rule_page_is_for_principal_health_team_and_administration(client, cast, who):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("screening:evaluation"))
    if who not in READERS:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = response.content.decode()
    assert "Screeningregler och hur bra de är" in body
    assert "Problematisk frånvaro" in body
    assert "Frånvaro minst 15 % de senaste 20 skoldagarna" in body
    assert "Ogiltig frånvaro minst 5 % de senaste 20 skoldagarna" in body
    assert "rising_late_skip" not in body  # names, not codes
    assert ("Utvärdera reglerna" in body) == (who in RUNNERS)


@pytest.mark.parametrize("who", ROLES)
def test_only_principal_and_administration_start_an_evaluation(client, cast, who):
    client.force_login(getattr(cast, who).user)
    data = {"outcome": "absence", "level": "20", "subjects": "2"}
    response = client.post(reverse("screening:evaluation-start"), data)
    if who in RUNNERS:
        assert response.status_code == 302
        requested = RuleEvaluation.objects.get()
        assert requested.status == RuleEvaluation.Status.QUEUED
        assert requested.requested_by == getattr(cast, who)
    else:
        assert response.status_code == 404
        assert not RuleEvaluation.objects.exists()


def test_an_evaluation_is_queued_for_the_worker_and_its_progress_shown(
    client, history, django_capture_on_commit_callbacks
):
    cast = history
    client.force_login(cast.principal.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("screening:evaluation-start"),
            {"outcome": "absence", "level": "15", "subjects": "2"},
            follow=True,
        )
    body = response.content.decode()
    assert "Utvärderingen har startat" in body
    assert "Väntar på att bakgrundsjobbet ska starta." in body
    assert 'src="/static/screening/evaluation.js"' in body
    assert DBTaskResult.objects.filter(task_path__endswith="evaluate_rules").count() == 1
    status = client.get(reverse("screening:evaluation-status")).json()
    assert status["status"] == "queued" and status["progress"] == 0
    # Asking again while it waits adds nothing: the one waiting is the one that runs.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            reverse("screening:evaluation-start"),
            {"outcome": "failing", "level": "20", "subjects": "3"},
            follow=True,
        )
    assert "En utvärdering pågår redan" in again.content.decode()
    assert RuleEvaluation.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="evaluate_rules").count() == 1

    # The worker's task (its progress: the next test), then the figures.
    assert actions.run_requested() == [RuleEvaluation.objects.get().pk]
    done = RuleEvaluation.objects.get()
    assert (done.status, done.progress, done.level) == ("done", 100, 15)
    assert done.screenings > 0 and done.finished_at is not None
    assert client.get(reverse("screening:evaluation-status")).json()["status"] == "done"
    body = client.get(reverse("screening:evaluation")).content.decode().replace("\xa0", " ")
    assert "Senaste utvärderingen" in body
    assert "Frånvaro över 15 % under 20 skoldagar, efter en period under den nivån." in body
    assert "evaluation.js" not in body  # nothing to wait for
    assert "Hela screeningen" in body and "Problematisk frånvaro" in body


def test_the_running_progress_is_stored_as_dates_are_screened(history, monkeypatch):
    cast = history
    requested, is_new = actions.request_evaluation(cast.org, outcome="absence", level=20)
    assert is_new
    stored = []
    real = rule_quality.evaluate_organiser

    def evaluate(*args, **kwargs):
        report = kwargs["progress"]

        def spy(done: int, total: int) -> None:
            report(done, total)
            stored.append(RuleEvaluation.objects.get(pk=requested.pk).progress)

        kwargs["progress"] = spy
        return real(*args, **kwargs)

    monkeypatch.setattr(rule_quality, "evaluate_organiser", evaluate)
    requested.status = RuleEvaluation.Status.RUNNING
    requested.save()
    actions.run_evaluation(requested)
    assert stored and stored == sorted(stored)  # it only grows
    assert stored[-1] == 99  # 100 only with the figures
    assert RuleEvaluation.objects.get(pk=requested.pk).progress == 100


def test_a_failed_evaluation_says_why_and_the_next_one_runs(client, cast, monkeypatch):
    first, _ = actions.request_evaluation(cast.org, outcome="absence")

    def broken(*args, **kwargs):
        raise ValueError("no history")

    monkeypatch.setattr(rule_quality, "evaluate_organiser", broken)
    assert actions.run_requested() == []
    assert RuleEvaluation.objects.get(pk=first.pk).status == "failed"
    client.force_login(cast.admin.user)
    body = client.get(reverse("screening:evaluation")).content.decode()
    assert "Den senaste utvärderingen kunde inte slutföras: no history" in body
    monkeypatch.undo()
    second, is_new = actions.request_evaluation(cast.org, outcome="not_eligible")
    assert is_new and second.pk != first.pk
    assert actions.run_requested() == [second.pk]
    assert queries.latest_evaluation(cast.org.pk).outcome_kind == "not_eligible"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "absence", "level": "90", "subjects": "2"}, "mindre än eller lika med 50"),
        ({"outcome": "guess", "level": "20", "subjects": "2"}, "Välj ett giltigt alternativ"),
        ({"outcome": "failing", "level": "20", "subjects": "0"}, "större än eller lika med 1"),
    ],
)
def test_bad_input_is_told_where_not_a_500(client, cast, data, message):
    client.force_login(cast.principal.user)
    response = client.post(reverse("screening:evaluation-start"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RuleEvaluation.objects.exists()


def test_the_status_needs_a_reader(client, cast):
    client.force_login(cast.teacher.user)
    assert client.get(reverse("screening:evaluation-status")).status_code == 404
    client.force_login(cast.nurse.user)
    assert client.get(reverse("screening:evaluation-status")).json()["status"] == "done"
