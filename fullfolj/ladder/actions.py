"""Writes to the absence ladder: the daily evaluation that opens tasks, and closing a task."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from fullfolj.attendance.bulk import insert_rows, mark_saved
from fullfolj.attendance.models import PupilDay
from fullfolj.lib import clock
from fullfolj.schools.models import (
    Mentorship,
    Organiser,
    Placement,
    Role,
    SchoolYear,
    Staff,
    StaffRole,
)

from . import engine, hooks
from .models import Actor, LadderRecord, LadderStep, LadderTask, LadderTrigger


def ladders(steps: list[LadderStep]) -> dict[int | None, list[LadderStep]]:
    """The active steps by ladder: an organiser's own, and the default (key None)."""
    result: dict[int | None, list[LadderStep]] = {}
    for step in steps:
        result.setdefault(step.organiser_id, []).append(step)
    return result


def load_steps(
    organiser: Organiser | None = None,
) -> tuple[list[engine.Step], dict[int, LadderStep]]:
    """The active steps as the engine sees them, each knowing the step just below it."""
    steps = LadderStep.objects.filter(is_active=True).prefetch_related("triggers")
    if organiser is not None:
        steps = steps.filter(Q(organiser=organiser) | Q(organiser__isnull=True))
    by_ladder = ladders(list(steps.order_by("order", "pk")))
    if organiser is not None and organiser.pk in by_ladder:
        by_ladder.pop(None, None)  # an organiser with its own ladder does not use the default
    result, by_id = [], {}
    for ladder, members in by_ladder.items():
        for below, step in zip([None, *members], members, strict=False):
            by_id[step.pk] = step
            result.append(
                engine.Step(
                    id=step.pk,
                    order=step.order,
                    ladder=ladder,
                    previous_id=below.pk if below else None,
                    repeat_after_days=step.repeat_after_days,
                    triggers=tuple(
                        engine.Trigger(
                            t.kind,
                            t.window_days,
                            float(t.threshold),
                            t.invalid_only,
                            t.weeks_after_previous,
                        )
                        for t in step.triggers.all()
                    ),
                )
            )
    return result, by_id


def _indicators(
    day: dt.date, windows: list[int], streak_days: int, organiser: Organiser | None
) -> pl.DataFrame:
    """Per pupil, from the per-day aggregates: sums over each window (one pass), and the run of
    whole days absent up to the latest registered day (days without lessons do not break it).

    The run is looked for over enough calendar days to hold `streak_days` school days and a
    week off; a longer run counts as the days found there, enough to compare with the
    threshold.
    """
    table = PupilDay._meta.db_table
    streak_from = day - dt.timedelta(days=math.ceil(streak_days * 7 / 5) + 14)
    start = min([day - dt.timedelta(days=max(windows, default=1) - 1), streak_from])
    columns, params = [], []
    for w in windows:
        since = day - dt.timedelta(days=w - 1)
        columns += [
            f"SUM(CASE WHEN date >= %s THEN scheduled_minutes ELSE 0 END) AS s{w}",
            f"SUM(CASE WHEN date >= %s THEN absent_minutes ELSE 0 END) AS a{w}",
            f"SUM(CASE WHEN date >= %s THEN invalid_minutes ELSE 0 END) AS i{w}",
            f"SUM(CASE WHEN date >= %s AND invalid_minutes > 0 THEN 1 ELSE 0 END) AS d{w}",
        ]
        params += [since] * 4
    columns.append("MAX(CASE WHEN absent_minutes < scheduled_minutes THEN date END)")
    where = "date >= %s AND date <= %s"
    scope: list[dt.date | int] = [start, day]
    if organiser is not None:
        where += " AND organiser_id = %s"
        scope.append(organiser.pk)
    # SQLite hands back MAX() of a date as text.
    as_text = connection.vendor == "sqlite"
    schema = (
        {"pupil_id": pl.Int64}
        | {f"{k}{w}": pl.Int64 for w in windows for k in "said"}
        | {"last_present": pl.String if as_text else pl.Date}
    )
    # Only our table name, column aliases and placeholders are formatted in.
    sums = (
        f"SELECT pupil_id, {', '.join(columns)} FROM {table} "  # noqa: S608
        f"WHERE {where} GROUP BY pupil_id"
    )
    whole = (
        f"SELECT pupil_id, date FROM {table} WHERE {where} AND date >= %s "  # noqa: S608
        "AND scheduled_minutes > 0 AND absent_minutes >= scheduled_minutes"
    )
    with connection.cursor() as cursor:
        cursor.execute(sums, [*params, *scope])
        frame = pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
        if as_text:
            frame = frame.with_columns(pl.col("last_present").str.to_date())
        if not streak_days:
            return frame.drop("last_present").with_columns(pl.lit(0).alias("streak"))
        cursor.execute(whole, [*scope, streak_from])  # few rows: whole days absent
        absent = pl.DataFrame(
            cursor.fetchall(), orient="row", schema={"pupil_id": pl.Int64, "date": pl.Date}
        )
    runs = (
        absent.join(frame.select("pupil_id", "last_present"), on="pupil_id", how="left")
        .filter(pl.col("last_present").is_null() | (pl.col("date") > pl.col("last_present")))
        .group_by("pupil_id")
        .agg(pl.len().cast(pl.Int64).alias("streak"))
    )
    return (
        frame.drop("last_present")
        .join(runs, on="pupil_id", how="left")
        .with_columns(pl.col("streak").fill_null(0))
    )


def _history(step_ids: list[int]) -> pl.DataFrame:
    """Per pupil and step: when a task last opened, and whether one is open."""
    rows = (
        LadderTask.objects.filter(step_id__in=step_ids)
        .order_by()
        .values("pupil_id", "step_id")
        .annotate(last_opened=Max("opened_on"), open=Count("pk", filter=Q(closed_at__isnull=True)))
        .values_list("pupil_id", "step_id", "last_opened", "open")
    )
    frame = pl.DataFrame(
        list(rows),
        orient="row",
        schema={
            "pupil_id": pl.Int64,
            "step_id": pl.Int64,
            "last_opened": pl.Date,
            "open": pl.Int64,
        },
    )
    return frame.with_columns((pl.col("open") > 0).alias("has_open")).drop("open")


class _Reasons:
    """Why a step opened, in words; the trigger's description is made once per run."""

    def __init__(self) -> None:
        self.described: dict[int, str] = {}
        self.comma = number_format(0.5, 1)[1]  # the language's decimal separator

    def __call__(self, trigger: LadderTrigger, value: float) -> str:
        if trigger.kind == LadderTrigger.Kind.INVALID_DAYS:
            measured = _("%(value)s days") % {"value": int(value)}
        elif trigger.kind == LadderTrigger.Kind.CONSECUTIVE_DAYS:
            measured = _("%(value)s days in a row") % {"value": int(value)}
        else:
            # Half up, as people round: 6.25 % reads 6,3 %.
            rounded = Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            measured = f"{rounded} %".replace(".", self.comma)
        if trigger.pk not in self.described:
            self.described[trigger.pk] = trigger.describe()
        return (
            _("%(trigger)s (measured: %(measured)s)")
            % {"trigger": self.described[trigger.pk], "measured": measured}
        )[:300]


def _placed(day: dt.date, organiser: Organiser | None) -> pl.DataFrame:
    """Every pupil placed on `day`: organiser and school of the latest placement."""
    placements = Placement.objects.active_on(day)
    if organiser is not None:
        placements = placements.filter(organiser=organiser)
    rows = list(placements.values_list("pupil_id", "organiser_id", "school_id", "start"))
    return (
        pl.DataFrame(
            rows,
            orient="row",
            schema={
                "pupil_id": pl.Int64,
                "organiser_id": pl.Int64,
                "school_id": pl.Int64,
                "start": pl.Date,
            },
        )
        .sort(["pupil_id", "start"], descending=[False, True])
        .unique(subset="pupil_id", keep="first", maintain_order=True)
    )


_TASK_COLUMNS = (
    ("pupil_id", "bigint"),
    ("step_id", "bigint"),
    ("school_id", "bigint"),
    ("actor", "text"),
    ("assignee_id", "bigint"),
    ("opened_on", "date"),
    ("due", "date"),
    ("reason", "text"),
)


@transaction.atomic
def evaluate_ladder(
    organiser: Organiser | None = None, as_of: dt.date | None = None
) -> list[LadderTask]:
    """Evaluate the pupils placed on `as_of` (default today; all organisers, or one) against
    their ladder and open the tasks that trigger, dated, each for its responsible person.

    Set-based (docs/ladder.md): about ten queries whatever the number of pupils,
    two of them over the per-day aggregates, then Polars; engine.triggered decides. Idempotent: runs
    are serialised by locking the ladder's steps, and a pupil has at most one task per step
    and day (a database constraint), so running the same day again opens nothing twice.
    """
    if organiser is not None and not isinstance(organiser, Organiser):
        raise TypeError(
            f"evaluate_ladder(organiser, as_of): organiser is {organiser!r}; give the day as as_of="
        )
    day = as_of or clock.today()
    list(LadderStep.objects.select_for_update().filter(is_active=True).values_list("pk"))
    steps, by_id = load_steps(organiser)
    if not steps:
        return []
    own = {step.ladder for step in steps if step.ladder is not None}
    placed = _placed(day, organiser)
    pupils = placed.select(
        "pupil_id",
        pl.when(pl.col("organiser_id").is_in(list(own)))
        .then(pl.col("organiser_id"))
        .otherwise(None)
        .alias("ladder"),
    )
    indicators = _indicators(day, engine.windows(steps), engine.streak_days(steps), organiser)
    history = _history(list(by_id))
    hits = engine.triggered(day, steps, pupils, indicators, history)
    if not hits:
        return []
    schools = dict(placed.select("pupil_id", "school_id").iter_rows())
    hit_pupils = {hit.pupil_id for hit in hits}
    mentors: dict[int, int] = {}
    for pupil, mentor in (
        Mentorship.objects.active_on(day)
        .filter(pupil_id__in=hit_pupils)
        .order_by("pupil_id", "-start", "pk")
        .values_list("pupil_id", "mentor_id")
    ):
        mentors.setdefault(pupil, mentor)
    principals: dict[int, int] = {}
    hit_schools = {schools[p] for p in hit_pupils}
    for school, staff in (
        StaffRole.objects.filter(role=Role.PRINCIPAL, school_id__in=hit_schools)
        .order_by("school_id", "pk")
        .values_list("school_id", "staff_id")
    ):
        principals.setdefault(school, staff)
    tasks = []
    triggers = {pk: list(step.triggers.all()) for pk, step in by_id.items()}
    with translation.override(settings.LANGUAGE_CODE):  # the reason is kept as written
        reason = _Reasons()
        for hit in hits:
            step = by_id[hit.step_id]
            trigger = triggers[hit.step_id][hit.trigger]
            school = schools[hit.pupil_id]
            by_actor: dict[str, int | None] = {
                Actor.MENTOR: mentors.get(hit.pupil_id),
                Actor.PRINCIPAL: principals.get(school),
            }
            assignee = by_actor.get(step.actor)
            tasks.append(
                LadderTask(
                    pupil_id=hit.pupil_id,
                    step_id=step.pk,
                    school_id=school,
                    actor=step.actor,
                    assignee_id=assignee,
                    opened_on=day,
                    due=day + dt.timedelta(days=step.deadline_days),
                    reason=reason(trigger, hit.value),
                )
            )
    # One statement of our own: Django's bulk_create spent more CPU on thousands of tasks
    # than the database did. A task already opened today stands (a unique constraint).
    day_value = connection.ops.adapt_datefield_value
    insert_rows(
        LadderTask,
        _TASK_COLUMNS,
        [
            (
                t.pupil_id,
                t.step_id,
                t.school_id,
                t.actor,
                t.assignee_id,
                day_value(t.opened_on),
                day_value(t.due),
                t.reason,
            )
            for t in tasks
        ],
        ignore_conflicts=True,
    )
    for task in tasks:
        mark_saved(task, None)  # as bulk_create with ignore_conflicts: no ids read back
    for listener in hooks.listeners():
        listener.opened(day, tasks)
    return tasks


def documentable_from(task: LadderTask) -> dt.date:
    """The first day what was done for a task may be dated: the start of the school year the
    task opened in (its own day, if no school year is known). The last is today."""
    year = SchoolYear.objects.filter(start__lte=task.opened_on).order_by("-start").first()
    return year.start if year is not None else task.opened_on


def record_date_error(date: dt.date, first: dt.date) -> str | None:
    """Why `date` cannot date a task's documentation (from `first` to today), or None."""
    if date > clock.today():
        return _("The date cannot be in the future.")
    if date < first:
        return _("The date cannot be before %(first)s, when the school year began.") % {
            "first": first.isoformat()
        }
    return None


@transaction.atomic
def close_task(
    task: LadderTask, *, kind: str, date: dt.date | None, text: str, by: Staff
) -> LadderRecord:
    """Close a task by documenting what was done (contact, meeting or decision) and when.

    A step is never closed without documentation (docs/ladder.md: every step is dated and followed
    up): an empty text, a missing date or one outside the task's school year or in the future,
    or an unknown kind is refused.
    """
    errors: dict[str, str] = {}
    if kind not in LadderRecord.Kind.values:
        errors["kind"] = _("Choose what was done: a contact, a meeting or a decision.")
    if date is None:
        errors["date"] = _("Give the date it was done.")
    elif problem := record_date_error(date, documentable_from(task)):
        errors["date"] = problem
    if not (text or "").strip():
        errors["text"] = _("Describe what was done: a task is closed only with documentation.")
    if errors or date is None:  # a missing date is among the errors
        raise ValidationError(errors)
    locked = LadderTask.objects.select_for_update().get(pk=task.pk)
    if locked.closed_at is not None:
        raise ValidationError(_("This task is already closed."))
    record = LadderRecord.objects.create(
        task=locked, kind=kind, date=date, text=text.strip(), by=by
    )
    locked.closed_at, locked.closed_by = clock.now(), by
    locked.save(update_fields=["closed_at", "closed_by"])
    task.closed_at, task.closed_by = locked.closed_at, by
    return record
