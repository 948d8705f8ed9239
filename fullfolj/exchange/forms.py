from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 50 * 1024 * 1024  # a school's year of lesson marks fits many times over

KIND_CHOICES = [
    ("pupils", _("Pupils")),
    ("guardians", _("Guardians")),
    ("groups", _("Groups and their members")),
    ("timetable", _("Timetable (lessons)")),
    ("attendance", _("Lesson attendance")),
    ("grades", _("Term grades")),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KIND_CHOICES)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "Semicolon-separated text (UTF-8 or Windows-1252) or an Excel workbook (.xlsx), "
            "with the column names on the first line."
        ),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_BYTES // 2**20}
            )
        return upload


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label=_("Column map"))

    def __init__(self, names: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["preset"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared above)
        field.choices = [(name, name) for name in names]


class MappingForm(forms.Form):
    """Which of the file's headers holds each of our columns."""

    save_as = forms.CharField(
        label=_("Save this map as"),
        max_length=100,
        required=False,
        help_text=_("A name, to choose the map again for the next file from the same system."),
    )

    def __init__(
        self,
        columns: list[tuple[str, str, bool]],
        headers: list[str],
        chosen: dict[str, str],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        options = [("", _("— not in the file —")), *((h, h) for h in headers if h)]
        self.keys = [key for key, _label, _required in columns]
        for key, label, required in columns:
            self.fields[f"col_{key}"] = forms.ChoiceField(
                label=label,
                choices=options,
                required=required,
                initial=chosen.get(key, ""),
            )
        self.order_fields([*(f"col_{key}" for key in self.keys), "save_as"])

    def columns(self) -> dict[str, str]:
        return {
            key: self.cleaned_data[f"col_{key}"]
            for key in self.keys
            if self.cleaned_data.get(f"col_{key}")
        }
