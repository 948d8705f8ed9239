"""Single sign-on with OpenID Connect, end to end in Chromium against a real provider.

The provider is tests/idp/oidc (django-oidc-provider), started on 127.0.0.1 in a subprocess with
its own database; Fullfölj runs in the live server, pointed at it through the settings.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from playwright.sync_api import Page, Route

from fullfolj.access import sso
from fullfolj.settings import origin
from tests.browser.conftest import assert_accessible, follow
from tests.idp.oidc.provider import Provider, running_provider

pytestmark = pytest.mark.browser

PASSWORD = "idp-password"  # noqa: S105
PEOPLE = [
    {"username": "m.mentor", "email": "mentor@testkommun.se", "employee_number": "10001"},
    {
        "username": "n.nurse",
        "email": "nurse@testkommun.se",
        "employee_number": "40117",
        "second_factor": True,
    },
    {"username": "s.stranger", "email": "stranger@testkommun.se", "employee_number": "99999"},
]
SIGN_ON = "Logga in med kommunens konto"


@pytest.fixture(scope="session")
def oidc_provider(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider, migrated and seeded once per test session."""
    workdir: Path = tmp_path_factory.mktemp("oidc_provider")
    with running_provider(
        workdir,
        redirect_uri=live_server.url + reverse("access:oidc-callback"),
        logout_uri=live_server.url + reverse("login"),
        people=[{**person, "password": PASSWORD} for person in PEOPLE],
    ) as provider:
        yield provider


@pytest.fixture
def sign_on(settings: Any, oidc_provider: Provider, live_cast: SimpleNamespace) -> SimpleNamespace:
    """Fullfölj set up for the provider, and the cast's mentor and nurse known to it."""
    settings.FULLFOLJ_OIDC = True
    settings.FULLFOLJ_OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = oidc_provider.client_secret
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(origin(oidc_provider.issuer))
    settings.CONTENT_SECURITY_POLICY = policy  # as settings.py adds it for the issuer
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "fullfolj.access.oidc.StaffOIDCBackend",
    ]
    live_cast.mentor.email = "mentor@testkommun.se"
    live_cast.mentor.save()
    live_cast.nurse.email = "nurse@testkommun.se"
    live_cast.nurse.employee_number = "40117"
    live_cast.nurse.save()
    live_cast.issuer = oidc_provider.issuer
    return live_cast


def log_in_at_provider(page: Page, live_server: Any, username: str, *, allow: bool = True) -> None:
    """From Fullfölj's login page to the provider's, log in there and allow the access."""
    page.goto(live_server.url + reverse("login"))
    page.get_by_role("link", name=SIGN_ON).click()
    page.fill("#idp-username", username)
    page.fill("#idp-password", PASSWORD)
    page.get_by_role("button", name="Logga in hos kommunen").click()
    if allow:
        allow_access(page)


def allow_access(page: Page) -> None:
    """The provider asks for consent on every login (the client requires it)."""
    page.get_by_role("button", name="Authorize").click()


def is_answer(url: str) -> bool:
    return "/logga-in/kommunkonto/svar/" in url


def held_answer(page: Page) -> str:
    """Allow the access at the provider, but keep its answer from reaching Fullfölj.

    The answer is the provider's redirect to the callback; a route sees no redirects, so it
    takes the provider's own response and keeps its Location.
    """
    held: list[str] = []

    def hold(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        held.append(response.headers["location"])
        route.fulfill(status=200, content_type="text/plain", body="held")

    page.route("**/openid/authorize**", hold)
    allow_access(page)
    page.get_by_text("held").wait_for()
    page.unroute("**/openid/authorize**")
    assert is_answer(held[0])
    return held[0]


def session_of(page: Page) -> dict[str, Any]:
    keys = [c["value"] for c in page.context.cookies() if c["name"] == "sessionid"]
    return SessionStore(session_key=keys[0]).load() if keys else {}


def test_a_staff_member_signs_on_and_lands_on_their_home(
    page: Page, live_server: Any, sign_on: SimpleNamespace
) -> None:
    page.goto(live_server.url + reverse("login"))
    assert_accessible(page)
    log_in_at_provider(page, live_server, "m.mentor")
    page.wait_for_url(live_server.url + reverse("elevakt:home"))
    assert page.locator("header .who").inner_text().startswith(sign_on.mentor.full_name)
    session = session_of(page)
    assert session["_auth_user_id"] == str(sign_on.mentor.user.pk)
    assert session[sso.IDP_SECOND_FACTOR] is False  # a password alone at the provider


def test_the_providers_second_factor_is_kept_in_the_session(
    page: Page, live_server: Any, sign_on: SimpleNamespace
) -> None:
    log_in_at_provider(page, live_server, "n.nurse")
    page.wait_for_url(live_server.url + reverse("elevakt:home"))
    session = session_of(page)
    assert session["_auth_user_id"] == str(sign_on.nurse.user.pk)
    assert session[sso.IDP_SECOND_FACTOR] is True


def test_the_employee_number_can_name_the_staff_member(
    page: Page, live_server: Any, sign_on: SimpleNamespace, settings: Any
) -> None:
    settings.FULLFOLJ_SSO_MATCH = "employee_number"
    settings.FULLFOLJ_OIDC_MATCH_CLAIM = "employee_number"
    settings.OIDC_RP_SCOPES = "openid employee"
    sign_on.nurse.email = ""
    sign_on.nurse.save()
    log_in_at_provider(page, live_server, "n.nurse")
    page.wait_for_url(live_server.url + reverse("elevakt:home"))
    assert session_of(page)["_auth_user_id"] == str(sign_on.nurse.user.pk)


def test_a_person_without_a_staff_record_is_refused_and_nothing_is_created(
    page: Page, live_server: Any, sign_on: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    users = User.objects.count()
    with caplog.at_level(logging.WARNING):
        log_in_at_provider(page, live_server, "s.stranger")
        page.get_by_role("heading", name="Inloggningen gick inte igenom").wait_for()
    assert "hör inte till någon personal i Fullfölj" in page.content()
    assert_accessible(page)
    assert "_auth_user_id" not in session_of(page)
    assert User.objects.count() == users
    assert "stranger@testkommun.se" in caplog.text


def test_a_replayed_answer_is_refused(
    page: Page, live_server: Any, sign_on: SimpleNamespace
) -> None:
    answers: list[str] = []
    page.on("request", lambda r: answers.append(r.url))
    log_in_at_provider(page, live_server, "m.mentor")
    page.wait_for_url(live_server.url + reverse("elevakt:home"))
    follow(page, page.get_by_role("button", name="Logga ut"))
    page.wait_for_url(live_server.url + reverse("login"))
    assert "_auth_user_id" not in session_of(page)
    # Logged out at the provider too, with the ID token as hint.
    assert any(url.startswith(f"{sign_on.issuer}/end-session?id_token_hint=") for url in answers)
    answers[:] = [url for url in answers if is_answer(url)]

    response = page.goto(answers[0])
    assert response is not None and response.status == 403
    assert "redan använt" in page.content()
    assert "_auth_user_id" not in session_of(page)


@pytest.mark.parametrize("part", ["code", "state"])
def test_a_tampered_answer_is_refused(
    page: Page, live_server: Any, sign_on: SimpleNamespace, part: str
) -> None:
    log_in_at_provider(page, live_server, "m.mentor", allow=False)
    address = urlsplit(held_answer(page))
    query = {k: v[0] for k, v in parse_qs(address.query).items()}
    query[part] = query[part][:-2] + "xx"

    response = page.goto(address._replace(query=urlencode(query)).geturl())
    assert response is not None and response.status == 403
    assert "ändrat" in page.content()
    assert "_auth_user_id" not in session_of(page)


def test_declining_at_the_provider_is_refused(
    page: Page, live_server: Any, sign_on: SimpleNamespace
) -> None:
    log_in_at_provider(page, live_server, "m.mentor", allow=False)
    page.get_by_role("button", name="Decline").click()
    page.get_by_role("heading", name="Inloggningen gick inte igenom").wait_for()
    assert "avbröts eller nekades" in page.content()
    assert "_auth_user_id" not in session_of(page)


def test_an_answer_after_the_time_limit_is_refused(
    page: Page, live_server: Any, sign_on: SimpleNamespace, settings: Any
) -> None:
    settings.FULLFOLJ_OIDC_STATE_MINUTES = 0  # any answer comes too late
    log_in_at_provider(page, live_server, "m.mentor")
    page.get_by_role("heading", name="Inloggningen gick inte igenom").wait_for()
    assert "för gammalt" in page.content()
    assert "_auth_user_id" not in session_of(page)


def test_without_local_passwords_only_the_municipalitys_account_is_offered(
    page: Page, live_server: Any, sign_on: SimpleNamespace, settings: Any
) -> None:
    settings.FULLFOLJ_LOCAL_PASSWORDS = False
    page.goto(live_server.url + reverse("login"))
    assert page.locator("#id_password").count() == 0
    assert_accessible(page)
    log_in_at_provider(page, live_server, "m.mentor")
    page.wait_for_url(live_server.url + reverse("elevakt:home"))
