"""`Authorization: Bearer <token>`: the request acts as the token's staff member."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .models import ApiToken, digest

KEYWORDS = (b"bearer", b"token")
# The last use is written at most this often: a busy integration need not write on every call.
TOUCH_EVERY = dt.timedelta(minutes=5)


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() not in KEYWORDS:
            return None  # another scheme (or the session) may answer
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be “Bearer” followed by the token.")
            )
        try:
            key = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        token = (
            ApiToken.objects.select_related("staff__user")
            .filter(digest=digest(key), is_active=True)
            .first()
        )
        user = token.staff.user if token is not None else None
        if token is None or user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "fullfolj.api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
