"""SAML 2 single sign-on in Chromium, against a real pysaml2 IdP (tests/idp/saml).

Fullfölj runs at http://localhost:PORT and the IdP at http://127.0.0.1:PORT: two sites, so the
IdP's answer reaches Fullfölj as a cross-site POST, as it does from a municipality's IdP.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, Request

from fullfolj.access import sso
from tests.browser.conftest import assert_accessible, follow
from tests.idp.saml import PASSWORD, RunningIdP, running_idp

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdP]:
    with running_idp(tmp_path_factory.mktemp("saml-idp")) as running:
        yield running


@pytest.fixture
def saml(idp: RunningIdP, live_server: Any, live_cast: SimpleNamespace, settings: Any) -> Any:
    """Fullfölj configured for the IdP, and its metadata fetched and handed to the IdP."""
    for name, value in idp.fullfolj_settings(live_server.url).items():
        setattr(settings, name, value)
    with urllib.request.urlopen(live_server.url + reverse("saml:metadata")) as metadata:  # noqa: S310
        idp.trust_sp(metadata.read())
    live_cast.mentor.email = "mentor@testkommun.se"
    live_cast.mentor.save()
    return live_server


def log_in_at_idp(page: Page, live_server: Any, idp: RunningIdP, username: str) -> None:
    """From Fullfölj's login page, through the IdP's form, to wherever Fullfölj sends us."""
    page.goto(live_server.url + reverse("login"))
    with page.expect_navigation():
        follow(page, page.get_by_role("link", name="Logga in med kommunens konto"))
    assert page.url.startswith(idp.url + "/sso/redirect?")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation(url=lambda url: url.startswith(live_server.url)):
        page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state("load")


def session_of(context: BrowserContext) -> SessionStore | None:
    """The Django session the browser holds, if any."""
    for cookie in context.cookies():
        if cookie["name"] == "sessionid":
            return SessionStore(session_key=cookie["value"])
    return None


def signed_in(page: Page, live_server: Any) -> bool:
    page.goto(live_server.url + reverse("elevakt:home"))
    return not page.url.startswith(live_server.url + reverse("login"))


def test_a_staff_member_logs_in_with_the_municipality_account(page, saml, idp, live_cast):
    page.goto(saml.url + reverse("login"))
    assert_accessible(page)
    log_in_at_idp(page, saml, idp, "mentor")
    assert page.url == saml.url + reverse("elevakt:home")
    assert live_cast.mentor.full_name in page.inner_text("header")
    assert_accessible(page)
    session = session_of(page.context)
    assert session is not None and session[sso.IDP_SECOND_FACTOR] is False


def test_the_idp_s_second_factor_sets_the_session_flag(page, saml, idp):
    log_in_at_idp(page, saml, idp, "mfa")
    assert page.url == saml.url + reverse("elevakt:home")
    session = session_of(page.context)
    assert session is not None and session[sso.IDP_SECOND_FACTOR] is True


def test_an_unknown_person_gets_the_refusal_page(page, saml, idp, caplog):
    users = get_user_model().objects.count()
    log_in_at_idp(page, saml, idp, "okand")
    assert page.url == saml.url + reverse("saml:acs")
    assert page.get_by_role("heading", name="Du kunde inte loggas in").is_visible()
    assert "inte kopplat till en inloggning i Fullfölj" in page.inner_text("main")
    assert_accessible(page)
    assert get_user_model().objects.count() == users
    assert "okand@testkommun.se" in caplog.text
    assert not signed_in(page, saml)


def test_an_expired_assertion_is_refused(page, saml, idp, caplog):
    log_in_at_idp(page, saml, idp, "utgangen")
    assert page.url == saml.url + reverse("saml:acs")
    assert "hade gått ut eller redan använts" in page.inner_text("main")
    assert "SAML sign-on refused: ResponseLifetimeExceed" in caplog.text
    assert not signed_in(page, saml)


def test_a_replayed_assertion_is_refused(page, saml, idp, browser: Browser, caplog):
    posted: list[Request] = []
    page.on(
        "request",
        lambda request: posted.append(request) if request.url.endswith("/saml2/acs/") else None,
    )
    log_in_at_idp(page, saml, idp, "mentor")
    assert page.url == saml.url + reverse("elevakt:home")
    [answer] = posted
    form = dict(urllib.parse.parse_qsl(answer.post_data or ""))
    assert "SAMLResponse" in form

    # Someone who copied the answer posts it from another browser.
    other = browser.new_context()
    try:
        replay = other.request.post(answer.url, form=form, max_redirects=0)
        assert replay.status == 403
        assert "hade gått ut eller redan använts" in replay.text()
        other_page = other.new_page()
        assert not signed_in(other_page, saml)
    finally:
        other.close()

    # The same browser, logged out, posts it again.
    page.goto(saml.url + reverse("elevakt:home"))
    with page.expect_navigation():
        follow(page, page.get_by_role("button", name="Logga ut"))
    replay = page.request.post(answer.url, form=form, max_redirects=0)
    assert replay.status == 403
    assert not signed_in(page, saml)
    assert caplog.text.count("SAML sign-on refused: UnsolicitedResponse") == 2
