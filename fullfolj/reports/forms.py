"""The dashboards' filters and the evaluation report's choices; bad input is a message on the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fullfolj.lib import clock
from fullfolj.lib.widgets import DateInput
from fullfolj.schools.models import Pupil, School, Term

from .dashboard import Filters
from .evaluation import DEFAULT_THRESHOLD
from .models import Cohort

GRADES = [("", _("All grade years"))] + [(str(g), str(g) if g else "F") for g in range(10)]
GENDERS = [
    ("", _("Girls and boys")),
    (Pupil.Gender.FEMALE, _("Girls")),
    (Pupil.Gender.MALE, _("Boys")),
]


class DashboardFilters(forms.Form):
    term = forms.ModelChoiceField(
        Term.objects.all(), required=False, label=_("Term"), empty_label=_("Dates below")
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    grade = forms.TypedChoiceField(
        choices=GRADES, coerce=int, empty_value=None, required=False, label=_("Grade year")
    )
    gender = forms.ChoiceField(choices=GENDERS, required=False, label=_("Gender"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        term, start, end = data.get("term"), data.get("start"), data.get("end")
        if term is None and not (start and end) and not self.errors and (start or end):
            raise forms.ValidationError(_("Give both dates of the period, or choose a term."))
        if start and end and end < start:
            self.add_error("end", _("The period ends before it starts."))
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        term = data.get("term")
        if term is not None:
            start, end = term.start, term.end
        elif data.get("start") and data.get("end"):
            start, end = data["start"], data["end"]
        else:
            today = clock.today()
            current = Term.at(today)
            start, end = (current.start, current.end) if current else (today, today)
        return Filters(
            start=start, end=end, grade=data.get("grade"), gender=data.get("gender") or None
        )


class EvaluationForm(forms.Form):
    source = forms.ChoiceField(label=_("List of pupils"))
    first = forms.ModelChoiceField(Term.objects.all(), label=_("First term"))
    second = forms.ModelChoiceField(Term.objects.all(), label=_("Second term"))
    threshold = forms.DecimalField(
        label=_("Change that counts (percentage points)"),
        initial=DEFAULT_THRESHOLD,
        min_value=0,
        max_value=100,
        decimal_places=1,
    )

    def __init__(self, sources: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.fields["source"]
        assert isinstance(source, forms.ChoiceField)  # noqa: S101 - declared above
        source.choices = sources
        # The two latest terms that have ended (graded), else the two latest begun.
        today = clock.today()
        terms = list(Term.objects.filter(end__lt=today).order_by("-start")[:2])
        if len(terms) < 2:
            terms = list(Term.objects.filter(start__lte=today).order_by("-start")[:2])
        if len(terms) == 2:
            self.fields["first"].initial = terms[1].pk
            self.fields["second"].initial = terms[0].pk


class CohortForm(forms.Form):
    """A list of pupils picked by hand: its name and the ticked pupils of one school."""

    name = forms.CharField(label=_("Name of the list"), max_length=200)
    pupils = forms.ModelMultipleChoiceField(
        Pupil.objects.none(),
        label=_("Pupils"),
        error_messages={"required": _("Tick at least one pupil.")},
    )

    def __init__(self, school: School, pupils: QuerySet[Pupil], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        chosen = self.fields["pupils"]
        assert isinstance(chosen, forms.ModelMultipleChoiceField)  # noqa: S101 - declared above
        chosen.queryset = pupils

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the list a name."))
        if Cohort.objects.filter(school=self.school, name=name).exists():
            raise forms.ValidationError(
                _("The school already has a list named %(name)s: choose another name.")
                % {"name": name}
            )
        return name
