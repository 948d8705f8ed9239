"""Template context: the signed-in staff member and what they may open; the ways to log in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .gate import Viewer


def staff(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    member = getattr(user, "staff", None) if user and user.is_authenticated else None
    if member is None:
        return {}
    viewer = getattr(request, "_fullfolj_viewer", None) or Viewer(member)
    request._fullfolj_viewer = viewer  # type: ignore[attr-defined]
    return {"viewer": viewer}


def sign_on(request: HttpRequest) -> dict[str, object]:
    """Whether the login page offers single sign-on through SAML."""
    return {"saml_sign_on": settings.FULLFOLJ_SAML}
