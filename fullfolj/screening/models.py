"""Screening rules, runs and flags (screeningregler, screeningar, flaggor)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, School, Staff, ValidatedModel

from . import engine

INDICATOR_CHOICES = [(name, name) for name in sorted(engine.INDICATORS)]
COMPARISON_CHOICES = [(c, c) for c in engine.COMPARISONS]


class ScreeningRuleQuerySet(models.QuerySet["ScreeningRule"]):
    def active(self) -> ScreeningRuleQuerySet:
        return self.filter(active=True)

    def for_organiser(self, organiser: Organiser | int) -> ScreeningRuleQuerySet:
        """The organiser's own rules if it has any, else the shared defaults (organiser empty)."""
        own = self.filter(organiser=organiser)
        return own if own.exists() else self.filter(organiser__isnull=True)


class ScreeningRule(ValidatedModel):
    """A screening rule (screeningregel): indicator, comparison, threshold, window, grade years.

    The organiser (huvudman) edits its rules in the admin; rules without an organiser are the
    shipped defaults, used by every organiser that has none of its own. Each rule is checked by
    the engine's Rule on save (docs/screening.md, rules): an unknown indicator, a threshold out of
    range or an empty window is refused with the field and the reason.
    """

    organiser = models.ForeignKey(
        Organiser,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organiser"),
        help_text=_("Empty: a default rule for every organiser."),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(
        _("name"),
        max_length=120,
        blank=True,
        help_text=_(
            "Shown on the pages in place of the code. Empty: the shipped rule's name, or the "
            "rule described in words."
        ),
    )
    indicator = models.CharField(_("indicator"), max_length=40, choices=INDICATOR_CHOICES)
    comparison = models.CharField(
        _("comparison"), max_length=2, choices=COMPARISON_CHOICES, default=">="
    )
    threshold = models.DecimalField(_("threshold"), max_digits=8, decimal_places=2)
    window = models.CharField(
        _("window"),
        max_length=20,
        blank=True,
        help_text=_(
            "Days up to the screening date: 28d; the 28 days before those: 28d_28; "
            "school days: 20s, 120s_20; the term: term. Empty for grade indicators."
        ),
    )
    baseline = models.CharField(
        _("baseline"),
        max_length=20,
        blank=True,
        help_text=_(
            "For trends: the period compared with, e.g. 84d_28 or 120s_20 (empty: "
            "the same length just before the window)."
        ),
    )
    grade_years = models.CharField(
        _("grade years"),
        max_length=30,
        blank=True,
        help_text=_("Comma-separated, 0 = förskoleklass; empty: every year."),
    )
    also = models.JSONField(
        _("further conditions"),
        default=list,
        blank=True,
        help_text=_(
            'Conditions that must also hold: [{"indicator": "invalid_trend", '
            '"comparison": ">=", "threshold": "1", "window": "28d", '
            '"baseline": "84d_28"}]'
        ),
    )
    # A context: the ladder's step is "aktivt" and its order a "nummer".
    active = models.BooleanField(pgettext_lazy("screening rule", "active"), default=True)
    order = models.PositiveSmallIntegerField(pgettext_lazy("screening rule", "order"), default=0)

    objects = ScreeningRuleQuerySet.as_manager()

    class Meta:
        ordering = ["organiser_id", "order", "code"]
        verbose_name = _("screening rule")
        verbose_name_plural = _("screening rules")
        constraints = [
            models.UniqueConstraint(fields=["organiser", "code"], name="one_rule_code_per_org"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The rule's name on the pages: its own, the shipped one, or the rule in words."""
        return rule_name(self.code, self.name) or engine.describe(self.to_engine())

    def clean(self) -> None:
        self.to_engine()

    def to_engine(self) -> engine.Rule:
        """The engine's Rule for this row; ValidationError naming the field and the reason."""
        years = _grade_years(self.grade_years)
        try:
            window = _window(self.window, "window")
            baseline = _window(self.baseline, "baseline")
            also = tuple(_condition(n, c) for n, c in enumerate(self.also or [], start=1))
            return engine.rule(
                self.code or "",
                self.indicator,
                cast("engine.Comparison", self.comparison),  # the engine checks it
                _threshold(self.threshold),
                window,
                baseline=baseline,
                grade_years=years,
                also=also,
            )
        except engine.RuleError as error:
            field = {"id": "code"}.get(error.field, error.field)
            if field not in {f.name for f in self._meta.fields}:
                field = "also"
            raise ValidationError({field: str(error)}) from None


# The shipped rules' names, in the user's language (an organiser's own rule has `name`).
SHIPPED_NAMES = {
    "problematic_absence": _("Problematic absence"),
    "invalid_absence": _("Invalid absence"),
    "rising_late_skip": _("Rising late arrivals and skipped lessons"),
    "failing": _("F or warning of F in three or more subjects"),
    "not_eligible": _("Not eligible for upper secondary school"),
}


def rule_name(code: str, name: str = "") -> str:
    """A rule's name for the pages: its own name, else the shipped rule's; "" if neither."""
    if name:
        return name
    shipped = SHIPPED_NAMES.get(code)
    return str(shipped) if shipped is not None else ""


def rule_names(codes: list[str], organiser: Organiser | int | None = None) -> dict[str, str]:
    """Each code's name (one query): the organiser's rules (or the defaults), else shipped."""
    rows: dict[str, ScreeningRule] = {}
    if organiser is not None:
        rows = {r.code: r for r in ScreeningRule.objects.for_organiser(organiser)}
    out = {}
    for code in codes:
        row = rows.get(code)
        out[code] = row.label if row is not None else rule_name(code) or code
    return out


def _threshold(value: object) -> Decimal | str:
    if value is None or value == "":
        raise engine.RuleError("threshold", gettext("Give a limit."))
    return value.normalize() if isinstance(value, Decimal) else str(value)


def _window(key: str | None, field: str) -> engine.Window | None:
    if not key:
        return None
    try:
        return engine.Window.from_key(key.strip())
    except ValueError as error:
        raise engine.RuleError(field, str(error)) from None


def _grade_years(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValidationError(
            {
                "grade_years": _("Grade years are numbers 0–9 separated by commas, not “%(text)s”.")
                % {"text": text}
            }
        ) from None


def _condition(number: int, data: Any) -> engine.Condition:
    if not isinstance(data, dict):
        raise engine.RuleError(
            "also",
            gettext("Condition %(number)s must be an object with indicator etc.")
            % {"number": number},
        )
    try:
        return engine.Condition(
            str(data.get("indicator", "")),
            cast("engine.Comparison", str(data.get("comparison", ">="))),  # checked there
            str(data.get("threshold", "")),
            _window(data.get("window"), "also"),
            _window(data.get("baseline"), "also"),
        )
    except engine.RuleError as error:
        raise engine.RuleError(
            "also",
            gettext("Condition %(number)s: %(error)s") % {"number": number, "error": error},
        ) from None


def rule_snapshot(rule: ScreeningRule) -> dict[str, Any]:
    """The rule as a run's configuration records it."""
    return {
        "code": rule.code,
        "name": rule.name,
        "indicator": rule.indicator,
        "comparison": rule.comparison,
        "threshold": str(rule.threshold),
        "window": rule.window,
        "baseline": rule.baseline,
        "grade_years": rule.grade_years,
        "also": rule.also,
    }


class ScreeningRun(models.Model):
    """One screening of every pupil of an organiser at a date (screening), as it was configured."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("by hand")
        DAILY = "daily", _("daily job")
        CLI = "cli", _("command line")

    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField(_("date"))
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLI)
    configuration = models.JSONField(default=dict)  # rules and grade rules as used
    started_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pupils = models.PositiveIntegerField(default=0)
    flagged_pupils = models.PositiveIntegerField(default=0)
    flags = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-as_of", "-started_at", "-pk"]
        verbose_name = _("screening run")
        verbose_name_plural = _("screening runs")
        indexes = [models.Index(fields=["organiser", "as_of"])]

    def __str__(self) -> str:
        return f"{self.organiser} {self.as_of:%Y-%m-%d}"

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


class Flag(models.Model):
    """One rule that fired for one pupil in one run, with its figure and Swedish explanation."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="flag_rows")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="screening_flags")
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.ForeignKey(
        ScreeningRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule_code = models.CharField(max_length=50)  # kept when the rule is edited or deleted
    value = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    threshold = models.DecimalField(max_digits=8, decimal_places=2)
    explanation = models.TextField()

    class Meta:
        ordering = ["run", "pupil", "rule_code"]
        constraints = [
            models.UniqueConstraint(fields=["run", "pupil", "rule_code"], name="one_flag_per_rule")
        ]
        indexes = [models.Index(fields=["pupil", "run"])]

    def __str__(self) -> str:
        return self.explanation


STALE_AFTER = dt.timedelta(hours=12)  # a request left running this long was lost with its worker


class RuleEvaluationQuerySet(models.QuerySet["RuleEvaluation"]):
    def pending(self) -> RuleEvaluationQuerySet:
        """Queued or running, and asked for recently enough to be running still."""
        return self.filter(
            status__in=[RuleEvaluation.Status.QUEUED, RuleEvaluation.Status.RUNNING],
            computed_at__gte=timezone.now() - STALE_AFTER,
        )


class RuleEvaluation(models.Model):
    """How good each rule is on the organiser's own history: asked for on the rule page (run by
    the worker, with its progress) or by `fullfolj screen --evaluate`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Outcome(models.TextChoices):
        # Outcomes the municipality observes in its own data (docs/screening.md).
        ABSENCE = "absence", _("Absence passes a level over 20 school days")
        NOT_ELIGIBLE = "not_eligible", _("Leaves year 9 without eligibility")
        FAILING = "failing", _("F in several subjects the next term")

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()  # asked for; finished_at when the figures were done
    outcome = models.TextField()
    outcome_kind = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.ABSENCE)
    level = models.PositiveSmallIntegerField(default=20)  # percent, for the absence outcome
    subjects = models.PositiveSmallIntegerField(default=2)  # F in this many, for failing
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    progress = models.PositiveSmallIntegerField(default=100)  # percent of screening dates done
    requested_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    screenings = models.PositiveIntegerField(default=0)
    per_rule = models.JSONField(default=list)
    per_group = models.JSONField(default=list)
    early_warning = models.JSONField(default=dict, blank=True)  # against the simulator's truth

    objects = RuleEvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at", "-pk"]
