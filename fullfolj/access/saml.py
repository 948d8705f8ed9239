"""Single sign-on with SAML 2: Fullfölj as a service provider to the municipality's identity
provider (ADFS, Azure AD, Shibboleth), through djangosaml2 and pysaml2.

The IdP's signed answer names a person by an attribute (FULLFOLJ_SAML_MATCH_ATTRIBUTE); the
backend hands its value to `sso.staff_user`, which matches it to a staff login or refuses. Nobody
is created and nothing about the user is written. An answer that is unsigned, expired, meant for
another request, or already used is refused by pysaml2 before the backend sees it; each refusal
gets a page saying why in Swedish, and a line in the log.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import saml2
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AbstractBaseUser
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend
from saml2.config import SPConfig
from saml2.response import StatusError, UnsolicitedResponse
from saml2.sigver import SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from . import sso
from .backends import StaffBackend

log = logging.getLogger(__name__)

# The IdP's metadata (URL or file) is read when the configuration is built, then again after
# this long, so a certificate the IdP rolls over is picked up without a restart.
METADATA_MAX_AGE_SECONDS = 60 * 60
# Clocks on two servers differ a little; an answer is valid this much either side of its times.
CLOCK_SKEW_SECONDS = 60
BACKEND = "fullfolj.access.saml.SamlBackend"
SIGNED = {"assertion": (True, False), "response": (False, True), "both": (True, True)}

_configs: dict[tuple[Any, ...], tuple[float, SPConfig]] = {}


def config_dict() -> dict[str, Any]:
    """The pysaml2 service-provider configuration, from the FULLFOLJ_SAML_* settings."""
    base_url = settings.FULLFOLJ_SAML_BASE_URL.rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "FULLFOLJ_SAML_BASE_URL must be Fullfölj's address, e.g. https://fullfolj.kommun.se"
        )
    if settings.FULLFOLJ_SAML_SIGNED not in SIGNED:
        raise ImproperlyConfigured(
            f"FULLFOLJ_SAML_SIGNED is {settings.FULLFOLJ_SAML_SIGNED!r}; "
            f"it must be one of: {', '.join(SIGNED)}"
        )
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise ImproperlyConfigured("SAML needs the xmlsec1 program: apt-get install xmlsec1")
    assertions_signed, responses_signed = SIGNED[settings.FULLFOLJ_SAML_SIGNED]
    metadata: dict[str, list[Any]]
    if settings.FULLFOLJ_SAML_IDP_METADATA_FILE:
        metadata = {"local": [settings.FULLFOLJ_SAML_IDP_METADATA_FILE]}
    else:
        metadata = {"remote": [{"url": settings.FULLFOLJ_SAML_IDP_METADATA_URL}]}
    key_file, cert_file = settings.FULLFOLJ_SAML_KEY_FILE, settings.FULLFOLJ_SAML_CERT_FILE
    if bool(key_file) != bool(cert_file):
        raise ImproperlyConfigured("Set both FULLFOLJ_SAML_KEY_FILE and FULLFOLJ_SAML_CERT_FILE.")
    config: dict[str, Any] = {
        "entityid": settings.FULLFOLJ_SAML_ENTITY_ID or base_url + reverse("saml:metadata"),
        "metadata": metadata,
        "xmlsec_binary": xmlsec,
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        # ADFS and Azure AD name their claims by URI with no format pysaml2 knows: keep them as
        # named, so FULLFOLJ_SAML_MATCH_ATTRIBUTE can be such a URI.
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "Fullfölj",
                "endpoints": {
                    "assertion_consumer_service": [
                        (base_url + reverse("saml:acs"), saml2.BINDING_HTTP_POST)
                    ],
                },
                # Only answers to a login we started: an answer nobody asked for, or a second
                # copy of one already used, matches no request in the SAML session.
                "allow_unsolicited": False,
                "want_assertions_signed": assertions_signed,
                "want_response_signed": responses_signed,
                "authn_requests_signed": bool(key_file),
            }
        },
    }
    if key_file:
        config["key_file"] = key_file
        config["cert_file"] = cert_file
        config["encryption_keypairs"] = [{"key_file": key_file, "cert_file": cert_file}]
    return config


def check_configuration(**kwargs: Any) -> list[checks.CheckMessage]:
    """`fullfolj check`: a SAML configuration that cannot work says so before anyone logs in."""
    if not settings.FULLFOLJ_SAML:
        return []
    try:
        config_dict()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="fullfolj.saml.E001")]
    problems: list[checks.CheckMessage] = []
    files = [
        settings.FULLFOLJ_SAML_IDP_METADATA_FILE,
        settings.FULLFOLJ_SAML_KEY_FILE,
        settings.FULLFOLJ_SAML_CERT_FILE,
    ]
    for name in filter(None, files):
        if not Path(name).is_file():
            problems.append(checks.Error(f"SAML: no file {name}", id="fullfolj.saml.E002"))
    if not settings.SESSION_COOKIE_SECURE:
        problems.append(
            checks.Warning(
                "SAML without SECURE_COOKIES=1: browsers drop the cookie that carries a SAML "
                "login across from the IdP unless it comes over HTTPS (or from localhost).",
                id="fullfolj.saml.W001",
            )
        )
    return problems


def sp_config(request: HttpRequest | None = None) -> SPConfig:
    """djangosaml2's configuration loader: the SPConfig, built once and kept for a while."""
    config = config_dict()
    key = tuple(sorted((name, repr(value)) for name, value in config.items()))
    loaded = _configs.get(key)
    if loaded is None or time.monotonic() - loaded[0] > METADATA_MAX_AGE_SECONDS:
        sp = SPConfig()
        sp.load(config)
        loaded = _configs[key] = (time.monotonic(), sp)
    return loaded[1]


def asserts_second_factor(session_info: dict[str, Any]) -> bool:
    """Whether the IdP says the login used a second factor: an authentication context listed
    in FULLFOLJ_SAML_MFA_CONTEXTS (the REFEDS MFA profile, the Swedish LoA 3)."""
    contexts = {context for context, _authorities, _instant in session_info.get("authn_info", [])}
    return bool(contexts & set(settings.FULLFOLJ_SAML_MFA_CONTEXTS))


class SamlBackend(Saml2Backend, StaffBackend):
    """The staff login the IdP's verified answer names; never creates or updates a user.

    StaffBackend's `get_user` loads the staff record with the user on every later request.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        session_info: dict[str, Any] | None = None,
        attribute_mapping: Any = None,
        create_unknown_user: bool = False,
        assertion_info: Any = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if session_info is None:
            return None  # a password login: StaffBackend's
        values = session_info.get("ava", {}).get(settings.FULLFOLJ_SAML_MATCH_ATTRIBUTE) or [None]
        return sso.staff_user(values[0], provider="SAML")


def refusal(exception: Exception | None) -> str:
    """Why the answer was refused, in words for the person at the login page."""
    if isinstance(exception, PermissionDenied):
        return _(
            "Your account at the municipality is not linked to a staff login in Fullfölj. "
            "Ask your school's administrator to add your e-mail address or employee number "
            "to your staff record."
        )
    if isinstance(exception, ResponseLifetimeExceed | ToEarly | UnsolicitedResponse):
        return _(
            "The answer from the municipality's login service had expired or had already "
            "been used. Start again from the login page."
        )
    if isinstance(exception, StatusError):
        return _("The municipality's login service did not log you in.")
    if isinstance(exception, SignatureError):
        return _("The answer from the municipality's login service could not be verified.")
    return _("The answer from the municipality's login service could not be used.")


def when_configured(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The SAML pages exist only when SAML is configured."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.FULLFOLJ_SAML:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


class AssertionConsumerServiceView(saml_views.AssertionConsumerServiceView):
    """Where the IdP posts its answer (csrf-exempt: it comes from the IdP's page)."""

    def handle_acs_failure(
        self,
        request: HttpRequest,
        exception: Exception | None = None,
        status: int = 403,
        **kwargs: Any,
    ) -> HttpResponse:
        log.warning("SAML sign-on refused: %s", repr(exception))
        context = {"reason": refusal(exception)}
        return render(request, "access/saml_refused.html", context, status=403)

    def authenticate_user(
        self,
        request: HttpRequest,
        session_info: dict[str, Any],
        attribute_mapping: Any,
        create_unknown_user: Any,
        assertion_info: Any,
    ) -> Any:
        """djangosaml2's, without Django's `authenticate()`: login throttling is for guessed
        passwords, and a signed answer from the IdP is not one. Through `authenticate()`, a
        school's staff without a Fullfölj login, refused one by one behind the school's single
        address, would lock that address out of the password form."""
        user: Any = SamlBackend().authenticate(request, session_info=session_info)
        if user is None:
            raise PermissionDenied("no staff login for the IdP's person")
        auth.login(request, user, backend=BACKEND)
        self.post_login_hook(request, user, session_info)
        return user

    def post_login_hook(
        self, request: HttpRequest, user: Any, session_info: dict[str, Any]
    ) -> None:
        # Set on every login, never left from an earlier one in the same session.
        request.session[sso.IDP_SECOND_FACTOR] = asserts_second_factor(session_info)


app_name = "saml"
urlpatterns = [
    path("login/", when_configured(saml_views.LoginView.as_view()), name="login"),
    path("acs/", when_configured(AssertionConsumerServiceView.as_view()), name="acs"),
    path("metadata/", when_configured(saml_views.MetadataView.as_view()), name="metadata"),
]
