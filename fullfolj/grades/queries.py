"""Reads of grades shaped for pages."""

from __future__ import annotations

from dataclasses import dataclass

from fullfolj.schools.models import Pupil, Term

from .models import Grade, GradeWarning


@dataclass(frozen=True)
class GradeTable:
    """Grades per subject (rows) and term (columns); None where no grade was set."""

    terms: list[Term]
    rows: list[tuple[str, list[str | None]]]
    warnings: list[GradeWarning]


def grade_table(pupil: Pupil) -> GradeTable:
    grades = list(Grade.objects.filter(pupil=pupil).select_related("subject", "term"))
    terms = sorted({g.term for g in grades}, key=lambda t: t.start)
    by_subject: dict[str, dict[int, str]] = {}
    for g in grades:
        by_subject.setdefault(g.subject.name, {})[g.term_id] = g.grade
    rows = [
        (subject, [by_subject[subject].get(t.pk) for t in terms]) for subject in sorted(by_subject)
    ]
    warnings = list(
        GradeWarning.objects.filter(pupil=pupil).select_related("subject", "term").order_by("-date")
    )
    return GradeTable(terms=terms, rows=rows, warnings=warnings)
