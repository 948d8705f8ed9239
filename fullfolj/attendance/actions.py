"""Writes to attendance: the one way lesson rows and their per-day aggregates change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fullfolj.lib import clock
from fullfolj.schools.models import Staff

from . import hooks
from .models import AbsenceReason, AttendanceChange, Lesson, LessonAttendance, PupilDay
from .store import TUNED, Pair, Store, Swap, Writes, rebuild


@transaction.atomic
def rebuild_pupil_days(since: dt.date | None = None) -> int:
    """Recompute the per-day and per-subject-week aggregates from the lesson rows (bulk loads)."""
    rebuild(since)
    return (
        PupilDay.objects.count()
        if since is None
        else PupilDay.objects.filter(date__gte=since).count()
    )


def refresh_pupil_days(
    pairs: set[Pair],
    *,
    subjects: set[int] | None = None,
    rows_deleted: bool = True,
) -> None:
    """Recompute the aggregates for the (pupil, date) pairs whose lesson rows just changed.

    Runs inside the caller's transaction, so the aggregate never drifts from the lesson rows.
    Every pupil x date combination is recomputed: a harmless superset, the lesson rows rule.
    `subjects`: the subjects of the changed lessons, when the caller knows them (a register is
    one lesson): only those subject weeks are recomputed. `rows_deleted=False`: no lesson row
    of these pairs was deleted, so no aggregate can have lost all its rows (one query less).
    """
    TUNED.refresh(pairs, subjects=subjects, rows_deleted=rows_deleted)


PRESENT: dict[str, Any] = {
    "absent_minutes": 0,
    "late_minutes": 0,
    "is_valid": None,
    "reason": None,
    "reason_name": None,
}


@dataclass(frozen=True)
class Mark:
    """A teacher's mark for one pupil at one lesson, as the register form gives it."""

    pupil_id: int
    absent_minutes: int = 0
    late_minutes: int = 0
    is_valid: bool | None = None
    reason: AbsenceReason | None = None

    def as_fields(self) -> dict[str, Any]:
        absent = self.absent_minutes > 0  # validity and reason describe an absence only
        return {
            "absent_minutes": self.absent_minutes,
            "late_minutes": self.late_minutes,
            "is_valid": self.is_valid if absent else None,
            "reason": self.reason if absent else None,
        }


class StaleRegister(Exception):
    """The register was saved by someone else after this form was loaded."""

    def __init__(self, lesson: Lesson, changes: list[AttendanceChange]) -> None:
        super().__init__(f"lesson {lesson.pk} is at version {lesson.version}")
        self.lesson = lesson
        self.changes = changes


def changes_since(lesson: Lesson, version: int) -> list[AttendanceChange]:
    """The history rows written after `version` of the lesson's register, oldest first."""
    return list(
        AttendanceChange.objects.filter(lesson=lesson, version__gt=version)
        .select_related("attendance__pupil", "changed_by")
        .order_by("changed_at", "pk")
    )


@dataclass(frozen=True)
class Loaded:
    """What the caller read of a lesson's register just before saving it, in this request: its
    marks by pupil and the organiser of each pupil who may get a new mark (the group's members
    that day). register_lesson uses it only when its swap proves it current (see there)."""

    rows: dict[int, LessonAttendance]
    organisers: dict[int, int]


@transaction.atomic
def register_lesson(
    lesson: Lesson,
    marks: Sequence[Mark],
    *,
    by: Staff,
    expected_version: int | None = None,
    loaded: Loaded | None = None,
    store: Store = TUNED,
) -> list[AttendanceChange]:
    """Save a teacher's register for the whole group at once; return the history rows written.

    A lesson is registered once it has started. Each pupil must be in the group on the lesson's
    date (or already have a mark). With `expected_version` (the version the form was loaded at),
    a save is refused with StaleRegister when someone else changed marks meanwhile; a save by
    someone else that changed no mark does not conflict. Every changed mark is kept as history
    (who, when, old, new) and the per-day aggregates follow in the same transaction, as do the
    listeners of attendance.hooks (the guardian notices' outbox, Skollagen 7 kap. 17 §): what
    they write commits, or rolls back, with the marks.

    `loaded` (with `expected_version`) spares reading the marks again: every change of a mark
    goes through here and bumps the version, so when the swap from `expected_version` holds,
    nothing was saved since the page was loaded, nor since the caller read `loaded` after that.
    `store`: how the rows are written (store.TUNED; store.REFERENCE in tests).
    """
    now = clock.now()
    if lesson.start > now:
        raise ValidationError(
            _("The lesson has not started yet (it starts %(start)s).")
            % {"start": date_format(timezone.localtime(lesson.start), "j F H:i")}
        )
    by_pupil = {mark.pupil_id: mark for mark in marks}
    if loaded is not None and expected_version is not None:
        # Planned from the caller's read, then swap and writes together (one round trip on
        # PostgreSQL): the writes happen only if the swap holds, which proves that read current.
        try:
            plan = _plan(
                lesson,
                by_pupil,
                loaded.rows,
                _organisers(lesson, by_pupil, loaded.rows, loaded),
                by=by,
                now=now,
                version=expected_version + 1,
            )
        except ValidationError:
            plan = None  # refused below as without `loaded`, after the swap
        if plan is not None and _write(store, plan, swap=(now, by, expected_version)):
            _saved(lesson, version=expected_version + 1, at=now, by=by)
            return plan.writes.history
        loaded = None  # the swap lost, and wrote nothing: read the marks again below
    swapped = store.bump(lesson, at=now, by=by, expected=expected_version)
    if not swapped:
        # The compare-and-swap above lost: someone saved in between. Refuse only if they
        # changed a mark; their save merely confirming what this form showed is no conflict.
        conflicting = changes_since(lesson, expected_version or 0)
        if conflicting:
            lesson.refresh_from_db(fields=SAVE_FIELDS)
            raise StaleRegister(lesson, conflicting)
        store.bump(lesson, at=now, by=by, expected=None)
        lesson.refresh_from_db(fields=SAVE_FIELDS)
        if expected_version is not None and lesson.version <= expected_version:
            # A version the register never had (no history can be after it): refused, or
            # it would pass every change since the form was loaded. The bump rolls back.
            raise ValidationError(
                _(
                    "The form names a version this register never had. "
                    "Reload the page and enter the register again."
                )
            )
    elif expected_version is None:
        lesson.refresh_from_db(fields=SAVE_FIELDS)
    else:  # the swap held the row at expected_version and bumped it once: no need to read it
        _saved(lesson, version=expected_version + 1, at=now, by=by)

    existing = {
        row.pupil_id: row
        for row in LessonAttendance.objects.filter(lesson=lesson).select_related("reason")
    }
    plan = _plan(
        lesson,
        by_pupil,
        existing,
        _organisers(lesson, by_pupil, existing, None),
        by=by,
        now=now,
        version=lesson.version,
    )
    _write(store, plan, swap=None)
    return plan.writes.history


SAVE_FIELDS = ["version", "first_registered_at", "registered_at", "registered_by"]


def _saved(lesson: Lesson, *, version: int, at: dt.datetime, by: Staff) -> None:
    """The lesson in memory as the swap just left it in the database, without reading it."""
    lesson.first_registered_at = lesson.first_registered_at or lesson.registered_at or at
    lesson.version, lesson.registered_at, lesson.registered_by = version, at, by


def _organisers(
    lesson: Lesson,
    by_pupil: dict[int, Mark],
    existing: dict[int, LessonAttendance],
    loaded: Loaded | None,
) -> dict[int, int]:
    """The organiser of each marked pupil without a mark yet, who must be in the group that
    day (one query finds them, unless `loaded` knows them); ValidationError names the others."""
    strangers = set(by_pupil) - set(existing)
    if loaded is not None:
        organisers = {p: loaded.organisers[p] for p in strangers if p in loaded.organisers}
    elif strangers:
        organisers = dict(
            lesson.members().filter(pk__in=strangers).values_list("pk", "organiser_id")
        )
    else:
        organisers = {}
    strangers -= set(organisers)
    if strangers:
        raise ValidationError(
            _("Pupil %(ids)s is not in group %(group)s on %(date)s.")
            % {
                "ids": ", ".join(map(str, sorted(strangers))),
                "group": lesson.group,
                "date": date_format(lesson.date),
            }
        )
    return organisers


@dataclass
class _Plan:
    """What a save writes, and which listener hears of which (pupil, day)s."""

    writes: Writes
    told: list[tuple[hooks.MarksListener, set[Pair]]]


def _plan(
    lesson: Lesson,
    by_pupil: dict[int, Mark],
    existing: dict[int, LessonAttendance],
    organisers: dict[int, int],
    *,
    by: Staff,
    now: dt.datetime,
    version: int,
) -> _Plan:
    """The marks' rows set to the new values and checked; history rows at `version`."""
    created, updated, history = [], [], []
    for pupil_id, mark in by_pupil.items():
        row = existing.get(pupil_id)
        old = row.snapshot() if row else None
        if row is None:
            row = LessonAttendance(
                lesson=lesson,
                pupil_id=pupil_id,
                date=lesson.date,
                organiser_id=organisers[pupil_id],
                scheduled_minutes=lesson.minutes,
            )
        for field, value in mark.as_fields().items():
            setattr(row, field, value)
        if mark.absent_minutes or mark.late_minutes:  # a present mark fits any lesson
            # Field checks and clean() per row; the database constraints guard the rest.
            row.full_clean(
                exclude=["lesson", "pupil", "organiser", "reason"],
                validate_unique=False,
                validate_constraints=False,
            )
        new = row.snapshot()
        if old == new:
            continue
        (updated if row.pk else created).append(row)
        if (old or PRESENT) != new:
            history.append(
                AttendanceChange(
                    attendance=row,
                    lesson=lesson,
                    version=version,
                    changed_by=by,
                    changed_at=now,
                    old=old,
                    new=new,
                )
            )
    told = []
    for listener in hooks.listeners():
        pairs = {
            (change.attendance.pupil_id, lesson.date)
            for change in history
            if listener.concerns(change.old, change.new)
        }
        if pairs:
            told.append((listener, pairs))
    return _Plan(Writes(lesson, created, updated, history), told)


def _write(store: Store, plan: _Plan, *, swap: Swap | None) -> bool:
    """Write the plan, its listeners' reads with it; tell them. False if `swap` lost: nothing
    was written, nobody told."""
    reads = [listener.read(pairs) for listener, pairs in plan.told]
    rows = store.write(plan.writes, swap=swap, reads=reads)
    if rows is None:
        return False
    for (listener, pairs), read in zip(plan.told, rows, strict=True):
        listener.heard(pairs, read)
    return True


@dataclass(frozen=True)
class Settlement:
    """A mentor's decision on one absence whose validity was not yet known (Att avgöra)."""

    attendance_id: int
    expected_version: int  # the lesson's version when the page was loaded
    is_valid: bool
    reason: AbsenceReason | None = None


class StaleSettlement(Exception):
    """Some of the absences were changed by someone else after the page was loaded."""

    def __init__(self, changes: list[AttendanceChange]) -> None:
        super().__init__(f"{len(changes)} absences changed meanwhile")
        self.changes = changes


@transaction.atomic
def settle_absences(settlements: Sequence[Settlement], *, by: Staff) -> list[AttendanceChange]:
    """Mark absences valid or invalid for the whole page at once; return the history rows.

    The caller has checked access. The rows are locked, and if any mark changed after the page
    was loaded (settled by someone else, minutes corrected) nothing is saved: StaleSettlement
    carries what changed. Each lesson's mark goes through register_lesson, so history,
    per-day aggregates and guardian notices follow exactly as for a teacher's correction.
    """
    wanted = {s.attendance_id: s for s in settlements}
    rows = list(
        LessonAttendance.objects.select_for_update()
        .filter(pk__in=wanted)
        .select_related("lesson")
        .order_by("pk")
    )
    conflicts = [
        change
        for row in rows
        for change in AttendanceChange.objects.filter(
            attendance=row, version__gt=wanted[row.pk].expected_version
        ).select_related("attendance__pupil", "lesson__subject", "changed_by")
    ]
    conflicts += [  # settled without a history row (an import), or by another path
        change
        for row in rows
        if row.is_valid is not None
        for change in [
            AttendanceChange(
                attendance=row,
                lesson=row.lesson,
                version=row.lesson.version,
                changed_at=clock.now(),
                old=None,
                new=row.snapshot(),
            )
        ]
        if not any(c.attendance_id == row.pk for c in conflicts)
    ]
    if conflicts:
        raise StaleSettlement(conflicts)
    history: list[AttendanceChange] = []
    by_lesson: dict[int, list[LessonAttendance]] = {}
    for row in rows:
        by_lesson.setdefault(row.lesson_id, []).append(row)
    for lesson_rows in by_lesson.values():
        lesson = lesson_rows[0].lesson
        marks = [
            Mark(
                pupil_id=row.pupil_id,
                absent_minutes=row.absent_minutes,
                late_minutes=row.late_minutes,
                is_valid=wanted[row.pk].is_valid,
                reason=wanted[row.pk].reason,
            )
            for row in lesson_rows
        ]
        history += register_lesson(lesson, marks, by=by)
    return history
