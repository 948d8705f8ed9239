"""The model's reasons in Swedish words: "Ogiltig frånvaro 18 % de senaste fyra veckorna".

Pure Python. `engine.explain` gives, per pupil, the inputs that raise the estimate most and by
how much; this turns each into a sentence with the pupil's figure and the typical figure
(the training median) beside it, so staff can check the reason against the pupil's record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .dataset import FEATURES

GRADE_INPUTS = ("f_grades", "passed_subjects", "merit_value", "vocational_eligible")
MISSING = dict.fromkeys(GRADE_INPUTS, "Inga betyg ännu") | {
    name: "Ingen schemalagd tid att räkna frånvaro på"
    for name in FEATURES
    if FEATURES[name][1] in ("percent", "pp") and name != "subject_excess_4w"
}


def number(value: float, decimals: int = 0) -> str:
    """Swedish number: decimal comma, no trailing ",0"."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",").replace("-", "−")


def figure(feature: str, value: float) -> str:
    """The value as it reads in the sentence (unit included)."""
    unit = FEATURES[feature][1]
    if unit == "percent":
        return f"{number(value)} %"
    if unit == "pp":
        return f"{number(abs(value), 1)} procentenheter"
    if unit == "points":
        return number(value, 1)
    return number(value)


def reason_text(feature: str, value: float, typical: float | None = None) -> str:
    """One reason as a sentence; `typical` (the training median) follows in brackets."""
    if feature not in FEATURES:
        raise KeyError(f"unknown model input {feature!r}")
    template, unit = FEATURES[feature]
    if value is None or math.isnan(value):
        return MISSING.get(feature, "Uppgift saknas")
    if unit == "bool":
        text = template.format(
            eligible="behörig" if value >= 0.5 else "inte behörig",
            has="har" if value >= 0.5 else "har inga",
        )
    elif unit == "pp":
        change = "har ökat" if value > 0 else "har minskat" if value < 0 else "är oförändrad"
        if value:
            change += f" med {figure(feature, value)}"
        text = template.format(change=change, value=figure(feature, value))
    else:
        text = template.format(value=figure(feature, value))
    text = text[0].upper() + text[1:]
    if typical is not None and not math.isnan(typical) and unit not in ("bool", "year"):
        shown = figure(feature, typical)
        if unit == "pp" and not shown.startswith("0 "):
            shown = ("+" if typical > 0 else "−") + shown
        text += f" (vanligt: {shown})"
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
