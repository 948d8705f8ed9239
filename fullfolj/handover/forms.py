from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import HandoverVersion


class HandoverForm(forms.ModelForm):
    """The handover's texts, prefilled by the system and edited by the sending school."""

    edits = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = HandoverVersion
        fields = HandoverVersion.TEXTS
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in HandoverVersion.TEXTS}
        help_texts = {
            "what_worked": _("From the evaluations of earlier measures; edit as you see fit."),
            "pupil_words": _("What the pupil wants the new school to know, as they said it."),
            "guardian_words": _("What the guardians want the new school to know."),
        }
