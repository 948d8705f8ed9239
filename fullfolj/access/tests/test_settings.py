"""Production settings: no start without a secret key, Django's deployment check clean with the
environment the README documents, and a Content-Security-Policy on every page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

REPOSITORY = Path(__file__).resolve().parents[3]

# The production environment of the README's Configuration table.
PRODUCTION = {
    "SECRET_KEY": "a-production-key-that-is-long-and-random-" + "k3Y9" * 10,
    "ALLOWED_HOSTS": "fullfolj.example.se",
    "CSRF_TRUSTED_ORIGINS": "https://fullfolj.example.se",
    "SECURE_COOKIES": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    "FULLFOLJ_TRUSTED_PROXIES": "1",
}


def run_django(tmp_path: Path, environment: dict[str, str], *args: str):
    """Run Python with a clean deployment environment (none of the tests' demo mode)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "FULLFOLJ_DEMO", "DEBUG", "DATABASE_URL"}
        and not name.startswith(("SECURE_", "PYTEST", "DJANGO_"))
    }
    env |= {
        "PYTHONPATH": str(REPOSITORY),
        "DJANGO_SETTINGS_MODULE": "fullfolj.settings",
        "FULLFOLJ_DATA_DIR": str(tmp_path),
        **environment,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("demo", [None, "0"])
def test_production_refuses_to_start_without_a_secret_key(tmp_path, demo):
    environment = {} if demo is None else {"FULLFOLJ_DEMO": demo}
    result = run_django(tmp_path, environment, "-c", "import fullfolj.settings")
    assert result.returncode != 0
    assert "Set SECRET_KEY in production" in result.stderr


def test_the_demo_runs_without_a_secret_key(tmp_path):
    result = run_django(
        tmp_path,
        {"FULLFOLJ_DEMO": "1"},
        "-c",
        "from fullfolj import settings; print(settings.SECRET_KEY.startswith('demo-only'))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_the_deployment_check_passes_with_the_documented_production_environment(tmp_path):
    result = run_django(
        tmp_path, PRODUCTION, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_the_https_settings_come_from_the_environment(tmp_path):
    names = [
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    ]
    result = run_django(
        tmp_path,
        PRODUCTION,
        "-c",
        f"from fullfolj import settings; print([getattr(settings, n) for n in {names!r}])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [("HTTP_X_FORWARDED_PROTO", "https"), True, 31536000, True, True, True, True]
    )


def csp(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, directive by directive."""
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def test_pages_send_a_content_security_policy_without_unsafe_inline(cast, client):
    client.force_login(cast.teacher.user)
    response = client.get(reverse("elevakt:home"))
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    # The page's own <style> carries the nonce the policy allows, fresh for every response.
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert nonce not in client.get(reverse("elevakt:home"))["Content-Security-Policy"]


def test_the_login_page_has_the_policy_too(client):
    response = client.get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert ' style="' not in response.content.decode()
