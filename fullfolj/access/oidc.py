"""Single sign-on with OpenID Connect: the municipality's identity provider logs staff in.

mozilla-django-oidc runs the authorization-code flow (with PKCE, state and nonce); what is ours:
the provider's endpoints come from its discovery document unless set one by one, the person is
matched to a staff login by `sso.staff_user` and never created, a login the provider says used a
second factor is marked in the session, and every refusal is a page in Swedish and a log line.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from . import sso

log = logging.getLogger(__name__)

PROVIDER = "OpenID Connect"
# Where a setting left empty is found in the provider's discovery document.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# Why a sign-on was refused, set on the request by the backend for the page to explain.
REFUSAL = "fullfolj_sso_refusal"
UNKNOWN_PERSON = "unknown-person"
NOT_ACCEPTED = "not-accepted"
DECLINED = "declined"
UNREACHABLE = "unreachable"
# The provider's token and userinfo calls, a bad answer, a bad signature: all end in a refusal.
PROVIDER_ERRORS = (SuspiciousOperation, requests.RequestException, jwt.PyJWTError, KeyError)


def is_configured() -> bool:
    """Whether OpenID Connect sign-on is set up (settings.FULLFOLJ_OIDC)."""
    return bool(getattr(settings, "FULLFOLJ_OIDC", False))


@functools.cache
def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID configuration, fetched once per process (failures are not kept)."""
    response = requests.get(
        f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
    )
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was asked for.
    if document.get("issuer", "").rstrip("/") != issuer:
        raise SuspiciousOperation(f"discovery for {issuer} names issuer {document.get('issuer')}")
    return document


def provider_setting(name: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting; an endpoint left empty comes from the issuer's discovery."""
    value = getattr(settings, name, None)
    if value in (None, "") and name in DISCOVERED and settings.FULLFOLJ_OIDC_ISSUER:
        value = discovery(settings.FULLFOLJ_OIDC_ISSUER).get(DISCOVERED[name])
    if value in (None, ""):
        if default:
            return default[0]
        raise SuspiciousOperation(f"OpenID Connect: {name} is neither set nor discovered")
    return value


def asserts_second_factor(claims: dict[str, Any]) -> bool:
    """Whether the provider says this login used a second factor.

    An `amr` method (RFC 8176: "mfa", "otp", ...) in FULLFOLJ_OIDC_MFA_AMR, or an `acr` level
    in FULLFOLJ_OIDC_MFA_ACR (what e.g. a LoA 3 e-identification reports).
    """
    methods = claims.get("amr") or []
    if isinstance(methods, str):
        methods = methods.split()
    if set(methods) & set(settings.FULLFOLJ_OIDC_MFA_AMR):
        return True
    return bool(claims.get("acr")) and claims.get("acr") in settings.FULLFOLJ_OIDC_MFA_ACR


class StaffOIDCBackend(OIDCAuthenticationBackend):
    """Logs in the staff member the provider's claim names; never creates a user."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend for every login, password logins too: the provider's
        # endpoints are looked up only when a sign-on comes back (see `authenticate`).
        self.UserModel = get_user_model()
        self.id_claims: dict[str, Any] = {}

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return provider_setting(attr, *args)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> AbstractBaseUser | None:
        # Only the callback view passes a nonce; a password login is not ours.
        if request is None or "nonce" not in kwargs or not is_configured():
            return None
        try:
            self.OIDC_OP_TOKEN_ENDPOINT = self.get_settings("OIDC_OP_TOKEN_ENDPOINT")
            self.OIDC_OP_USER_ENDPOINT = self.get_settings("OIDC_OP_USER_ENDPOINT")
            self.OIDC_OP_JWKS_ENDPOINT = self.get_settings("OIDC_OP_JWKS_ENDPOINT", None)
            self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
            self.OIDC_RP_CLIENT_SECRET = self.get_settings("OIDC_RP_CLIENT_SECRET")
            self.OIDC_RP_SIGN_ALGO = self.get_settings("OIDC_RP_SIGN_ALGO", "RS256")
            self.OIDC_RP_IDP_SIGN_KEY = self.get_settings("OIDC_RP_IDP_SIGN_KEY", None)
            user: AbstractBaseUser | None = super().authenticate(request, **kwargs)
        except PROVIDER_ERRORS as error:
            log.warning("%s sign-on refused: %s", PROVIDER, error)
            return None
        return user

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        # Whether the claim that names the person is there is sso.staff_user's to judge.
        return True

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> AbstractBaseUser | None:
        check_issued_for_us(payload, client_id=self.OIDC_RP_CLIENT_ID)
        self.id_claims = payload  # the ID token's claims: amr and acr are said there
        user: AbstractBaseUser | None = super().get_or_create_user(access_token, id_token, payload)
        return user

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Any]:
        name = settings.FULLFOLJ_OIDC_MATCH_CLAIM
        value = claims.get(name) or self.id_claims.get(name)
        user = sso.staff_user(str(value) if value else None, provider=PROVIDER)
        if user is None:
            setattr(self.request, REFUSAL, UNKNOWN_PERSON)
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(pk=user.pk)

    def create_user(self, claims: dict[str, Any]) -> None:
        # Staff come from the school's own register, never from a sign-on.
        return None

    def update_user(self, user: AbstractBaseUser, claims: dict[str, Any]) -> AbstractBaseUser:
        self.request.session[sso.IDP_SECOND_FACTOR] = asserts_second_factor(
            {**claims, **self.id_claims}
        )
        return user


def check_issued_for_us(claims: dict[str, Any], *, client_id: str) -> None:
    """Refuse an ID token issued for another client or by another issuer (OpenID Connect Core
    1.0, 3.1.3.7); mozilla-django-oidc checks its signature, expiry and nonce."""
    audience = claims.get("aud") or []
    if client_id not in ([audience] if isinstance(audience, str) else audience):
        raise SuspiciousOperation(f"the ID token is for {audience!r}, not for {client_id!r}")
    issuer = settings.FULLFOLJ_OIDC_ISSUER
    if issuer and str(claims.get("iss", "")).rstrip("/") != issuer:
        raise SuspiciousOperation(f"the ID token is from {claims.get('iss')!r}, not {issuer!r}")


def refuse(request: HttpRequest, reason: str) -> HttpResponse:
    """The page that says why the sign-on did not go through (403; 502 if unreachable)."""
    log.warning("%s sign-on refused (%s)", PROVIDER, reason)
    status = 502 if reason == UNREACHABLE else 403
    return render(request, "access/sso_refused.html", {"reason": reason}, status=status)


class SignOnStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's login, remembering state, nonce and PKCE verifier."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not the parent's: it would read the endpoints before `get` can answer that the
        # provider is not reachable.
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return provider_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not is_configured():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except PROVIDER_ERRORS as error:
            log.warning("%s provider not reachable: %s", PROVIDER, error)
            return refuse(request, UNREACHABLE)
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        response: HttpResponse = super().get(request)
        return response


class SignOnCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: a login, or a refusal page."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return provider_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not is_configured():
            raise Http404
        if self.state_has_expired(request):
            return refuse(request, NOT_ACCEPTED)
        try:
            response: HttpResponse = super().get(request)
        except SuspiciousOperation as error:  # a state this browser never sent
            log.warning("%s callback: %s", PROVIDER, error)
            return refuse(request, NOT_ACCEPTED)
        return response

    @staticmethod
    def state_has_expired(request: HttpRequest) -> bool:
        """Whether the answer comes back later than FULLFOLJ_OIDC_STATE_MINUTES (then spent)."""
        states = request.session.get("oidc_states", {})
        state = request.GET.get("state", "")
        if state not in states:
            return False
        age = time.time() - states[state].get("added_on", 0)
        if age <= settings.FULLFOLJ_OIDC_STATE_MINUTES * 60:
            return False
        del states[state]
        request.session["oidc_states"] = states
        return True

    def login_success(self) -> HttpResponse:
        # A login replacing another person's flushes the session: keep what the backend found.
        second_factor = bool(self.request.session.get(sso.IDP_SECOND_FACTOR, False))
        response: HttpResponse = super().login_success()
        self.request.session[sso.IDP_SECOND_FACTOR] = second_factor
        return response

    def login_failure(self) -> HttpResponse:
        if self.request.GET.get("error"):  # cancelled or refused at the provider (RFC 6749 4.1.2.1)
            return refuse(self.request, DECLINED)
        return refuse(self.request, getattr(self.request, REFUSAL, NOT_ACCEPTED))


def provider_logout_url(request: HttpRequest) -> str | None:
    """The provider's end-session address for this session's sign-on, if it has one.

    OpenID Connect RP-Initiated Logout 1.0: with the ID token as hint, the provider ends its own
    session and sends the browser back to our login page.
    """
    id_token = request.session.get("oidc_id_token")
    if not (is_configured() and id_token and settings.FULLFOLJ_OIDC_ISSUER):
        return None
    try:
        endpoint = discovery(settings.FULLFOLJ_OIDC_ISSUER).get("end_session_endpoint")
    except PROVIDER_ERRORS:
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}?{query}"
