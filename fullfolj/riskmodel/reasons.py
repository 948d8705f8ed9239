"""The model's reasons in words: "Invalid absence 18 % during the last four weeks".

Pure Python, worded through gettext (Swedish: "Ogiltig frånvaro 18 % de senaste fyra veckorna"). `engine.explain` gives, per pupil, the inputs that raise the estimate most and by
how much; this turns each into a sentence with the pupil's figure and the typical figure
(the training median) beside it, so staff can check the reason against the pupil's record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from django.utils.translation import pgettext, pgettext_lazy

from .dataset import FEATURES

GRADE_INPUTS = ("f_grades", "passed_subjects", "merit_value", "vocational_eligible")
MISSING = dict.fromkeys(GRADE_INPUTS, pgettext_lazy("risk model reason", "No grades yet")) | {
    name: pgettext_lazy("risk model reason", "No scheduled time to count absence on")
    for name in FEATURES
    if FEATURES[name][1] in ("percent", "pp") and name != "subject_excess_4w"
}


def number(value: float, decimals: int = 0) -> str:
    """The language's decimal separator (Swedish: a comma), no trailing ",0"."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", pgettext("decimal separator", ".")).replace("-", "−")


def figure(feature: str, value: float) -> str:
    """The value as it reads in the sentence (unit included)."""
    unit = FEATURES[feature][1]
    if unit == "percent":
        return pgettext("unit", "%(number)s %%") % {"number": number(value)}
    if unit == "pp":
        return pgettext("risk model reason", "%(number)s percentage points") % {
            "number": number(abs(value), 1)
        }
    if unit == "points":
        return number(value, 1)
    return number(value)


def reason_text(feature: str, value: float, typical: float | None = None) -> str:
    """One reason as a sentence; `typical` (the training median) follows in brackets."""
    if feature not in FEATURES:
        raise KeyError(f"unknown model input {feature!r}")
    template, unit = FEATURES[feature]
    if value is None or math.isnan(value):
        return str(MISSING.get(feature, pgettext("risk model reason", "Not known")))
    if unit == "bool":
        yes = value >= 0.5
        text = str(template).format(
            eligible=(
                pgettext("risk model reason", "eligible")
                if yes
                else pgettext("risk model reason", "not eligible")
            ),
            has=pgettext("risk model reason", "has")
            if yes
            else pgettext("risk model reason", "has no"),
        )
    elif unit == "pp":
        if value:
            change = pgettext("risk model reason", "%(change)s by %(figure)s") % {
                "change": (
                    pgettext("risk model reason", "has risen")
                    if value > 0
                    else pgettext("risk model reason", "has fallen")
                ),
                "figure": figure(feature, value),
            }
        else:
            change = pgettext("risk model reason", "is unchanged")
        text = str(template).format(change=change, value=figure(feature, value))
    else:
        text = str(template).format(value=figure(feature, value))
    text = text[0].upper() + text[1:]
    if typical is not None and not math.isnan(typical) and unit not in ("bool", "year"):
        shown = figure(feature, typical)
        if unit == "pp" and not shown.startswith("0 "):
            shown = ("+" if typical > 0 else "−") + shown
        text = pgettext("risk model reason", "%(text)s (typical: %(typical)s)") % {
            "text": text,
            "typical": shown,
        }
    return text


def reasons(
    rises: Sequence[tuple[str, float]],
    row: Mapping[str, float],
    reference: Mapping[str, float],
) -> list[dict[str, object]]:
    """The stored reasons of one pupil: sentence and how many percentage points it adds."""
    return [
        {
            "feature": feature,
            "text": reason_text(feature, float(row[feature]), float(reference[feature])),
            "rise": round(rise, 4),
        }
        for feature, rise in rises
    ]
