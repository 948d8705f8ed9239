"""The rule page's form: which observed outcome to measure the rules against."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RuleEvaluation


class EvaluationForm(forms.Form):
    """An outcome the municipality observes in its own history, with its level where it has one."""

    outcome = forms.ChoiceField(
        label=_("Outcome to measure the rules against"),
        choices=RuleEvaluation.Outcome.choices,
        initial=RuleEvaluation.Outcome.ABSENCE,
        widget=forms.RadioSelect,
    )
    level = forms.IntegerField(
        label=_("Absence level (%)"),
        help_text=_("Absence over 20 school days above this share, after a period below it."),
        min_value=5,
        max_value=50,
        initial=20,
    )
    subjects = forms.IntegerField(
        label=_("Number of subjects with F"),
        help_text=_("F or – in at least this many subjects in a term's grades."),
        min_value=1,
        max_value=17,
        initial=2,
    )
