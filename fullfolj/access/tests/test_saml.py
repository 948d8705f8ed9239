"""SAML 2 single sign-on: the backend on its own, and whole logins against a real pysaml2 IdP
(tests/idp/saml) through Django's test client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from fullfolj.access import saml, sso
from fullfolj.access.saml import SamlBackend
from tests.idp.saml import REFEDS_MFA, IdPSession, RunningIdP, running_idp

BASE_URL = "http://testserver"


def session_info(attributes: dict[str, list[str]], context: str = "") -> dict[str, Any]:
    return {"ava": attributes, "authn_info": [(context, [], "")], "issuer": "https://idp"}


@pytest.fixture
def mentor(cast: SimpleNamespace) -> AbstractBaseUser:
    cast.mentor.email = "mentor@testkommun.se"
    cast.mentor.employee_number = "40117"
    cast.mentor.save()
    return cast.mentor.user


# The backend on its own.


def test_the_backend_finds_the_staff_login_the_attribute_names(rf, mentor, settings):
    settings.FULLFOLJ_SAML_MATCH_ATTRIBUTE = "mail"
    info = session_info({"mail": ["Mentor@testkommun.se"], "employeeNumber": ["1"]})
    assert SamlBackend().authenticate(rf.get("/"), session_info=info) == mentor


def test_the_backend_matches_the_employee_number_when_configured(rf, mentor, settings):
    settings.FULLFOLJ_SSO_MATCH = "employee_number"
    settings.FULLFOLJ_SAML_MATCH_ATTRIBUTE = "employeeNumber"
    info = session_info({"mail": ["someone.else@testkommun.se"], "employeeNumber": ["40117"]})
    assert SamlBackend().authenticate(rf.get("/"), session_info=info) == mentor


def test_the_backend_creates_and_changes_nobody(rf, mentor, settings, caplog):
    settings.FULLFOLJ_SAML_MATCH_ATTRIBUTE = "mail"
    users = list(get_user_model().objects.values_list("pk", "username", "email", "last_name"))
    unknown = session_info({"mail": ["okand@testkommun.se"], "sn": ["Okänd"]})
    assert SamlBackend().authenticate(rf.get("/"), session_info=unknown) is None
    # Nor on a match does it write the IdP's attributes to the user.
    known = session_info({"mail": ["mentor@testkommun.se"], "sn": ["Annat"], "uid": ["x"]})
    assert SamlBackend().authenticate(rf.get("/"), session_info=known) == mentor
    assert (
        list(get_user_model().objects.values_list("pk", "username", "email", "last_name")) == users
    )
    assert "okand@testkommun.se" in caplog.text


def test_the_backend_refuses_an_answer_without_the_attribute(rf, mentor, settings, caplog):
    settings.FULLFOLJ_SAML_MATCH_ATTRIBUTE = "mail"
    info = session_info({"employeeNumber": ["40117"]})
    assert SamlBackend().authenticate(rf.get("/"), session_info=info) is None
    assert "missing" in caplog.text


def test_the_backend_leaves_password_logins_alone(rf, mentor):
    assert SamlBackend().authenticate(rf.get("/"), username=mentor.username, password="x") is None


@pytest.mark.parametrize(
    ("context", "second_factor"),
    [
        (REFEDS_MFA, True),
        ("http://id.elegnamnden.se/loa/1.0/loa3", True),
        ("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", False),
        ("", False),
    ],
)
def test_the_authentication_context_says_whether_a_second_factor_was_used(context, second_factor):
    assert saml.asserts_second_factor(session_info({}, context)) is second_factor


def test_the_second_factor_contexts_are_configurable(settings):
    settings.FULLFOLJ_SAML_MFA_CONTEXTS = ["urn:kommun:mfa"]
    assert saml.asserts_second_factor(session_info({}, "urn:kommun:mfa"))
    assert not saml.asserts_second_factor(session_info({}, REFEDS_MFA))


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("FULLFOLJ_SAML_BASE_URL", "", "FULLFOLJ_SAML_BASE_URL"),
        ("FULLFOLJ_SAML_SIGNED", "none", "assertion, response, both"),
        ("FULLFOLJ_SAML_KEY_FILE", "/etc/fullfolj/sp.key", "FULLFOLJ_SAML_CERT_FILE"),
    ],
)
def test_a_wrong_configuration_says_what_to_set(settings, setting, value, message):
    settings.FULLFOLJ_SAML_BASE_URL = "https://fullfolj.testkommun.se"
    settings.FULLFOLJ_SAML_IDP_METADATA_URL = "https://idp.testkommun.se/metadata"
    setattr(settings, setting, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        saml.config_dict()


def test_an_unsigned_answer_is_never_accepted(settings):
    settings.FULLFOLJ_SAML_BASE_URL = "https://fullfolj.testkommun.se"
    settings.FULLFOLJ_SAML_IDP_METADATA_URL = "https://idp.testkommun.se/metadata"
    for signed in saml.SIGNED:
        settings.FULLFOLJ_SAML_SIGNED = signed
        sp = saml.config_dict()["service"]["sp"]
        assert sp["want_assertions_signed"] or sp["want_response_signed"]
        assert sp["allow_unsolicited"] is False


# Off unless configured (the default).


def test_without_configuration_there_is_no_saml(client):
    assert client.get(reverse("saml:metadata")).status_code == 404
    assert client.get(reverse("saml:login")).status_code == 404
    assert client.post(reverse("saml:acs"), {"SAMLResponse": "x"}).status_code == 404
    login_page = client.get(reverse("login")).content.decode()
    assert reverse("saml:login") not in login_page


# Whole logins against the IdP.


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdP]:
    with running_idp(tmp_path_factory.mktemp("saml-idp")) as running:
        yield running


@pytest.fixture
def configured(idp: RunningIdP, settings: Any, client: Client) -> RunningIdP:
    for name, value in idp.fullfolj_settings(BASE_URL).items():
        setattr(settings, name, value)
    metadata = client.get(reverse("saml:metadata"))
    assert metadata.status_code == 200
    idp.trust_sp(metadata.content)
    return idp


def answer_from_idp(client: Client, idp: RunningIdP, username: str, next: str = "") -> dict:
    """Start at Fullfölj's SAML login, log in at the IdP, return what it posts back."""
    start = client.get(reverse("saml:login") + (f"?next={next}" if next else ""))
    assert start.status_code == 302, start.content
    return IdPSession(idp).log_in(start["Location"], username)


def signed_in_user(client: Client) -> Any:
    response = client.get(reverse("elevakt:home"))
    return response.wsgi_request.user if response.status_code == 200 else None


def test_the_login_page_offers_the_municipality_account(configured, client):
    page = client.get(reverse("login") + "?next=/elever/").content.decode()
    assert f'href="{reverse("saml:login")}?next=/elever/"' in page
    assert "Logga in med kommunens konto" in page


def test_the_metadata_names_the_acs_and_our_certificate(configured, client):
    metadata = client.get(reverse("saml:metadata")).content.decode()
    assert f'entityID="{BASE_URL}/saml2/metadata/"' in metadata
    assert f'Location="{BASE_URL}/saml2/acs/"' in metadata
    assert "X509Certificate" in metadata
    assert 'AuthnRequestsSigned="true"' in metadata


def test_a_staff_member_logs_in_through_the_idp(configured, client, mentor):
    posted = answer_from_idp(client, configured, "mentor", next="/narvaro/")
    response = client.post(reverse("saml:acs"), posted)
    assert response.status_code == 302
    assert response["Location"] == "/narvaro/"
    assert signed_in_user(client) == mentor
    assert client.session[sso.IDP_SECOND_FACTOR] is False


def test_the_idp_s_second_factor_is_kept_in_the_session(configured, client, mentor):
    # Two logins started side by side (two tabs): one with a second factor, one without.
    with_mfa = answer_from_idp(client, configured, "mfa")
    without = answer_from_idp(client, configured, "mentor")
    response = client.post(reverse("saml:acs"), with_mfa)
    assert response.status_code == 302
    assert response["Location"] == reverse("elevakt:home")
    assert client.session[sso.IDP_SECOND_FACTOR] is True
    # The later login without it, in the same session, does not inherit it.
    assert client.post(reverse("saml:acs"), without).status_code == 302
    assert signed_in_user(client) == mentor
    assert client.session[sso.IDP_SECOND_FACTOR] is False


def test_an_unknown_person_is_refused_and_nothing_is_created(configured, client, mentor, caplog):
    users = get_user_model().objects.count()
    with caplog.at_level(logging.WARNING):
        response = client.post(reverse("saml:acs"), answer_from_idp(client, configured, "okand"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "inte kopplat till en inloggning i Fullfölj" in page
    assert get_user_model().objects.count() == users
    assert signed_in_user(client) is None
    assert "okand@testkommun.se" in caplog.text


def test_a_replayed_answer_is_refused(configured, client, mentor, caplog):
    posted = answer_from_idp(client, configured, "mentor")
    assert client.post(reverse("saml:acs"), posted).status_code == 302
    client.logout()
    # The same answer again, in the same browser, and in another one.
    again = client.post(reverse("saml:acs"), posted)
    elsewhere = Client()
    copied = elsewhere.post(reverse("saml:acs"), posted)
    for response in (again, copied):
        assert response.status_code == 403
        assert "hade gått ut eller redan använts" in response.content.decode()
    assert signed_in_user(client) is None
    assert signed_in_user(elsewhere) is None
    assert "SAML sign-on refused: UnsolicitedResponse" in caplog.text


def test_an_expired_answer_is_refused(configured, client, mentor, caplog):
    response = client.post(reverse("saml:acs"), answer_from_idp(client, configured, "utgangen"))
    assert response.status_code == 403
    assert "hade gått ut eller redan använts" in response.content.decode()
    assert signed_in_user(client) is None
    assert "SAML sign-on refused: ResponseLifetimeExceed" in caplog.text


def test_a_tampered_answer_is_refused(configured, client, mentor, caplog):
    import base64

    posted = answer_from_idp(client, configured, "okand")
    xml = base64.b64decode(posted["SAMLResponse"]).replace(
        b"okand@testkommun.se", b"mentor@testkommun.se"
    )
    posted["SAMLResponse"] = base64.b64encode(xml).decode()
    response = client.post(reverse("saml:acs"), posted)
    assert response.status_code == 403
    assert signed_in_user(client) is None
    assert "SAML sign-on refused" in caplog.text


def test_an_answer_to_another_service_s_request_is_refused(configured, client, mentor):
    # The answer went to someone else's login: this browser never asked for it.
    posted = answer_from_idp(Client(), configured, "mentor")
    response = client.post(reverse("saml:acs"), posted)
    assert response.status_code == 403
    assert signed_in_user(client) is None


def test_the_system_check_names_what_is_wrong(settings, tmp_path):
    assert saml.check_configuration() == []  # not configured: nothing to say
    settings.FULLFOLJ_SAML = True
    settings.FULLFOLJ_SAML_BASE_URL = "https://fullfolj.testkommun.se"
    settings.FULLFOLJ_SAML_IDP_METADATA_FILE = str(tmp_path / "idp.xml")
    settings.SESSION_COOKIE_SECURE = False
    assert {message.id for message in saml.check_configuration()} == {
        "fullfolj.saml.E002",  # the metadata file is not there
        "fullfolj.saml.W001",  # without HTTPS the browser drops the SAML cookie
    }
    (tmp_path / "idp.xml").write_text("<EntityDescriptor/>")
    settings.SESSION_COOKIE_SECURE = True
    assert saml.check_configuration() == []
    settings.FULLFOLJ_SAML_SIGNED = "no"
    assert [message.id for message in saml.check_configuration()] == ["fullfolj.saml.E001"]


def test_refusals_do_not_lock_the_school_out_of_the_password_form(
    configured, client, mentor, settings
):
    # Staff without a Fullfölj login try the municipality account, one after another, from the
    # school's one address: a signed answer is no guessed password, so nothing is counted.
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        response = client.post(reverse("saml:acs"), answer_from_idp(client, configured, "okand"))
        assert response.status_code == 403
    response = client.post(reverse("login"), {"username": "mentor", "password": "pw-mentor"})
    assert response.status_code == 302
    assert signed_in_user(client) == mentor
