"""The words for rules and flags: a rule's description and a flag's explanation, via gettext.

"Invalid absence 14 % during the last four weeks (limit 10 %)"; in Swedish, the language of the
product, "Ogiltig frånvaro 14 % de senaste fyra veckorna (gräns 10 %)". Numbers take the
language's decimal separator and a real minus sign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy

from .indicators import INDICATORS, WEEKDAYS, Unit
from .windows import Window, _definite_span

if TYPE_CHECKING:
    from .rules import Condition

_COMPARISON_WORDS = {
    ">=": pgettext_lazy("comparison", "at least"),
    ">": pgettext_lazy("comparison", "above"),
    "<=": pgettext_lazy("comparison", "at most"),
    "<": pgettext_lazy("comparison", "below"),
}


def _and(first: str, second: str) -> str:
    """Two parts of a sentence, the second lower-cased: "… and invalid absence …"."""
    return gettext("%(first)s and %(second)s") % {
        "first": first,
        "second": second[0].lower() + second[1:],
    }


def describe(condition: Condition) -> str:
    """A rule or condition for the rule pages: "Invalid absence at least 15 % during the last
    four weeks", with further conditions after "and" and the grade years last."""
    spec = INDICATORS[condition.indicator]
    name = str(spec.title)
    threshold = Decimal(condition.threshold)
    if spec.unit == "bool":
        wanted = _COMPARE[condition.comparison](Fraction(1), Fraction(threshold))
        lowered = f"{name[0].lower()}{name[1:]}"
        text = name if wanted else gettext("Not %(indicator)s") % {"indicator": lowered}
    else:
        text = gettext("%(indicator)s %(comparison)s %(threshold)s") % {
            "indicator": name,
            "comparison": _COMPARISON_WORDS[condition.comparison],
            "threshold": _with_unit(threshold, spec.unit),
        }
    if condition.window is not None:
        text = pgettext("rule", "%(text)s during %(window)s") % {
            "text": text,
            "window": condition.window.label(),
        }
        if condition.indicator.endswith("_trend"):
            text = gettext("%(text)s compared with %(before)s") % {
                "text": text,
                "before": _before(condition.window, condition.baseline),
            }
    for more in getattr(condition, "also", ()):  # a Rule's further conditions
        text = _and(text, describe(more))
    grade_years = getattr(condition, "grade_years", ())
    if grade_years:
        text = gettext("%(text)s (year %(years)s)") % {"text": text, "years": _years(grade_years)}
    return text


_COMPARE = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def _years(years: Sequence[int]) -> str:
    """7, 8, 9 → "7–9"; 0 reads "F" (förskoleklass)."""
    ordered = sorted(set(years))
    label = {0: pgettext("school year", "F")}
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{label.get(ordered[0], str(ordered[0]))}–{ordered[-1]}"
    return ", ".join(label.get(y, str(y)) for y in ordered)


def explain(flag: Mapping[str, object], subject_names: Mapping[int, str] | None = None) -> str:
    """The flag with its figures and thresholds, in the active language.

    "Invalid absence 14 % during the last four weeks (limit 10 %)"; further conditions follow
    after "and". A figure is rounded to whole units unless that would seem to contradict the
    comparison (9.6 % against a limit of < 10 %).
    """
    text = _explain_one(flag, subject_names)
    for condition in flag.get("also") or ():  # type: ignore[attr-defined]
        text = _and(text, _explain_one(condition, subject_names))
    return text


def _explain_one(flag: Mapping[str, object], names: Mapping[int, str] | None) -> str:
    spec = INDICATORS[str(flag["indicator"])]
    window = Window.from_key(str(flag["window"])) if flag.get("window") else None
    baseline = Window.from_key(str(flag["baseline"])) if flag.get("baseline") else None
    threshold = Decimal(str(flag["threshold"]))
    comparison = str(flag["comparison"])
    exact = Fraction(int(flag["value_num"]), int(flag["value_den"]))  # type: ignore[call-overload]
    shown = _shown(exact, comparison, threshold, first_places=1 if spec.unit == "points" else 0)
    values = {
        "value": _with_unit(shown, spec.unit),
        "window": window.label() if window else "",
        "before": _before(window, baseline) if window and window.days else "",
        "change": _change(shown),
        "eligible": (
            pgettext("eligibility", "Eligible")
            if exact >= 1
            else pgettext("eligibility", "Not eligible")
        ),
        "detail": _detail_text(spec.name, flag.get("detail"), names),
    }
    text = str(spec.text).format(**values).strip()
    text = text[0].upper() + text[1:]
    if spec.name in _ABSENCE_LEVELS and flag.get("detail"):
        text = _with_parts(text, spec.name, str(flag["detail"]))
    if spec.unit == "bool":
        return text
    bound = _with_unit(threshold, spec.unit)
    if spec.name == "weekday_concentration":  # five school days: a fifth is no concentration
        bound = gettext("%(limit)s, expected %(expected)s") % {
            "limit": bound,
            "expected": _with_unit(Decimal(20), "percent"),
        }
    return gettext("%(text)s (limit %(limit)s)") % {"text": text, "limit": bound}


def _with_unit(value: Decimal, unit: Unit) -> str:
    number = format_number(value)
    if unit == "percent":
        return pgettext("unit", "%(number)s %%") % {"number": number}
    if unit == "pp":
        count = 1 if abs(value) == 1 else 2
        return ngettext("%(number)s percentage point", "%(number)s percentage points", count) % {
            "number": number
        }
    return number


def _shown(
    exact: Fraction,
    comparison: str,
    threshold: Decimal,
    first_places: int = 0,
) -> Decimal:
    """The exact value rounded to 0, 1 or 2 decimals: the fewest that keep the comparison true.

    Meritvärde starts at one decimal (17,5-point grades): `first_places`.
    """

    def holds(value: Fraction | Decimal) -> bool:
        v, t = Fraction(value), Fraction(threshold)
        return {">=": v >= t, ">": v > t, "<=": v <= t, "<": v < t}[comparison]

    truth = holds(exact)
    decimal = Decimal(exact.numerator) / Decimal(exact.denominator)
    for places in range(first_places, 3):
        rounded = decimal.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if holds(rounded) == truth:
            return rounded
    return rounded


def format_number(value: Decimal | int) -> str:
    """The language's decimal separator (Swedish: a comma), a real minus sign, no trailing
    zeros."""
    number = Decimal(value)
    text = f"{number.normalize():f}" if number % 1 else f"{number.to_integral_value():f}"
    return text.replace("-", "−").replace(".", pgettext("decimal separator", "."))


def _before(window: Window, baseline: Window | None) -> str:
    """What a trend compares with: "the four weeks before that"."""
    if baseline is None or baseline == window.before:
        span = _definite_span(window.days or 0, window.school)
    elif baseline.school == window.school and baseline.offset == window.offset + (window.days or 0):
        span = _definite_span(baseline.days or 0, baseline.school)
    else:
        return baseline.label()
    return pgettext("window", "%(span)s before that") % {"span": span}


def _change(value: Decimal) -> str:
    if value > 0:
        return gettext("rose by %(change)s") % {"change": _with_unit(value, "pp")}
    if value < 0:
        return gettext("fell by %(change)s") % {"change": _with_unit(-value, "pp")}
    return gettext("was unchanged")


_ABSENCE_LEVELS = ("absence_total", "absence_valid", "absence_invalid", "absence_unknown")


def _with_parts(text: str, indicator: str, detail: str) -> str:
    """The level with valid and invalid absence apart (and unassessed, if any): repeated or long
    absence is investigated whatever its reason, but the two call for different first steps.

    "Absence 22 % during the last 20 school days: 15 % valid, 7 % invalid"; a part adds the
    whole where there is more: "Invalid absence 7 % …; all absence 22 %: 15 % valid, 7 % invalid".
    """
    valid, invalid, unknown, scheduled = (int(x) for x in detail.split(","))
    own = {"absence_valid": valid, "absence_invalid": invalid, "absence_unknown": unknown}
    if scheduled <= 0 or own.get(indicator) == valid + invalid + unknown:
        return text  # a part that is all the absence needs no split
    parts = [
        gettext("%(share)s valid") % {"share": _part(valid, scheduled)},
        gettext("%(share)s invalid") % {"share": _part(invalid, scheduled)},
    ]
    if unknown:
        parts.append(gettext("%(share)s unassessed") % {"share": _part(unknown, scheduled)})
    split = ", ".join(parts)
    if indicator == "absence_total":
        return gettext("%(text)s: %(parts)s") % {"text": text, "parts": split}
    return gettext("%(text)s; all absence %(total)s: %(parts)s") % {
        "text": text,
        "total": _part(valid + invalid + unknown, scheduled),
        "parts": split,
    }


def _part(minutes: int, scheduled: int) -> str:
    """A share of scheduled minutes in whole percent; one decimal where whole would read 0 %."""
    exact = Decimal(100 * minutes) / Decimal(scheduled)
    shown = exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if shown == 0 and minutes:
        shown = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return _with_unit(shown, "percent")


def _detail_text(indicator: str, detail: object, names: Mapping[int, str] | None) -> str:
    if detail is None or indicator in _ABSENCE_LEVELS:
        return ""
    if indicator == "weekday_concentration":
        return str(WEEKDAYS[int(str(detail)) - 1])
    if indicator == "late_skip_trend":
        late, late_e, skip, skip_e = (int(x) for x in str(detail).split(","))
        lates = ngettext(
            "Late arrival %(count)s time (expected %(expected)s)",
            "Late arrival %(count)s times (expected %(expected)s)",
            late,
        ) % {"count": late, "expected": format_number(Decimal(late_e) / 10)}
        skips = ngettext(
            "invalid absence from about %(count)s lesson besides whole days "
            "(expected %(expected)s)",
            "invalid absence from about %(count)s lessons besides whole days "
            "(expected %(expected)s)",
            skip,
        ) % {"count": skip, "expected": format_number(Decimal(skip_e) / 10)}
        return gettext("%(first)s and %(second)s") % {"first": lates, "second": skips}
    subject = int(str(detail))
    return (names or {}).get(subject, gettext("subject %(id)s") % {"id": subject})
