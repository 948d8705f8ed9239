"""The questionnaire as a form: one question per row, the scale as radio buttons."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SCALE, Questionnaire

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
