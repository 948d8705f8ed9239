"""OpenID Connect sign-on without a provider: off by default, the login page's choices, local
passwords switched off, what counts as a second factor, and a provider that does not answer.
The sign-on itself runs against a real provider in tests/browser/test_sso_oidc.py."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client, override_settings
from django.urls import reverse

from fullfolj.access import oidc
from fullfolj.access.tests.test_settings import run_django

SIGN_ON = "Logga in med kommunens konto"


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_on_is_off_unless_configured(client: Client) -> None:
    assert not oidc.is_configured()
    page = client.get(reverse("login")).content.decode()
    assert SIGN_ON not in page
    assert 'id="id_password"' in page
    assert client.get(reverse("access:oidc-start")).status_code == 404
    assert (
        client.get(reverse("access:oidc-callback"), {"code": "x", "state": "y"}).status_code == 404
    )


@override_settings(FULLFOLJ_OIDC=True, FULLFOLJ_OIDC_ISSUER="http://127.0.0.1:1/openid")
def test_the_login_page_offers_the_municipalitys_account_beside_the_password(
    client: Client,
) -> None:
    page = client.get(reverse("login"), {"next": "/stod/"}).content.decode()
    assert SIGN_ON in page
    assert f'href="{reverse("access:oidc-start")}?next=/stod/"' in page
    assert 'id="id_password"' in page


@override_settings(
    FULLFOLJ_OIDC=True,
    FULLFOLJ_OIDC_ISSUER="http://127.0.0.1:1/openid",
    FULLFOLJ_LOCAL_PASSWORDS=False,
)
def test_without_local_passwords_the_form_is_gone_and_a_posted_password_refused(
    client: Client, cast: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    page = client.get(reverse("login")).content.decode()
    assert SIGN_ON in page
    assert 'id="id_password"' not in page

    response = client.post(reverse("login"), {"username": "mentor", "password": "pw-mentor"})
    assert response.status_code == 403
    assert not signed_in(client)
    assert "local passwords are switched off" in caplog.text
    # Nor through the admin's login form, which asks the same backends.
    client.post(reverse("admin:login"), {"username": "mentor", "password": "pw-mentor"})
    assert not signed_in(client)


@override_settings(FULLFOLJ_LOCAL_PASSWORDS=False)
def test_with_no_way_to_log_in_the_page_says_whom_to_ask(client: Client) -> None:
    page = client.get(reverse("login")).content.decode()
    assert 'id="id_password"' not in page
    assert "Fråga kommunens IT-avdelning" in page


def test_a_password_still_logs_in_by_default(client: Client, cast: SimpleNamespace) -> None:
    client.post(reverse("login"), {"username": "mentor", "password": "pw-mentor"})
    assert signed_in(client)


@pytest.mark.parametrize(
    ("claims", "asserted"),
    [
        ({"amr": ["pwd"]}, False),
        ({"amr": ["pwd", "otp"]}, True),
        ({"amr": ["mfa"]}, True),
        ({"amr": "pwd hwk"}, True),
        ({}, False),
        ({"acr": "http://id.elegnamnden.se/loa/1.0/loa3"}, True),
        ({"acr": "http://id.elegnamnden.se/loa/1.0/loa2"}, False),
        ({"acr": ""}, False),
    ],
)
@override_settings(FULLFOLJ_OIDC_MFA_ACR=["http://id.elegnamnden.se/loa/1.0/loa3"])
def test_what_counts_as_a_second_factor(claims: dict[str, Any], asserted: bool) -> None:
    assert oidc.asserts_second_factor(claims) is asserted


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens once the probe is closed


def test_a_provider_that_does_not_answer_gets_a_page_not_an_error(
    client: Client, settings: Any
) -> None:
    settings.FULLFOLJ_OIDC = True
    settings.FULLFOLJ_OIDC_ISSUER = f"http://127.0.0.1:{closed_port()}/openid"
    settings.OIDC_RP_CLIENT_ID = "fullfolj"
    response = client.get(reverse("access:oidc-start"))
    assert response.status_code == 502
    assert "Kommunens inloggning svarar inte just nu" in response.content.decode()


@override_settings(FULLFOLJ_OIDC=True, FULLFOLJ_OIDC_ISSUER="http://127.0.0.1:1/openid")
def test_an_answer_the_browser_never_asked_for_is_refused(client: Client, db: None) -> None:
    response = client.get(reverse("access:oidc-callback"), {"code": "x", "state": "forged"})
    assert response.status_code == 403
    assert "Inloggningen gick inte igenom" in response.content.decode()
    assert not signed_in(client)


def test_the_environment_switches_sign_on_on(tmp_path: Path) -> None:
    """What docs/sign-on.md tells an IT department to set is what the settings read."""
    environment = {
        "FULLFOLJ_DEMO": "1",
        "FULLFOLJ_OIDC_ISSUER": "https://login.kommun.example.se/oidc/",
        "FULLFOLJ_OIDC_CLIENT_ID": "fullfolj",
        "FULLFOLJ_OIDC_CLIENT_SECRET": "secret",
        "FULLFOLJ_OIDC_SCOPES": "openid email employee",
        "FULLFOLJ_OIDC_MATCH_CLAIM": "employee_number",
        "FULLFOLJ_OIDC_MFA_ACR": "http://id.elegnamnden.se/loa/1.0/loa3",
        "FULLFOLJ_LOCAL_PASSWORDS": "0",
    }
    show = (
        "from fullfolj import settings as s; print(s.FULLFOLJ_OIDC, s.FULLFOLJ_OIDC_ISSUER,"
        " s.AUTHENTICATION_BACKENDS[-1], s.OIDC_RP_SCOPES, s.FULLFOLJ_OIDC_MATCH_CLAIM,"
        " s.FULLFOLJ_OIDC_MFA_ACR, s.FULLFOLJ_LOCAL_PASSWORDS,"
        " ' '.join(map(str, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])), sep='|')"
    )
    result = run_django(tmp_path, environment, "-c", show)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "True",
        "https://login.kommun.example.se/oidc",
        "fullfolj.access.oidc.StaffOIDCBackend",
        "openid email employee",
        "employee_number",
        "['http://id.elegnamnden.se/loa/1.0/loa3']",
        "False",
        "'self' https://login.kommun.example.se",
    ]
    unset = run_django(tmp_path, {"FULLFOLJ_DEMO": "1"}, "-c", show)
    assert unset.stdout.startswith("False|")


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"aud": "fullfolj", "iss": "https://login.kommun.se/oidc"}, True),
        ({"aud": ["other", "fullfolj"], "iss": "https://login.kommun.se/oidc/"}, True),
        ({"aud": "other", "iss": "https://login.kommun.se/oidc"}, False),
        ({"iss": "https://login.kommun.se/oidc"}, False),
        ({"aud": "fullfolj", "iss": "https://evil.example/oidc"}, False),
    ],
)
@override_settings(FULLFOLJ_OIDC_ISSUER="https://login.kommun.se/oidc")
def test_an_id_token_must_be_for_this_client_from_this_issuer(
    claims: dict[str, Any], accepted: bool
) -> None:
    if accepted:
        oidc.check_issued_for_us(claims, client_id="fullfolj")
    else:
        with pytest.raises(SuspiciousOperation):
            oidc.check_issued_for_us(claims, client_id="fullfolj")
