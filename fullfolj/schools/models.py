"""Organisation, calendar and people: who is where, when (huvudman, skolenhet, elev, personal)."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fullfolj.lib import personnummer


class ValidatedModel(models.Model):
    """Rows that check their invariants on every save, so bad data never reaches the table."""

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        self.full_clean()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Organiser(models.Model):
    """A school organiser (huvudman): a municipality or the owner of an independent school."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("municipality")
        INDEPENDENT = "independent", _("independent school organiser")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    municipality_code = models.CharField(_("municipality code"), max_length=4, blank=True)
    # The organiser's own line, as its ladder's triggers and screening rules are its own; 10 %
    # is the level usually called problematic (see docs/), and the first step of the default
    # ladder.
    problematic_absence_percent = models.PositiveSmallIntegerField(
        _("problematic absence (%)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "The overview counts the pupils whose absence this term is at least this "
            "share of their scheduled time."
        ),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    problematic_absence_percent__gte=1, problematic_absence_percent__lte=100
                ),
                name="problematic_absence_is_a_percentage",
            )
        ]

    def __str__(self) -> str:
        return self.name


def validate_unit_code(value: str) -> None:
    if not re.fullmatch(r"\d{8}", value or ""):
        raise ValidationError(
            _("School-unit code “%(value)s” must be 8 digits."), params={"value": value}
        )


GRADE_NAMES = {0: "F"}


def grade_name(grade: int) -> str:
    return GRADE_NAMES.get(grade, str(grade))


class School(ValidatedModel):
    """A school unit (skolenhet) with its 8-digit code from Skolverket's register."""

    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(_("name"), max_length=200)
    unit_code = models.CharField(
        _("school-unit code"), max_length=8, unique=True, validators=[validate_unit_code]
    )
    grade_from = models.PositiveSmallIntegerField(_("lowest grade"), default=0)
    grade_to = models.PositiveSmallIntegerField(_("highest grade"), default=9)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade_from__lte=models.F("grade_to")) & Q(grade_to__lte=9),
                name="school_grade_span",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def grade_span(self) -> str:
        return f"{grade_name(self.grade_from)}–{grade_name(self.grade_to)}"


class SchoolYear(models.Model):
    """A school year (läsår), e.g. 2025/26."""

    name = models.CharField(max_length=9, unique=True)
    start = models.DateField()
    end = models.DateField()

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return self.name


class TermQuerySet(models.QuerySet["Term"]):
    def containing(self, day: dt.date) -> TermQuerySet:
        return self.filter(start__lte=day, end__gte=day)


class Term(models.Model):
    """A term: autumn (HT) or spring (VT)."""

    class Kind(models.TextChoices):
        AUTUMN = "HT", _("autumn term")
        SPRING = "VT", _("spring term")

    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="terms")
    kind = models.CharField(max_length=2, choices=Kind.choices)
    start = models.DateField()
    end = models.DateField()

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["school_year", "kind"], name="one_term_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start.year}"

    @classmethod
    def at(cls, day: dt.date) -> Term | None:
        """The term that contains `day`, or else the latest one that ended before it."""
        return cls.objects.containing(day).first() or cls.objects.filter(end__lt=day).last()


class DayOff(models.Model):
    """A weekday in a term without teaching: a holiday (lov) or a study day (studiedag)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        STUDY_DAY = "study_day", _("study day")

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="days_off")
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organiser", "date"], name="one_day_off")]


class Subject(models.Model):
    """A subject of the curriculum, with Skolverket's code (SV, MA, EN ...)."""

    code = models.CharField(max_length=5, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def validate_personnummer(value: str) -> None:
    try:
        personnummer.parse(value)
    except personnummer.InvalidPersonnummer as error:
        raise ValidationError(str(error)) from error


class Pupil(ValidatedModel):
    """A pupil (elev). Protected identity (skyddade personuppgifter) hides address and guardians."""

    class Gender(models.TextChoices):
        FEMALE = "F", _("girl")
        MALE = "M", _("boy")

    organiser = models.ForeignKey(
        Organiser,
        on_delete=models.PROTECT,
        related_name="pupils",
        help_text="The organiser whose records hold this pupil: the partition key.",
    )
    personnummer = models.CharField(
        _("personal identity number"),
        max_length=13,
        unique=True,
        validators=[validate_personnummer],
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    legal_gender = models.CharField(_("legal gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"))
    protected_identity = models.BooleanField(_("protected identity"), default=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    municipality_of_residence = models.ForeignKey(
        Organiser, on_delete=models.PROTECT, related_name="residents", null=True, blank=True
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        permissions = [
            ("view_protected_identity", "Can see protected-identity details"),
            ("view_pupil_names", "Can see pupil names in municipality-wide views"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        if self.personnummer:
            try:
                parsed = personnummer.parse(self.personnummer)
            except personnummer.InvalidPersonnummer:
                return  # the field validator reports it
            self.personnummer = parsed.normalized
            if self.birth_date and self.birth_date != parsed.birth_date:
                raise ValidationError(
                    {
                        "birth_date": _(
                            "Date of birth %(date)s does not match the personal "
                            "identity number %(pnr)s."
                        )
                        % {"date": self.birth_date, "pnr": self.personnummer}
                    }
                )


class Guardian(models.Model):
    """A guardian (vårdnadshavare) with contact details."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.CharField(max_length=200, blank=True)  # stored as given; bounces are shown
    phone = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Guardianship(models.Model):
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="guardianships")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="guardianships")
    relation = models.CharField(max_length=50, default="vårdnadshavare")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "guardian"], name="one_guardianship")
        ]


class Role(models.TextChoices):
    TEACHER = "teacher", _("teacher")
    MENTOR = "mentor", _("mentor")
    PRINCIPAL = "principal", _("principal")
    SPECIAL_EDUCATOR = "special_educator", _("special educator")
    SPECIAL_TEACHER = "special_teacher", _("special teacher")
    SCHOOL_NURSE = "school_nurse", _("school nurse")
    COUNSELLOR = "counsellor", _("counsellor")
    PSYCHOLOGIST = "psychologist", _("psychologist")
    SCHOOL_DOCTOR = "school_doctor", _("school doctor")
    STUDY_COUNSELLOR = "study_counsellor", _("study and career counsellor")
    ADMINISTRATION = "administration", _("administration")
    ATTENDANCE_OFFICER = "attendance_officer", _("compulsory-school officer")


STUDENT_HEALTH_ROLES = frozenset(
    {
        Role.SPECIAL_EDUCATOR,
        Role.SPECIAL_TEACHER,
        Role.SCHOOL_NURSE,
        Role.COUNSELLOR,
        Role.PSYCHOLOGIST,
        Role.SCHOOL_DOCTOR,
        Role.STUDY_COUNSELLOR,
    }
)


class Staff(models.Model):
    """A member of staff; roles are held per school (or per organiser for the administration)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.CharField(max_length=200, blank=True)
    username = models.CharField(max_length=150, unique=True)
    # The municipality's own number for the person (anställningsnummer), which single sign-on
    # may match on instead of the e-mail address.
    employee_number = models.CharField(max_length=50, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# Roles held for the whole organiser; every other role is held at a school.
ORGANISER_ROLES = frozenset({Role.ADMINISTRATION, Role.ATTENDANCE_OFFICER})


class StaffRole(models.Model):
    """A role held at a school, or for the whole organiser (ORGANISER_ROLES). A role at a school
    reaches that school's pupils; a person serving several schools holds it at each."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roles")
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="staff_roles")
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="staff_roles"
    )
    role = models.CharField(max_length=30, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "organiser", "school", "role"], name="one_role_per_place"
            )
        ]

    def clean(self) -> None:
        if self.role in ORGANISER_ROLES and self.school_id:
            raise ValidationError(
                {"school": _("This role is held for the whole organiser, not at a school.")}
            )
        if self.role and self.role not in ORGANISER_ROLES and not self.school_id:
            raise ValidationError(
                {
                    "school": _(
                        "Choose the school where this role is held; a person serving several schools "
                        "holds the role at each of them."
                    )
                }
            )
        if self.school and self.organiser_id and self.school.organiser_id != self.organiser_id:
            raise ValidationError({"school": _("The school belongs to another organiser.")})


class SchoolClass(models.Model):
    """A class (klass) in one school year, e.g. 7B."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classes")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=20)
    grade = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["grade", "name"]
        verbose_name_plural = "classes"

    def __str__(self) -> str:
        return self.name


class PeriodQuerySet(models.QuerySet):
    def active_on(self, day: dt.date) -> PeriodQuerySet:
        return self.filter(Q(end__isnull=True) | Q(end__gte=day), start__lte=day)


class Period(models.Model):
    """A from–to relation; `end` is the last day, empty while it lasts."""

    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError(
                {
                    "end": _("End %(end)s is before start %(start)s.")
                    % {"end": self.end, "start": self.start}
                }
            )


class Placement(Period, ValidatedModel):
    """Which school and class a pupil attends from–to (placering): moves are history."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="placements")
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="placements")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="placements")
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="placements", null=True, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["school", "start"])]

    def clean(self) -> None:
        super().clean()
        if not (self.pupil_id and self.start):
            return
        if self.school_id and not self.organiser_id:
            self.organiser_id = self.school.organiser_id
        overlapping = Placement.objects.filter(pupil_id=self.pupil_id).exclude(pk=self.pk)
        overlapping = overlapping.filter(Q(end__isnull=True) | Q(end__gte=self.start))
        if self.end:
            overlapping = overlapping.filter(start__lte=self.end)
        clash = overlapping.first()
        if clash:
            raise ValidationError(
                {
                    "start": _(
                        "Placement %(start)s–%(end)s overlaps the placement at %(school)s "
                        "from %(other)s."
                    )
                    % {
                        "start": self.start,
                        "end": self.end or "",
                        "school": clash.school,
                        "other": clash.start,
                    }
                }
            )


class Mentorship(Period):
    """A mentor (mentor/kontaktlärare) for a pupil, from–to."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="mentorships")
    mentor = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="mentorships")


class TeachingGroup(models.Model):
    """A group that is taught together (undervisningsgrupp); usually a class."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="groups")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=50)
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.SET_NULL, null=True, blank=True, related_name="groups"
    )

    def __str__(self) -> str:
        return self.name


class GroupMembership(Period):
    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE, related_name="memberships")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="group_memberships")


class TeachingAssignment(models.Model):
    """A teacher teaches a subject to a group (tjänstgöring)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="teaching")
    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE, related_name="teaching")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="teaching")
