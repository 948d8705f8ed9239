"""Single sign-on: from what an identity provider says about a person to their staff login.

Both protocols (OpenID Connect and SAML 2) end here, so they match people the same way: by the
attribute FULLFOLJ_SSO_MATCH names, e-mail address or employee number, never by name. A person
the provider knows but Fullfölj has no staff record for, or more than one, is refused, and the
refusal is logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from fullfolj.schools.models import Staff

log = logging.getLogger(__name__)

MATCH_FIELDS = {"email": "email__iexact", "employee_number": "employee_number"}

# Set in the session when the identity provider asserts that the login used a second factor;
# the gate for student-health data accepts it in place of our own.
IDP_SECOND_FACTOR = "fullfolj.idp_second_factor"


def match_field() -> str:
    """The attribute single sign-on matches on, as configured."""
    field = settings.FULLFOLJ_SSO_MATCH
    if field not in MATCH_FIELDS:
        raise ValueError(
            f"FULLFOLJ_SSO_MATCH is {field!r}; it must be one of: {', '.join(MATCH_FIELDS)}"
        )
    return field


def staff_user(value: str | None, *, provider: str) -> AbstractBaseUser | None:
    """The active login of the staff record the provider's value names, or None (logged)."""
    value = (value or "").strip()
    if not value:
        log.warning("%s sign-on refused: the %s attribute is missing", provider, match_field())
        return None
    matches = list(
        Staff.objects.select_related("user").filter(
            **{MATCH_FIELDS[match_field()]: value}, user__isnull=False
        )[:2]
    )
    if len(matches) > 1:
        # Two records with one address: the register needs fixing, a guess would be a breach.
        log.warning(
            "%s sign-on refused: more than one staff login with %s %r",
            provider,
            match_field(),
            value,
        )
        return None
    user = matches[0].user if matches else None
    if user is None or not user.is_active:
        log.warning(
            "%s sign-on refused: no active staff login with %s %r", provider, match_field(), value
        )
        return None
    return user
