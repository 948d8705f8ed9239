"""Writes to the absence ladder: the daily evaluation that opens tasks, and closing a task."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from fullfolj.attendance.models import PupilDay
from fullfolj.lib import clock
from fullfolj.schools.models import Mentorship, Placement, Role, Staff, StaffRole

from . import engine
from .models import Actor, LadderRecord, LadderStep, LadderTask, LadderTrigger

STREAK_LOOKBACK_DAYS = 60  # calendar days searched for the current run of whole days absent


def load_steps() -> tuple[list[engine.Step], dict[int, LadderStep]]:
    """The active steps as the engine sees them, each knowing the step before it."""
    steps = list(LadderStep.objects.filter(is_active=True).prefetch_related("triggers"))
    result = []
    for step in steps:
        earlier = [s for s in steps if s.order < step.order
                   and (s.organiser_id is None or s.organiser_id == step.organiser_id)]
        previous = max(earlier, key=lambda s: (s.order, s.pk)) if earlier else None
        result.append(engine.Step(
            id=step.pk, order=step.order, organiser_id=step.organiser_id,
            previous_id=previous.pk if previous else None,
            repeat_after_days=step.repeat_after_days,
            triggers=tuple(
                engine.Trigger(t.kind, t.window_days, float(t.threshold), t.invalid_only,
                               t.weeks_after_previous)
                for t in step.triggers.all()
            ),
        ))
    return result, {s.pk: s for s in steps}


def _indicators(day: dt.date, windows: list[int], streak: bool) -> pl.DataFrame:
    """Per pupil: sums over each window from the per-day aggregates, and the current streak."""
    table = PupilDay._meta.db_table
    columns, params = [], []
    for w in windows:
        start = day - dt.timedelta(days=w - 1)
        columns += [
            f"SUM(CASE WHEN date >= %s THEN scheduled_minutes ELSE 0 END) AS s{w}",
            f"SUM(CASE WHEN date >= %s THEN absent_minutes ELSE 0 END) AS a{w}",
            f"SUM(CASE WHEN date >= %s THEN invalid_minutes ELSE 0 END) AS i{w}",
            f"SUM(CASE WHEN date >= %s AND invalid_minutes > 0 THEN 1 ELSE 0 END) AS d{w}",
        ]
        params += [start] * 4
    schema = {"pupil_id": pl.Int64} | {f"{k}{w}": pl.Int64 for w in windows for k in "said"}
    frame = pl.DataFrame(schema=schema)
    if windows:
        earliest = day - dt.timedelta(days=max(windows) - 1)
        sql = (f"SELECT pupil_id, {', '.join(columns)} FROM {table} "  # noqa: S608
               "WHERE date >= %s AND date <= %s GROUP BY pupil_id")
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, earliest, day])
            frame = pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
    if streak:
        sql = (  # rows numbered from the latest day back; the streak ends at the first day present
            "SELECT pupil_id, MIN(CASE WHEN absent_minutes < scheduled_minutes OR "  # noqa: S608
            "scheduled_minutes = 0 THEN rn END), COUNT(*) FROM (SELECT pupil_id, absent_minutes, "
            "scheduled_minutes, ROW_NUMBER() OVER (PARTITION BY pupil_id ORDER BY date DESC) AS rn "
            f"FROM {table} WHERE date >= %s AND date <= %s) AS days GROUP BY pupil_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [day - dt.timedelta(days=STREAK_LOOKBACK_DAYS), day])
            runs = pl.DataFrame(cursor.fetchall(), orient="row",
                                schema={"pupil_id": pl.Int64, "present": pl.Int64, "n": pl.Int64})
        runs = runs.select("pupil_id", pl.when(pl.col("present").is_null()).then(pl.col("n"))
                           .otherwise(pl.col("present") - 1).alias("streak"))
        frame = frame.join(runs, on="pupil_id", how="full", coalesce=True)
    return frame


def _history(step_ids: list[int]) -> pl.DataFrame:
    rows = (LadderTask.objects.filter(step_id__in=step_ids).values("pupil_id", "step_id")
            .annotate(last_opened=Max("opened_on"),
                      open=Count("pk", filter=Q(closed_at__isnull=True)))
            .values_list("pupil_id", "step_id", "last_opened", "open"))
    frame = pl.DataFrame(list(rows), orient="row", schema={
        "pupil_id": pl.Int64, "step_id": pl.Int64, "last_opened": pl.Date, "open": pl.Int64})
    return frame.with_columns((pl.col("open") > 0).alias("has_open")).drop("open")


def _reason(trigger: LadderTrigger, value: float) -> str:
    if trigger.kind == LadderTrigger.Kind.INVALID_DAYS:
        measured = _("%(value)s days") % {"value": int(value)}
    elif trigger.kind == LadderTrigger.Kind.CONSECUTIVE_DAYS:
        measured = _("%(value)s days in a row") % {"value": int(value)}
    else:
        measured = f"{value:.1f} %"
    return (_("%(trigger)s (measured: %(measured)s)")
            % {"trigger": trigger.describe(), "measured": measured})[:300]


@transaction.atomic
def evaluate_ladder(day: dt.date | None = None) -> list[LadderTask]:
    """Evaluate every placed pupil against the ladder on `day`; open the tasks that triggered.

    Set-based (DOMAIN.md, Absence ladder): a handful of queries for the whole municipality,
    then Polars. Idempotent: one open task per pupil and step (also a database constraint).
    """
    day = day or clock.today()
    steps, by_id = load_steps()
    if not steps:
        return []
    placed = (Placement.objects.active_on(day).order_by("pupil_id", "-start")
              .values_list("pupil_id", "organiser_id", "school_id"))
    schools: dict[int, int] = {}
    organisers: dict[int, int] = {}
    for pupil, organiser, school in placed:
        schools.setdefault(pupil, school)
        organisers.setdefault(pupil, organiser)
    pupils = pl.DataFrame({"pupil_id": list(organisers), "organiser_id": list(organisers.values())},
                          schema={"pupil_id": pl.Int64, "organiser_id": pl.Int64})
    indicators = _indicators(day, engine.windows(steps), engine.needs_streak(steps))
    if "streak" not in indicators.columns:
        indicators = indicators.with_columns(pl.lit(0, dtype=pl.Int64).alias("streak"))
    hits = engine.triggered(day, steps, pupils, indicators, _history(list(by_id)))
    if not hits:
        return []
    hit_pupils = {hit.pupil_id for hit in hits}
    mentors: dict[int, int] = {}
    for pupil, mentor in (Mentorship.objects.active_on(day).filter(pupil_id__in=hit_pupils)
                          .order_by("pupil_id", "-start", "pk").values_list("pupil_id", "mentor_id")):
        mentors.setdefault(pupil, mentor)
    principals: dict[int, int] = {}
    for school, staff in (StaffRole.objects.filter(role=Role.PRINCIPAL,
                                                   school_id__in=set(schools.values()))
                          .order_by("school_id", "pk").values_list("school_id", "staff_id")):
        principals.setdefault(school, staff)
    tasks = []
    for hit in hits:
        step = by_id[hit.step_id]
        trigger = list(step.triggers.all())[hit.trigger]
        school = schools.get(hit.pupil_id)
        assignee = {Actor.MENTOR: mentors.get(hit.pupil_id),
                    Actor.PRINCIPAL: principals.get(school) if school else None}.get(step.actor)
        tasks.append(LadderTask(
            pupil_id=hit.pupil_id, step=step, school_id=school, actor=step.actor,
            assignee_id=assignee, opened_on=day,
            due=day + dt.timedelta(days=step.deadline_days), reason=_reason(trigger, hit.value),
        ))
    return LadderTask.objects.bulk_create(tasks, ignore_conflicts=True)


@transaction.atomic
def close_task(task: LadderTask, *, kind: str, date: dt.date | None, text: str,
               by: Staff) -> LadderRecord:
    """Close a task by documenting what was done (contact, meeting or decision) and when.

    A step is never closed without documentation (DOMAIN.md: every step is dated and followed
    up): an empty text, a missing or future date, or an unknown kind is refused.
    """
    errors: dict[str, str] = {}
    if kind not in LadderRecord.Kind.values:
        errors["kind"] = _("Choose what was done: a contact, a meeting or a decision.")
    if date is None:
        errors["date"] = _("Give the date it was done.")
    elif date > clock.today():
        errors["date"] = _("The date cannot be in the future.")
    if not (text or "").strip():
        errors["text"] = _("Describe what was done: a task is closed only with documentation.")
    if errors:
        raise ValidationError(errors)
    locked = LadderTask.objects.select_for_update().get(pk=task.pk)
    if locked.closed_at is not None:
        raise ValidationError(_("This task is already closed."))
    record = LadderRecord.objects.create(task=locked, kind=kind, date=date, text=text.strip(),
                                         by=by)
    locked.closed_at, locked.closed_by = clock.now(), by
    locked.save(update_fields=["closed_at", "closed_by"])
    task.closed_at, task.closed_by = locked.closed_at, by
    return record
