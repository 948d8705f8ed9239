"""A teacher's lessons: which are left to register, each one's state, and the school days of
the term to move between (docs/absence.md)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fullfolj.access import gate
from fullfolj.lib import clock
from fullfolj.schools.calendar import school_days
from fullfolj.schools.models import DayOff, Staff, Term

from .models import AttendanceChange, Lesson

# How far back "the last school day" is looked for: longer than any holiday within a term.
_LOOK_BACK = dt.timedelta(days=120)


class LessonState(models.TextChoices):
    """Where a lesson's register stands, as the teacher sees it."""

    NOT_STARTED = "not_started", _("Not started")
    NOT_REGISTERED = "not_registered", _("Not registered")
    REGISTERED = "registered", _("Registered")
    CHANGED = "changed", _("Changed after registering")


def taught_by(staff: Staff) -> QuerySet[Lesson]:
    """The lessons this person teaches, through the gate."""
    return gate.lessons_taught_by(gate.Viewer(staff), Lesson.objects.all())


def current_term(today: dt.date) -> Term | None:
    """The term staff mean on `today`: the one it falls in, else the one that ended last."""
    return Term.at(today)


def unregistered_lessons(staff: Staff, today: dt.date) -> QuerySet[Lesson]:
    """The teacher's lessons of the current term that have started by now (on `today`) and that
    nobody has registered yet, oldest first.

    Guardians are to hear of invalid absence the same day (Skollagen 7 kap. 17 §): a lesson left
    unregistered hides it, so every such lesson is listed until registered."""
    term = current_term(today)
    if term is None:
        return Lesson.objects.none()
    started = Q(date__lt=today) | Q(date=today, start__lte=clock.now())
    return (
        taught_by(staff)
        .filter(started, date__gte=term.start, date__lte=min(term.end, today))
        .filter(registered_at__isnull=True)
        .select_related("group", "subject")
        .order_by("start", "pk")
    )


def with_states(lessons: QuerySet[Lesson]) -> QuerySet[Lesson]:
    """The lessons with what lesson_state needs, so a list of them takes one query."""
    first_save = Coalesce(OuterRef("first_registered_at"), OuterRef("registered_at"))
    later = AttendanceChange.objects.filter(lesson=OuterRef("pk"), changed_at__gt=first_save)
    return lessons.annotate(changed_after_registering=Exists(later))


def lesson_state(lesson: Lesson) -> LessonState:
    """Registered, not registered (or not started yet), or changed after registering.

    A mark changed by any later save (the teacher's correction, a mentor settling whether an
    absence was valid) counts as a change: the history on the register page says what changed.
    """
    if lesson.registered_at is None:
        return LessonState.NOT_STARTED if lesson.start > clock.now() else LessonState.NOT_REGISTERED
    changed = getattr(lesson, "changed_after_registering", None)
    if changed is None:
        first = lesson.first_registered_at or lesson.registered_at
        changed = AttendanceChange.objects.filter(lesson=lesson, changed_at__gt=first).exists()
    return LessonState.CHANGED if changed else LessonState.REGISTERED


def registered_late(lesson: Lesson) -> bool:
    """Whether the register was first saved after the lesson's day (registered afterwards)."""
    first = lesson.first_registered_at or lesson.registered_at
    return first is not None and timezone.localdate(first) > lesson.date


def teaching_days(staff: Staff, start: dt.date, end: dt.date) -> list[dt.date]:
    """The school days from start to end for the organisers this person works for."""
    organisers = set(staff.roles.values_list("organiser_id", flat=True))
    return school_days(organisers, start, end)


def last_school_day(staff: Staff, day: dt.date) -> dt.date | None:
    """The school day on or before `day` (a weekend or holiday gives the one before it)."""
    days = teaching_days(staff, day - _LOOK_BACK, day)
    return days[-1] if days else None


def days_off(staff: Staff, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The named days off (lov, studiedag) from start to end at this person's organisers."""
    organisers = staff.roles.values("organiser_id")
    return dict(
        DayOff.objects.filter(organiser_id__in=organisers, date__gte=start, date__lte=end)
        .order_by("date")
        .values_list("date", "name")
    )
