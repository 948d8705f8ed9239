"""The second factor (tvåstegsverifiering) for student-health data: a TOTP device per login,
set up by scanning a QR code, and the check of its six-digit code (django-otp).

Wrong codes are logged here and throttled by django-otp (each wrong code doubles the wait
before the next try); the password login has its own counting in axes.
"""

from __future__ import annotations

import logging
import re
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

log = logging.getLogger(__name__)

DEVICE_NAME = "Fullfölj"


def confirmed_device(user: AbstractBaseUser | AnonymousUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def device_to_set_up(user: AbstractBaseUser | AnonymousUser) -> TOTPDevice:
    """The user's device waiting for its first code, made if there is none: reloading the
    set-up page shows the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def qr_svg(device: TOTPDevice, *, label: str) -> SafeString:
    """The device's otpauth:// address as an inline SVG QR code (no script, no style attribute:
    the content security policy allows neither)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    # Sized by the page's stylesheet, not by qrcode's millimetres.
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", svg[svg.index("<svg") :], count=1)
    svg = svg.replace("<svg ", f'<svg class="qr" role="img" aria-label="{escape(label)}" ', 1)
    return mark_safe(svg)  # noqa: S308 (qrcode's own markup; the label is escaped)


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app that cannot scan."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def wait_seconds(device: TOTPDevice) -> int | None:
    """Seconds until the next try is allowed after wrong codes, or None if it is allowed."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    count = (data or {}).get("failure_count", 1)
    return int(device.get_throttle_factor() * 2 ** (count - 1))


def check_code(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Verify the code; on success the session counts as having given a second factor, on
    failure the refusal is logged (never the code)."""
    if device.verify_token(code):
        if not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        otp_login(request, device)
        return True
    log.warning(
        "second factor refused: wrong code for user %s (%s wrong in a row)",
        device.user_id,
        device.throttling_failure_count,
    )
    return False
