"""The questionnaire as a form: one question per row, the scale as radio buttons."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import QUESTION_LENGTH, SCALE, Dimension, Questionnaire

SCALE_LABELS = {
    1: _("1 – not at all true"),
    2: _("2 – mostly not true"),
    3: _("3 – partly true"),
    4: _("4 – mostly true"),
    5: _("5 – completely true"),
}


class AnswerForm(forms.Form):
    """Every question of one questionnaire version, each answered on the scale 1–5."""

    def __init__(self, *args: Any, questionnaire: Questionnaire, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        for question in questionnaire.questions.all():
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=[(n, SCALE_LABELS[n]) for n in SCALE],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose an answer."),
                    "invalid_choice": _("Answer on the scale 1 to 5."),
                },
            )

    def values(self) -> dict[int, int | None]:
        return {
            int(name[1:]): self.cleaned_data.get(name)
            for name in self.fields
            if name.startswith("q")
        }


class QuestionRowForm(forms.Form):
    """One row of the questionnaire being edited: its dimension and its statement."""

    dimension = forms.ChoiceField(
        label=_("dimension"), choices=[("", "–"), *Dimension.choices], required=False
    )
    text = forms.CharField(
        label=pgettext_lazy("kasam", "question"),
        max_length=QUESTION_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
    )


QuestionRows = forms.formset_factory(QuestionRowForm, extra=3, max_num=40, absolute_max=40)


def rows_of(formset: Any) -> list[tuple[str, str]]:
    """The edited questions in order; a row whose statement is emptied is left out."""
    return [
        (form.cleaned_data.get("dimension", ""), form.cleaned_data["text"])
        for form in formset.forms
        if form.cleaned_data.get("text", "").strip()
    ]
