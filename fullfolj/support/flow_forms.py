"""The forms of the follow-up pages: the EHT meeting's date, and a case's minutes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fullfolj.lib.widgets import DateInput
from fullfolj.schools.models import Staff

from .eht import Agreed
from .models import AgreedAction

ACTION_ROWS = 3  # agreed actions the minutes form offers at once
DATE_ERRORS = {"invalid": _("Enter the date as YYYY-MM-DD.")}


class MeetingDayForm(forms.Form):
    """The meeting day an agenda is generated for (?datum=)."""

    datum = forms.DateField(label=_("Meeting date"), widget=DateInput(), error_messages=DATE_ERRORS)


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name)


class MinutesForm(forms.Form):
    """What the meeting said about one pupil, what it decided, and who does what by when.

    Each action row is whole or empty: a row with only some fields is refused naming them.
    """

    day = forms.DateField(label=_("Meeting date"), widget=DateInput(), error_messages=DATE_ERRORS)
    text = forms.CharField(
        label=_("Meeting minutes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write what the meeting said about the pupil.")},
    )
    decision = forms.CharField(
        label=_("Decision"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    done = forms.ModelMultipleChoiceField(
        label=_("Agreed earlier and now done"),
        queryset=AgreedAction.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        staff: QuerySet[Staff],
        open_actions: QuerySet[AgreedAction],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["done"].queryset = open_actions  # type: ignore[attr-defined]
        self.fields["done"].label_from_instance = lambda a: (  # type: ignore[attr-defined]
            f"{a.what} ({a.who.full_name}, {a.due:%Y-%m-%d})"
        )
        for n in range(1, ACTION_ROWS + 1):
            self.fields[f"who_{n}"] = StaffChoice(label=_("Who"), queryset=staff, required=False)
            self.fields[f"what_{n}"] = forms.CharField(
                label=_("What"), max_length=300, required=False
            )
            self.fields[f"due_{n}"] = forms.DateField(
                label=_("By when"), widget=DateInput(), required=False, error_messages=DATE_ERRORS
            )

    def action_rows(self) -> list[tuple[int, list[forms.BoundField]]]:
        return [
            (n, [self[f"who_{n}"], self[f"what_{n}"], self[f"due_{n}"]])
            for n in range(1, ACTION_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day: dt.date | None = data.get("day")
        for n in range(1, ACTION_ROWS + 1):
            names = (f"who_{n}", f"what_{n}", f"due_{n}")
            given = {name: data.get(name) for name in names if data.get(name)}
            if not given or self.has_error(f"due_{n}"):
                continue
            for name in names:
                if name not in given:
                    self.add_error(
                        name,
                        _("Agreed action %(n)s needs who, what and by when.") % {"n": n},
                    )
            due = data.get(f"due_{n}")
            if day and due and due < day:
                self.add_error(f"due_{n}", _("An agreed action cannot be due before the meeting."))
        return data

    def agreed(self) -> list[Agreed]:
        rows = []
        for n in range(1, ACTION_ROWS + 1):
            who, what, due = (self.cleaned_data.get(f"{k}_{n}") for k in ("who", "what", "due"))
            if who and what and due:
                rows.append(Agreed(who=who, what=what.strip(), due=due))
        return rows
