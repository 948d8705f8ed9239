"""The home municipality's oversight of compulsory schooling (skolpliktsbevakning, skollagen
7 kap. 21-23 §§): the population register against every known placement, and a case with dated
steps for each child the match finds."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, Staff


def _day(value: str | None) -> str:
    return formats.date_format(dt.date.fromisoformat(value)) if value else ""


class OversightRules(models.Model):
    """A municipality's own settings for the oversight (admin-edited)."""

    organiser = models.OneToOneField(
        Organiser, on_delete=models.CASCADE, related_name="oversight_rules"
    )
    absence_percent = models.PositiveSmallIntegerField(
        _("long absence (%)"),
        default=30,
        help_text=_(
            "A pupil whose absence stays at least this share every week reaches the officer."
        ),
    )
    absence_weeks = models.PositiveSmallIntegerField(
        _("long absence (weeks)"),
        default=3,
        help_text=_("How many weeks in a row the absence must stay at the level."),
    )
    step_days = models.PositiveSmallIntegerField(_("days to a step's deadline"), default=14)
    moved_days = models.PositiveSmallIntegerField(
        _("days back for moves"),
        default=60,
        help_text=_("A check lists children who moved in or out this many days before its date."),
    )

    @classmethod
    def of(cls, organiser: Organiser) -> OversightRules:
        """The municipality's rules, or the defaults where it has set none."""
        return cls.objects.filter(organiser=organiser).first() or cls(organiser=organiser)


class Resident(models.Model):
    """A child in the municipality's population-register extract (folkbokföringsuppgifter)."""

    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, related_name="residents_register"
    )
    personnummer = models.CharField(_("personal identity number"), max_length=13)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    municipality_code = models.CharField(_("registered municipality"), max_length=4)
    moved_in = models.DateField(_("moved in"), null=True, blank=True)
    moved_out = models.DateField(_("moved out"), null=True, blank=True)
    protected_identity = models.BooleanField(_("protected identity"), default=False)
    # Never stored for a child with protected identity.
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organiser", "personnummer"], name="one_resident_row"),
            models.CheckConstraint(
                condition=Q(protected_identity=False) | Q(address=""),
                name="resident_protected_without_address",
            ),
        ]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ReportedPlacement(models.Model):
    """A placement another organiser reported to the home municipality: an independent school
    or another municipality's school (7 kap. 22 §)."""

    municipality = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, related_name="reported_placements"
    )
    reporter = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    personnummer = models.CharField(_("personal identity number"), max_length=13)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    school_unit_code = models.CharField(_("school-unit code"), max_length=8)
    school_name = models.CharField(_("school"), max_length=200, blank=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "reporter", "personnummer", "school_unit_code", "start"],
                name="one_reported_placement",
            )
        ]


class Check(models.Model):
    """One match of the register against the placements for a date."""

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("date"))
    run_at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked = models.PositiveIntegerField(default=0)  # children of compulsory-school age
    counts = models.JSONField(default=dict)  # finding kind -> children

    class Meta:
        ordering = ["-run_at"]


class OversightCaseQuerySet(models.QuerySet["OversightCase"]):
    def open(self) -> OversightCaseQuerySet:
        return self.filter(closed_on__isnull=True)


class OversightCase(models.Model):
    """A child the oversight found, followed up step by step until closed with a reason."""

    class Kind(models.TextChoices):
        NO_SCHOOL = "no_school", _("registered here, attends no school")
        ENDED = "ended", _("placement ended without a new one")
        TWO_PLACEMENTS = "two_placements", _("two placements")
        ELSEWHERE = "elsewhere", _("placed here, registered elsewhere")
        MOVED_IN = "moved_in", _("moved in")
        MOVED_OUT = "moved_out", _("moved out")
        LONG_ABSENCE = "long_absence", _("long absence")

    class Reason(models.TextChoices):
        PLACED = "placed", _("attends a school")
        MOVED = "moved", _("moved from the municipality")
        ABROAD = "abroad", _("lives abroad")
        OTHER_WAY = "other_way", _("schooling fulfilled another way (decision)")
        BILLED = "billed", _("settled with the home municipality")
        ERROR = "error", _("the lists were wrong")
        OTHER = "other", pgettext_lazy("closing reason", "other")

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("finding"), max_length=20, choices=Kind.choices)
    personnummer = models.CharField(_("personal identity number"), max_length=13)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    protected_identity = models.BooleanField(_("protected identity"), default=False)
    pupil = models.ForeignKey(
        Pupil, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the match saw (schools, dates, the registered municipality), worded when shown.
    facts = models.JSONField(_("details"), default=dict, blank=True)
    check_run = models.ForeignKey(
        Check, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    opened_on = models.DateField(_("opened"))
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    closing_note = models.TextField(_("note"), blank=True)

    objects = OversightCaseQuerySet.as_manager()

    class Meta:
        ordering = ["opened_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organiser", "kind", "personnummer"],
                condition=Q(closed_on__isnull=True),
                name="one_open_oversight_case",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | ~Q(reason=""), name="closed_with_reason"
            ),
        ]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def detail(self) -> str:
        """The finding in words, in the reader's language."""
        f = self.facts
        if self.kind == self.Kind.ENDED:
            return gettext("The last placement, at %(school)s, ended %(date)s.") % {
                "school": f.get("school", ""),
                "date": _day(f.get("ended_on")),
            }
        if self.kind == self.Kind.TWO_PLACEMENTS:
            return gettext("Placed at %(schools)s.") % {"schools": f.get("school", "")}
        if self.kind == self.Kind.ELSEWHERE and f.get("municipality_code"):
            return gettext("At %(school)s; registered in municipality %(code)s.") % {
                "school": f.get("school", ""),
                "code": f["municipality_code"],
            }
        if self.kind == self.Kind.ELSEWHERE:
            return gettext("At %(school)s; not registered in the municipality.") % {
                "school": f.get("school", "")
            }
        if self.kind == self.Kind.MOVED_IN:
            return gettext("Moved in %(date)s.") % {"date": _day(f.get("on"))}
        if self.kind == self.Kind.MOVED_OUT:
            return gettext("Moved out %(date)s, to municipality %(code)s.") % {
                "date": _day(f.get("on")),
                "code": f.get("municipality_code", ""),
            }
        return ""

    @property
    def next_due(self) -> dt.date | None:
        """The earliest deadline of a step not done (reads the prefetched steps)."""
        return min((s.due for s in self.steps.all() if s.done_on is None), default=None)

    def days_open(self, today: dt.date) -> int:
        return ((self.closed_on or today) - self.opened_on).days


class Step(models.Model):
    """A dated step of a case, with its deadline."""

    class Kind(models.TextChoices):
        CONTACT_GUARDIANS = "guardians", _("contact the guardians")
        CONTACT_SCHOOL = "school", _("contact the other school")
        REPORT_PRINCIPAL = "principal", _("report to the principal")
        DECISION = "decision", _("decision")
        NOTE = "note", pgettext_lazy("case step", "note")

    case = models.ForeignKey(OversightCase, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=20, choices=Kind.choices)
    due = models.DateField(_("deadline"))
    done_on = models.DateField(_("done"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    added_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due", "pk"]

    def is_overdue(self, today: dt.date) -> bool:
        return self.done_on is None and self.due < today
