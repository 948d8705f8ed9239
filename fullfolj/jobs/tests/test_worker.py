"""`fullfolj worker` lives in the top layer: it starts the jobs of the apps below it."""

from __future__ import annotations

import pytest
from django.core.management import call_command, get_commands


def test_the_worker_command_belongs_to_the_jobs_app():
    assert get_commands()["worker"] == "fullfolj.jobs"


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens its connection
def test_a_starting_worker_queues_the_daily_ladder_run_once(cast):
    from django_tasks_db.models import DBTaskResult

    call_command("worker", batch=True)
    call_command("worker", batch=True)  # a restart queues no second run
    queued = DBTaskResult.objects.filter(
        task_path="fullfolj.ladder.tasks.evaluate_ladder_daily", status="READY"
    )
    assert queued.count() == 1
