from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fullfolj.exchange.forms import MAX_BYTES
from fullfolj.lib.widgets import DateInput

from .models import OversightCase, Step


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            ("register", _("Population-register extract")),
            ("placements", _("Placements reported by other organisers")),
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


class CheckForm(forms.Form):
    day = forms.DateField(label=_("Match for the date"), widget=DateInput())


class StepForm(forms.Form):
    kind = forms.ChoiceField(label=_("Step"), choices=Step.Kind.choices)
    due = forms.DateField(label=_("Deadline"), widget=DateInput())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DoneForm(forms.Form):
    on = forms.DateField(label=_("Done on"), widget=DateInput())
    note = forms.CharField(
        label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=OversightCase.Reason.choices)
    on = forms.DateField(label=_("Closed on"), widget=DateInput())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
