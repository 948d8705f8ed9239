"""/halsa/ and `fullfolj health`: the database and the worker's queue, for health checks and
monitoring; answered for any host over plain HTTP, without a login, naming no pupil."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fullfolj.ladder import tasks as ladder_tasks

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def production_like(settings):
    """The HTTPS redirect on and one public host name, as in production."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["fullfolj.example.se"]


@pytest.mark.django_db
def test_the_health_check_answers_on_the_containers_own_address_over_plain_http(
    client, production_like, cast, django_assert_num_queries
):
    # Asked every half minute: the database's answer, the late tasks, the last finished one.
    with django_assert_num_queries(3):
        response = client.get("/halsa/", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    answer = response.json()
    assert answer["status"] == "ok"
    assert answer["database"] == "ok"
    assert answer["worker"]["status"] == "ok"
    assert cast.pupil.last_name not in response.content.decode()
    # The rest of the site still refuses the unknown host.
    assert client.get("/logga-in/", HTTP_HOST="127.0.0.1:8000").status_code == 400


@pytest.mark.django_db
def test_a_task_waiting_past_its_time_shows_a_late_worker_but_keeps_the_web_server_healthy(
    client,
):
    ladder_tasks.evaluate_ladder_daily.using(
        run_after=timezone.now() - dt.timedelta(minutes=20)
    ).enqueue()
    response = client.get("/halsa/")
    assert response.status_code == 200
    assert response.json()["worker"]["status"] == "late"
    assert response.json()["worker"]["tasks_waiting_too_long"] == 1
    call_command("health")  # the web server's check: the database answers
    with pytest.raises(CommandError, match="worker is late"):
        call_command("health", worker=True)


@pytest.mark.django_db
def test_a_task_due_only_soon_is_not_late(client):
    ladder_tasks.evaluate_ladder_daily.using(
        run_after=timezone.now() - dt.timedelta(minutes=5)
    ).enqueue()
    assert client.get("/halsa/").json()["worker"]["status"] == "ok"
    call_command("health", worker=True)


@pytest.mark.django_db
def test_a_post_to_the_health_path_is_not_answered_by_it(client):
    assert client.post("/halsa/").status_code == 404


def test_the_health_check_answers_503_when_the_database_does_not(tmp_path):
    """A PostgreSQL address where nothing listens, through the WSGI application."""
    probe = """
import io, json, sys
from fullfolj.wsgi import application
answer = {}
def start_response(status, headers):
    answer["status"] = status
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/halsa/", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "8000", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
           "wsgi.errors": sys.stderr}
body = b"".join(application(environ, start_response))
print(json.dumps({"status": answer["status"], "body": json.loads(body)}))
"""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPOSITORY),
            "FULLFOLJ_DEMO": "1",
            "FULLFOLJ_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing?connect_timeout=5",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"].startswith("503")
    assert answer["body"] == {"status": "unavailable", "database": "unavailable"}
