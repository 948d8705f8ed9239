"""Authentication: Django's model backend, loading the staff record with the user, and the
client address that failed logins are counted against."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class StaffBackend(ModelBackend):
    """ModelBackend whose per-request user lookup joins the staff record.

    Every page goes through the gate, which reads `request.user.staff`: one query, not two.
    With local passwords switched off (FULLFOLJ_LOCAL_PASSWORDS=0) it accepts no password, on
    the login page or the admin's.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if not settings.FULLFOLJ_LOCAL_PASSWORDS:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.select_related("staff")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def client_address(request: HttpRequest) -> str | None:
    """The address a login comes from, which axes counts failures against.

    Behind FULLFOLJ_TRUSTED_PROXIES reverse proxies, each appends the address it saw to
    X-Forwarded-For, so the client is that many entries from the right; anything further left
    was written by the client and cannot be trusted.
    """
    proxies = settings.FULLFOLJ_TRUSTED_PROXIES
    if proxies:
        header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [a.strip() for a in header.split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    address: str | None = request.META.get("REMOTE_ADDR")
    return address
