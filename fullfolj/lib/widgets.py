"""Form widgets shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    """A date typed as ÅÅÅÅ-MM-DD whatever the computer's language.

    Chromium's own date field orders the date by the browser's locale, not the page's: on an
    English computer a Swedish page shows 12/05/2026 for 5 December. A text field with the
    ISO order spelled out reads the same everywhere; the form validates it.
    """

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {
            "placeholder": _("YYYY-MM-DD"),
            "pattern": r"\d{4}-\d{2}-\d{2}",
            "title": _("A date as YYYY-MM-DD, for example 2026-12-05"),
            "size": "10",
            "maxlength": "10",
            "autocomplete": "off",
            "class": "date",
        }
        super().__init__({**defaults, **(attrs or {})}, format="%Y-%m-%d")
