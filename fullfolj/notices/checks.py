"""Settings checks: a mistyped notice setting is reported at start, not at a teacher's save."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from . import actions


@register()
def notice_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for probe in (actions.fixed_send_time, actions.holds_protected):
        try:
            probe()
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id="notices.E001"))
    for name in (
        "FULLFOLJ_NOTICE_DELAY_MINUTES",
        "FULLFOLJ_NOTICE_GRACE_MINUTES",
        "FULLFOLJ_NOTICE_LEASE_SECONDS",
        "FULLFOLJ_NOTICE_BATCH",
    ):
        value = getattr(settings, name, 1)
        if not isinstance(value, int) or value < (
            1 if name != "FULLFOLJ_NOTICE_GRACE_MINUTES" else 0
        ):
            errors.append(
                Error(f"{name} must be a positive whole number, not {value!r}", id="notices.E002")
            )
    try:
        import_string(settings.FULLFOLJ_SMS_BACKEND)
    except ImportError as error:
        errors.append(
            Error(
                f"FULLFOLJ_SMS_BACKEND {settings.FULLFOLJ_SMS_BACKEND!r} cannot be "
                f"imported: {error}",
                id="notices.E003",
            )
        )
    return errors
