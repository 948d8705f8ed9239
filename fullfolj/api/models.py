"""API tokens: one or more per staff member, kept only as a digest (docs/api.md)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Staff

TOKEN_PREFIX = "ff_"  # noqa: S105 - a marker that makes a leaked token recognisable


def digest(key: str) -> str:
    """The stored form of a token. A token is 256 random bits, so a plain hash is enough: no
    one can guess their way back from it, and a stolen table gives no working token."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A token through which a program acts as one staff member, with exactly their access."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("staff member")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("begins with"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.staff})"

    @classmethod
    def issue(cls, staff: Staff, name: str = "") -> tuple[ApiToken, str]:
        """A new token for `staff`; the key is returned once and never stored."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(staff=staff, name=name, prefix=key[:8], digest=digest(key))
        return token, key

    def set_key(self) -> str:
        """Give an unsaved token (the admin's add form) its key; returned once."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.prefix, self.digest = key[:8], digest(key)
        return key
