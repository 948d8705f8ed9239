"""The client's ways in (client certificate) and the nightly job that runs the sources."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from fullfolj.exchange import actions, tasks
from fullfolj.exchange.models import ImportRun, Source
from fullfolj.exchange.ss12000.client import Auth, Client, ServerError, SS12000Error
from fullfolj.schools.models import Pupil
from tests import factories as f

from .server import World, serve


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)  # noqa: S603, S607


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA of our own, the server's certificate for 127.0.0.1 and a client certificate."""
    folder = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=Testskolans CA", cwd=folder)  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "san.cnf",
                 cwd=folder)  # fmt: skip
    return folder


def _server_tls(folder: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    context.load_verify_locations(folder / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
    return context


def test_a_client_certificate_opens_a_server_that_demands_one(db, certificates):
    f.school_year()
    world = World()
    with serve(world, _server_tls(certificates)) as url:
        source = Source.objects.create(
            name="Mutual TLS",
            base_url=url,
            auth=Source.Auth.CERTIFICATE,
            token="hemlig-token",
            cert_file=str(certificates / "client.pem"),
            key_file=str(certificates / "client.key"),
            ca_file=str(certificates / "ca.pem"),
        )
        actions.run_import(source)
        assert Pupil.objects.count() == 3

        source.cert_file = source.key_file = ""
        source.save()
        with pytest.raises(actions.ImportStopped, match=r"no answer from the server"):
            actions.run_import(source)


def test_a_certificate_file_that_cannot_be_read_is_named(tmp_path):
    with pytest.raises(SS12000Error, match="client certificate or CA file cannot be read"):
        Client(
            "https://127.0.0.1:1",
            Auth(kind="certificate", cert_file=str(tmp_path / "saknas.pem")),
        )


def test_a_server_that_does_not_answer_is_named(db):
    client = Client("http://127.0.0.1:9", Auth(kind="bearer", token="x"), timeout=2)

    with pytest.raises(ServerError, match=r"Reading persons: no answer from the server"):
        client.request("/persons", what="persons")


# --- the nightly job --------------------------------------------------------------------------


def test_the_nightly_job_imports_the_sources_that_are_due_once(source):
    source.enabled, source.run_at = True, dt.time(0, 0)
    source.save()
    Source.objects.create(
        name="Avstängd", base_url="http://127.0.0.1:9", auth=Source.Auth.BEARER, enabled=False
    )

    assert tasks.due() == [source]
    runs = tasks.import_sources.call()

    assert ImportRun.objects.get(pk__in=runs).status == ImportRun.Status.DONE
    assert Pupil.objects.count() == 3
    assert tasks.due() == []  # done for tonight
    assert tasks.import_sources.call() == []


def test_a_failed_night_is_run_again_and_the_next_run_is_queued(source, world):
    from django_tasks_db.models import DBTaskResult

    source.enabled, source.run_at = True, dt.time(0, 0)
    source.save()
    world.fail[("persons", 1)] = 500

    [failed] = tasks.import_sources.call()

    assert ImportRun.objects.get(pk=failed).status == ImportRun.Status.FAILED
    assert tasks.due() == [source]  # a failed run does not count as tonight's
    queued = DBTaskResult.objects.get(task_path="fullfolj.exchange.tasks.import_sources")
    assert queued.run_after > timezone.now()  # tomorrow at the source's time


def test_the_next_run_is_the_earliest_source_time_to_come(db):
    now = timezone.make_aware(dt.datetime(2026, 3, 18, 3, 0))
    for name, at in (("a", dt.time(2, 0)), ("b", dt.time(4, 30))):
        Source.objects.create(
            name=name, base_url=f"http://{name}.example", auth="bearer", enabled=True, run_at=at
        )

    assert tasks.next_run(now) == timezone.make_aware(dt.datetime(2026, 3, 18, 4, 30))


def test_a_superuser_runs_a_source_from_the_admin(client, source, world):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    url = "/admin/exchange/source/"

    checked = client.post(
        url, {"action": "check_now", "index": 0, "_selected_action": [source.pk]}, follow=True
    )

    assert not Pupil.objects.exists()
    assert "Ingenting skrevs." in checked.content.decode()
    client.post(url, {"action": "import_now", "index": 0, "_selected_action": [source.pk]})
    assert Pupil.objects.count() == 3
    world.fail[("persons", 1)] = 500
    failed = client.post(
        url, {"action": "import_now", "index": 0, "_selected_action": [source.pk]}, follow=True
    )
    assert "500" in failed.content.decode()
    assert list(source.runs.values_list("status", flat=True)) == ["failed", "done", "dry_run"]
