"""The support forms: each prefilled from what is known, asking only what the law or the
follow-up needs (docs/support.md)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fullfolj.lib import clock
from fullfolj.lib.widgets import DateInput
from fullfolj.schools.models import School, Staff, Subject

from .models import Case, CaseEntry, Evaluation, Mapping, Measure

FOLLOW_UP_WEEKS = 4  # the follow-up date offered: four school weeks on, the usual span
DATE_ERRORS = {"invalid": _("Enter the date as YYYY-MM-DD.")}


def date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=DateInput(), error_messages=DATE_ERRORS
    )


def staff_at(school: School) -> QuerySet[Staff]:
    """The people who may be named responsible or on a case: anyone with a role at the school."""
    return Staff.objects.filter(roles__school=school).distinct().order_by("last_name", "first_name")


class VersionedForm(forms.Form):
    """Carries the version and the fields as seen when the form was opened, so a save on top of
    someone else's is refused with what they changed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def seen_fields(self) -> dict[str, str]:
        try:
            value = json.loads(self.cleaned_data.get("seen") or "{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


class OpenCaseForm(forms.Form):
    """Open a case, with its first extra adaptation and follow-up date if there is one yet."""

    responsible = forms.ModelChoiceField(
        label=_("Responsible"),
        queryset=Staff.objects.none(),
        error_messages={"required": _("Choose who is responsible for the case.")},
    )
    title = forms.CharField(
        label=_("Adaptation"),
        max_length=200,
        required=False,
        help_text=_("For example: a quiet place for tests, or shorter assignments. May be empty."),
    )
    description = forms.CharField(
        label=_("How and in which lessons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    start = date_field(_("Start"))
    follow_up_on = date_field(_("Follow-up date"), required=False)

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["responsible"]).queryset = staff_at(school)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        title, start, follow_up = data.get("title"), data.get("start"), data.get("follow_up_on")
        if title and not follow_up and "follow_up_on" not in self.errors:
            self.add_error("follow_up_on", _("Give the date the adaptation is followed up."))
        if start and follow_up and follow_up < start:
            self.add_error("follow_up_on", _("The follow-up date cannot be before the start."))
        return data


class CaseForm(VersionedForm):
    status = forms.ChoiceField(label=_("Status"), choices=Case.Status.choices)
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=Staff.objects.none())
    participants = forms.ModelMultipleChoiceField(
        label=_("Working on the case"),
        queryset=Staff.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    closed_reason = forms.CharField(
        label=_("Why the case is closed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("responsible", "participants"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = staff_at(school)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("status") == Case.Status.CLOSED
            and not (data.get("closed_reason") or "").strip()
        ):
            self.add_error("closed_reason", _("Say why the case is closed."))
        return data


class EntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[
            (k.value, k.label)
            for k in (
                CaseEntry.Kind.NOTE,
                CaseEntry.Kind.GUARDIAN_CONTACT,
                CaseEntry.Kind.MEETING,
                CaseEntry.Kind.DECISION,
            )
        ],
        widget=forms.RadioSelect,
    )
    occurred_on = date_field(_("Date"))
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write what happened.")},
    )

    def clean_occurred_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["occurred_on"]
        if day > clock.today():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return day


class MappingForm(forms.ModelForm):
    class Meta:
        model = Mapping
        fields = [*Mapping.SECTIONS, "written_on"]
        widgets = {
            **{name: forms.Textarea(attrs={"rows": 3}) for name in Mapping.SECTIONS},
            "written_on": DateInput(),
        }
        error_messages = {"written_on": DATE_ERRORS}


# The fields each kind of measure asks for beyond what, start, responsible and follow-up.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Measure.Kind.ACTION_PROGRAMME: ("needs", "planned_measures", "evaluation_on"),
    Measure.Kind.ADAPTED_STUDY_PATH: ("subjects", "period_end"),
    Measure.Kind.SPECIAL_GROUP: ("period_end",),
    Measure.Kind.INDIVIDUAL_TEACHING: ("period_end",),
    Measure.Kind.FLEXIBLE_GROUP: ("period_end",),
    Measure.Kind.DISTANCE_TEACHING: ("period_end",),
}
COMMON_FIELDS = ("title", "description", "start", "responsible", "follow_up_on")


class MeasureForm(forms.ModelForm):
    """A measure of one kind; the model's rules (follow-up after start, an åtgärdsprogram names
    its responsible person) come back on their fields."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Measure
        fields = [
            *COMMON_FIELDS,
            "needs",
            "planned_measures",
            "evaluation_on",
            "subjects",
            "period_end",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "needs": forms.Textarea(attrs={"rows": 4}),
            "planned_measures": forms.Textarea(attrs={"rows": 4}),
            "start": DateInput(),
            "follow_up_on": DateInput(),
            "evaluation_on": DateInput(),
            "period_end": DateInput(),
            "subjects": forms.CheckboxSelectMultiple,
        }
        error_messages = dict.fromkeys(
            ("start", "follow_up_on", "evaluation_on", "period_end"), DATE_ERRORS
        )

    def __init__(self, *args: Any, kind: str, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.kind = kind
        wanted = set(COMMON_FIELDS) | set(KIND_FIELDS.get(kind, ())) | {"version", "seen"}
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        cast(forms.ModelChoiceField, self.fields["responsible"]).queryset = staff_at(school)
        if "subjects" in self.fields:
            subjects = cast(forms.ModelChoiceField, self.fields["subjects"])
            subjects.queryset = Subject.objects.order_by("name")
        follow_up = self.fields["follow_up_on"]
        follow_up.required = True
        follow_up.error_messages["required"] = _("Give the date the measure is followed up.")
        if kind == Measure.Kind.ACTION_PROGRAMME:
            self.fields["needs"].required = True
            self.fields["needs"].error_messages["required"] = _(
                "Describe the pupil's needs of special support."
            )
            self.fields["planned_measures"].required = True
            self.fields["planned_measures"].error_messages["required"] = _(
                "Describe the measures that meet the needs."
            )
            self.fields["title"].required = False

    def clean_title(self) -> str:
        title: str = (self.cleaned_data.get("title") or "").strip()
        if not title and self.instance.kind == Measure.Kind.ACTION_PROGRAMME:
            return str(Measure.Kind.ACTION_PROGRAMME.label).capitalize()
        if not title:
            raise forms.ValidationError(_("Say what the measure is."))
        return title


class DecisionForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the decision.")},
    )
    decided_on = date_field(_("Decision date"), required=False)
    appeal_text = forms.CharField(
        label=_("How to appeal"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args: Any, measure: Measure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(Measure.Decision.DECIDED.value, Measure.Decision.DECIDED.label)]
        if measure.kind == Measure.Kind.ACTION_PROGRAMME:
            choices.append(
                (Measure.Decision.NOT_DRAWN_UP.value, Measure.Decision.NOT_DRAWN_UP.label)
            )
        cast(forms.ChoiceField, self.fields["decision"]).choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") and not data.get("decided_on") and "decided_on" not in self.errors:
            self.add_error("decided_on", _("A decision needs its date."))
        day = data.get("decided_on")
        if day and day > clock.today():
            self.add_error("decided_on", _("The date cannot be in the future."))
        return data


class EvaluationForm(forms.Form):
    judgement = forms.ChoiceField(
        label=_("Judgement"),
        choices=Evaluation.Judgement.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a judgement: better, unchanged or worse.")},
    )
    text = forms.CharField(
        label=_("What the evaluation found"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write what the evaluation found.")},
    )
    evaluated_on = date_field(_("Date"))
    outcome = forms.ChoiceField(
        label=_("Then"),
        choices=[
            ("continue", _("Carry on, with a new follow-up date")),
            ("close", _("Close the measure")),
        ],
        widget=forms.RadioSelect,
        initial="continue",
    )
    next_follow_up = date_field(_("Next follow-up date"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("outcome") == "continue"
            and not data.get("next_follow_up")
            and "next_follow_up" not in self.errors
        ):
            self.add_error(
                "next_follow_up",
                _("Give the next follow-up date, or close the measure with this evaluation."),
            )
        return data
