"""Grades per pupil, subject and term (betyg) and mid-term warnings of a likely F."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser, Pupil, School, Staff, Subject, Term, ValidatedModel

# Points per grade (Skolförordningen); "-" is no grade for lack of basis and counts as not passed.
GRADE_POINTS = {"A": 20.0, "B": 17.5, "C": 15.0, "D": 12.5, "E": 10.0, "F": 0.0, "-": 0.0}
PASSING_GRADES = frozenset({"A", "B", "C", "D", "E"})


class Grade(ValidatedModel):
    """A term grade (terminsbetyg or slutbetyg) in one subject."""

    class Value(models.TextChoices):
        A = "A"
        B = "B"
        C = "C"
        D = "D"
        E = "E"
        F = "F"
        NONE = "-", _("– (no basis for a grade)")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="grades")
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True)
    grade = models.CharField(max_length=1, choices=Value.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "subject", "term"], name="one_grade"),
            models.CheckConstraint(
                condition=Q(grade__in=list(GRADE_POINTS)), name="grade_on_scale"
            ),
        ]

    def clean(self) -> None:
        if self.grade not in GRADE_POINTS:
            raise ValidationError(
                {
                    "grade": _("Grade “%(value)s” is not on the scale A–F or “–”.")
                    % {"value": self.grade}
                }
            )

    @property
    def is_passed(self) -> bool:
        return self.grade in PASSING_GRADES


class GradeWarning(models.Model):
    """A teacher's mid-term warning that a pupil risks an F (varning, risk för F)."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="grade_warnings")
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True)
    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "subject", "term"], name="one_warning")
        ]
