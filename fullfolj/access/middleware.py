"""Signed-in pages: the session's idle timeout, and no copies in caches; the SAML login's
cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from djangosaml2.middleware import SamlSessionMiddleware

SEEN = "fullfolj_seen"  # when the session was last pushed forward (Unix time)
REFRESH_SECONDS = 5 * 60


def mark_seen(session: SessionBase) -> None:
    """Change the session, so it is saved and expires SESSION_COOKIE_AGE from now."""
    session[SEEN] = int(timezone.now().timestamp())


def session_starts(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """On login: the session is new, so the first pages need not push it forward."""
    mark_seen(request.session)


class SessionIdleTimeoutMiddleware:
    """A session ends SESSION_COOKIE_AGE after its last request, not after its login.

    Django moves a session's expiry whenever it saves it, and saves it only when it changed;
    SESSION_SAVE_EVERY_REQUEST would write it on every request. Touching it every few minutes
    is enough: it then ends between SESSION_COOKIE_AGE minus REFRESH_SECONDS and
    SESSION_COOKIE_AGE after the last request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            seen = request.session.get(SEEN, 0)
            if timezone.now().timestamp() - seen >= REFRESH_SECONDS:
                mark_seen(request.session)
        return response


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in user.

    Pages name pupils and their absence: no browser, proxy or back button on a shared computer
    may keep a copy after the session ends.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class SamlCookieMiddleware(SamlSessionMiddleware):
    """djangosaml2's session for a SAML login in progress, its cookie always `Secure`.

    The IdP's answer arrives as a cross-site POST, so the cookie that ties it to our request
    must be SameSite=None, and browsers drop such a cookie unless it is Secure; djangosaml2
    marks it Secure only with SESSION_COOKIE_SECURE. Browsers keep Secure cookies from
    https:// and from http://localhost, so this holds in production and in the tests.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        cookie = response.cookies.get(self.cookie_name)
        if cookie is not None:
            cookie["secure"] = True
        return response
