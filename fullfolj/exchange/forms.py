from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 50 * 1024 * 1024  # a school's year of lesson marks fits many times over


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            ("pupils", _("Pupils")),
            ("guardians", _("Guardians")),
            ("groups", _("Groups and their members")),
            ("timetable", _("Timetable (lessons)")),
            ("attendance", _("Lesson attendance")),
            ("grades", _("Grades")),
        ],
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "Semicolon-separated text (UTF-8 or Windows-1252) or an Excel workbook (.xlsx), "
            "with the column names on the first line."
        ),
    )
    check_only = forms.BooleanField(label=_("Only check the file, import nothing"), required=False)

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_BYTES // 2**20}
            )
        return upload
