"""Closing a ladder task: what was done, when, and in words."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LadderRecord


class CloseTaskForm(forms.Form):
    kind = forms.ChoiceField(label=_("What was done"), choices=LadderRecord.Kind.choices,
                             widget=forms.RadioSelect)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")})
    text = forms.CharField(label=_("Documentation"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4, "aria-describedby": "text-help"}))
