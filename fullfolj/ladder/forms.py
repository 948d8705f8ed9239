"""Closing a ladder task: what was done, when, and in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fullfolj.lib import clock
from fullfolj.lib.widgets import DateInput

from .actions import record_date_error
from .models import LadderRecord


class CloseTaskForm(forms.Form):
    """What was done for a task; dated from `first` (its school year's start) to today."""

    kind = forms.ChoiceField(
        label=_("What was done"), choices=LadderRecord.Kind.choices, widget=forms.RadioSelect
    )
    date = forms.DateField(
        label=_("Date"),
        widget=DateInput(),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )
    text = forms.CharField(
        label=_("Documentation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "aria-describedby": "text-help"}),
    )

    def __init__(self, *args: Any, first: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first = first
        self.fields["date"].widget.attrs.update(
            {"min": first.isoformat(), "max": clock.today().isoformat()}
        )

    def clean_date(self) -> dt.date:
        date: dt.date = self.cleaned_data["date"]
        problem = record_date_error(date, self.first)
        if problem:
            raise forms.ValidationError(problem, code="out_of_range")
        return date
