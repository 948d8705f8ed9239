"""The container image without a container runtime: the package built and installed the way the
Dockerfile does (a wheel of the same files, not this source tree), its collectstatic line, and
the entrypoint's commands run in the production environment: the deployment check, gunicorn
serving pages, static files and /halsa/, the worker as its own process, the health checks.

What only a container runtime shows (the Debian packages of the image, the user's rights inside
it, compose's order of start) is checked here by reading the files; docs/production.md says so.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from types import SimpleNamespace

import dockerfile
import pytest
import yaml

from fullfolj.access.tests.test_settings import PRODUCTION

REPOSITORY = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPOSITORY / "deploy" / "entrypoint.sh"
HOST = PRODUCTION["ALLOWED_HOSTS"]
# Starting gunicorn or the worker on this shared machine: a limit, not a measurement.
START_LIMIT_SECONDS = 180

pytestmark = pytest.mark.slow


def instructions(stage: str) -> list[dockerfile.Command]:
    """The instructions of one stage of the Dockerfile (`FROM ... AS stage`, or "final"), as
    Docker's own parser reads them."""
    parsed = list(dockerfile.parse_file(str(REPOSITORY / "Dockerfile")))
    starts = [i for i, command in enumerate(parsed) if command.cmd == "FROM"]
    ends = [*starts[1:], len(parsed)]
    for start, end in zip(starts, ends, strict=True):
        name = parsed[start].value[2] if len(parsed[start].value) == 3 else "final"
        if name == stage:
            return parsed[start:end]
    raise AssertionError(f"no stage {stage}")


def image_environment() -> dict[str, str]:
    """The ENV of the Dockerfile's final stage."""
    env: dict[str, str] = {}
    for command in instructions("final"):
        if command.cmd == "ENV":
            env |= dict(zip(command.value[::2], command.value[1::2], strict=True))
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Cheap checks of what no test here can run.


def test_the_image_runs_as_a_user_it_creates_not_as_root():
    final = instructions("final")
    users = [command.value[0] for command in final if command.cmd == "USER"]
    assert users, "the final stage has no USER"
    assert users[-1] not in {"root", "0"}
    assert any(
        command.cmd == "RUN" and "useradd" in command.value[0] and users[-1] in command.value[0]
        for command in final
    )


def test_the_image_starts_the_entrypoint_and_checks_its_own_health():
    final = {command.cmd: command for command in instructions("final")}
    assert final["ENTRYPOINT"].value == ("/opt/fullfolj/deploy/entrypoint.sh",)
    assert final["CMD"].value == ("web",)
    assert final["HEALTHCHECK"].value == (
        "CMD",
        "/opt/fullfolj/deploy/entrypoint.sh",
        "healthcheck",
    )
    copied = [command.value for command in instructions("final") if command.cmd == "COPY"]
    assert ("deploy/entrypoint.sh", "deploy/gunicorn.conf.py", "/opt/fullfolj/deploy/") in copied
    assert os.access(ENTRYPOINT, os.X_OK)


def test_the_compose_example_migrates_before_web_and_worker_and_backs_up_with_a_matching_pg_dump():
    compose = yaml.safe_load((REPOSITORY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "migrate", "web", "worker", "backup"} <= services.keys()
    assert services["migrate"]["command"] == "migrate"
    for name in ("web", "worker"):
        assert services[name]["command"] == name
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    # pg_dump refuses a server newer than itself: the backup uses the database's own image.
    assert services["backup"]["image"] == services["db"]["image"]
    mount = next(v for v in services["backup"]["volumes"] if "backup.sh" in v)
    assert (REPOSITORY / mount.split(":")[0]).is_file()


# The image's Python environment, built the Dockerfile's way.


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("image")
    build = instructions("build")
    # The build stage copies these and installs them, not editable, with the production extra.
    copied = [command.value[:-1] for command in build if command.cmd == "COPY"]
    assert copied == [("pyproject.toml", "README.md"), ("fullfolj",)]
    assert any(
        command.cmd == "RUN" and command.value[0].endswith('pip install ".[production]"')
        for command in build
    )
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPOSITORY / name, source / name)
    shutil.copytree(
        REPOSITORY / "fullfolj",
        source / "fullfolj",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    wheels = root / "wheels"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
        timeout=600,
    )
    # The dependencies are this environment's; the package is the wheel, unpacked alone.
    site = root / "site"
    with zipfile.ZipFile(next(wheels.glob("fullfolj-*.whl"))) as wheel:
        wheel.extractall(site)

    base = {
        name: value
        for name, value in os.environ.items()
        if name in {"HOME", "LANG", "TMPDIR"}  # none of the tests' demo mode or Django's
    }
    env = base | image_environment() | PRODUCTION
    env |= {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(site),
        "FULLFOLJ_DATA_DIR": str(root / "data"),
        "FULLFOLJ_STATIC_ROOT": str(root / "static"),
        "FULLFOLJ_ROLE_FILE": str(root / "role"),
        "DATABASE_URL": f"sqlite:///{root / 'fullfolj.sqlite3'}",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "1",
    }
    (root / "data").mkdir()
    found = run(env, root, "python", "-c", "import fullfolj; print(fullfolj.__file__)")
    assert found.stdout.strip() == str(site / "fullfolj" / "__init__.py")

    # The Dockerfile's own collectstatic line.
    (collect,) = [c.value[0] for c in instructions("final") if "collectstatic" in c.value[0]]
    run(env, root, "sh", "-c", collect)
    run(env, root, str(ENTRYPOINT), "migrate")
    return SimpleNamespace(root=root, env=env, static=root / "static")


def run(env: dict[str, str], cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result


def healthcheck(image: SimpleNamespace) -> int:
    return subprocess.run(  # noqa: S603
        [str(ENTRYPOINT), "healthcheck"],
        env=image.env,
        cwd=image.root,
        capture_output=True,
        timeout=120,
        check=False,
    ).returncode


def fetch(image: SimpleNamespace, path: str, **headers: str) -> urllib.request.Request:
    """GET path from the web server as the reverse proxy would send it (HTTPS, the public host)."""
    return urllib.request.Request(
        f"http://127.0.0.1:{image.env['PORT']}{path}",
        headers={"Host": HOST, "X-Forwarded-Proto": "https"} | headers,
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


opener = urllib.request.build_opener(NoRedirect)


def wait_for_health(image: SimpleNamespace, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{image.env['PORT']}/halsa/", timeout=10
            ) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"gunicorn did not answer within {START_LIMIT_SECONDS} s")


def test_the_deployment_check_passes_in_the_images_environment(image):
    result = run(image.env, image.root, str(ENTRYPOINT), "check")
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr
    # Mail goes out unless told otherwise; the demo's console backend would drop notices.
    backend = run(
        image.env,
        image.root,
        "python",
        "-c",
        "from fullfolj import settings; print(settings.EMAIL_BACKEND)",
    )
    assert backend.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"


def test_gunicorn_serves_pages_hashed_static_files_and_the_health_check(image):
    server = subprocess.Popen(  # noqa: S603
        [str(ENTRYPOINT), "web"],
        env=image.env,
        cwd=image.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_health(image, server)
        assert healthcheck(image) == 0

        with opener.open(fetch(image, "/logga-in/?next=/elev/19990101-1234/")) as response:
            assert response.status == 200
            page = response.read().decode()
        # The stylesheet under its content-hashed name, served with a year's caching.
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page).group(1)
        with opener.open(fetch(image, stylesheet)) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/css")
            assert "immutable" in response.headers["Cache-Control"]
            served = response.read()
        assert served == (image.static / stylesheet.removeprefix("/static/")).read_bytes()
        with opener.open(fetch(image, stylesheet, **{"Accept-Encoding": "gzip"})) as response:
            assert response.headers["Content-Encoding"] == "gzip"

        # Plain HTTP from the proxy is sent to HTTPS; an unknown host is refused.
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(fetch(image, "/logga-in/", **{"X-Forwarded-Proto": "http"}))
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"] == f"https://{HOST}/logga-in/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(fetch(image, "/logga-in/", Host="elsewhere.example.com"))
        assert refused.value.code == 400
    finally:
        server.terminate()
        log = server.communicate(timeout=120)[0]
    assert healthcheck(image) != 0  # the web server is gone
    # The access log has the path, never the query string (a search holds a personnummer).
    assert '"GET /logga-in/ HTTP/1.1" 200' in log
    assert "19990101" not in log


def test_the_worker_runs_as_its_own_process_and_queues_the_daily_runs(image):
    database = image.root / "fullfolj.sqlite3"
    worker = subprocess.Popen(  # noqa: S603
        [str(ENTRYPOINT), "worker"],
        env=image.env,
        cwd=image.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    queued: set[str] = set()
    try:
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while time.monotonic() < deadline and len(queued) < 2:
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            with sqlite3.connect(database) as db:
                queued = {
                    path
                    for (path,) in db.execute(
                        "SELECT task_path FROM django_tasks_database_dbtaskresult WHERE status='READY'"
                        " AND task_path IN ('fullfolj.ladder.tasks.evaluate_ladder_daily',"
                        " 'fullfolj.records.tasks.retention_daily')"
                    )
                }
            time.sleep(0.5)
        assert len(queued) == 2, "the worker queued the daily ladder and retention runs"
        assert (image.root / "role").read_text().strip() == "worker"
        assert healthcheck(image) == 0
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.communicate(timeout=120)
