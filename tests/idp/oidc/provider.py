"""Start the test OpenID Connect provider on 127.0.0.1 in a subprocess, for a pytest fixture."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "fullfolj"
CLIENT_SECRET = "test-client-secret"  # noqa: S105
STARTUP_SECONDS = 30


@dataclass(frozen=True)
class Provider:
    issuer: str  # http://127.0.0.1:PORT/openid
    client_id: str
    client_secret: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_provider(
    workdir: Path, *, redirect_uri: str, logout_uri: str, people: list[dict[str, Any]]
) -> Iterator[Provider]:
    """Migrate a fresh SQLite database, make a signing key, register the client and people
    (once per test session), then serve until the block ends."""
    env = {**os.environ, "IDP_DATABASE": str(workdir / "idp.sqlite3"), "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    seed = workdir / "seed.json"
    client = {
        "id": CLIENT_ID,
        "secret": CLIENT_SECRET,
        "redirect_uri": redirect_uri,
        "post_logout_redirect_uri": logout_uri,
    }
    seed.write_text(json.dumps({"client": client, "people": people}))

    def manage(*args: str) -> None:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tests.idp.oidc", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )

    manage("seed", str(seed))  # also migrates and makes the signing key
    port = free_port()
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "tests.idp.oidc",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--skip-checks",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}/openid"
    try:
        wait_until_serving(f"{issuer}/.well-known/openid-configuration", server)
        yield Provider(issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the OpenID Connect provider exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the OpenID Connect provider did not answer at {url}")
