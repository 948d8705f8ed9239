"""Reads of the KASAM dialogue: which questionnaire a pupil answers, each dimension over time
for the pupil record, and the falling dimension the screening may read (docs/kasam.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from fullfolj.access import gate
from fullfolj.access.gate import Viewer
from fullfolj.lib import charts, clock
from fullfolj.schools.models import Placement, Pupil

from .models import Answer, Dimension, Questionnaire, Stage

FALL = 0.5  # a dimension's mean falling at least this much between two responses


def grade_of(pupil: Pupil, today: dt.date) -> int | None:
    placement = (
        Placement.objects.active_on(today)
        .filter(pupil=pupil)
        .select_related("school_class")
        .first()
    )
    if placement is None or placement.school_class is None:
        return None
    grade: int = placement.school_class.grade
    return grade


def questionnaire_for(pupil: Pupil, today: dt.date | None = None) -> Questionnaire | None:
    """The current questionnaire of the pupil's stage (years 4–6 or 7–9): the organiser's own
    version if it has one, else the shipped default; None outside those years."""
    stage = Stage.for_grade(grade_of(pupil, today or clock.today()))
    if stage is None:
        return None
    return current_questionnaire(pupil.organiser_id, stage)


def current_questionnaire(organiser_id: int | None, stage: str) -> Questionnaire | None:
    """The questionnaire an organiser's pupils of a stage answer now."""
    return (
        Questionnaire.objects.filter(stage=stage, is_current=True)
        .filter(Q(organiser_id=organiser_id) | Q(organiser__isnull=True))
        .order_by(F("organiser_id").asc(nulls_last=True))
        .prefetch_related("questions")
        .first()
    )


@dataclass(frozen=True)
class Scores:
    """One response: its date, how it was given, the version answered, each dimension's mean."""

    answered_on: dt.date
    setting: str
    version: str
    means: dict[str, float]


def scores(pupil_ids: list[int]) -> dict[int, list[Scores]]:
    """Each pupil's responses, oldest first, with the mean (1–5) of each dimension. A response
    keeps the questions of its own version, so old answers read as they were given."""
    sums: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    meta: dict[int, tuple[int, dt.date, str, str]] = {}
    rows = (
        Answer.objects.filter(response__pupil_id__in=pupil_ids)
        .order_by("response__answered_on", "response_id")
        .values_list(
            "response_id",
            "response__pupil_id",
            "response__answered_on",
            "response__setting",
            "response__questionnaire__stage",
            "response__questionnaire__version",
            "question__dimension",
            "value",
        )
    )
    for response_id, pupil_id, day, setting, stage, number, dimension, value in rows:
        meta[response_id] = (pupil_id, day, setting, f"{stage} v{number}")
        sums[response_id][dimension][0] += value
        sums[response_id][dimension][1] += 1
    result: dict[int, list[Scores]] = {pid: [] for pid in pupil_ids}
    for response_id, (pupil_id, day, setting, label) in meta.items():
        means = {d: total / count for d, (total, count) in sums[response_id].items() if count}
        result[pupil_id].append(Scores(day, setting, label, means))
    for items in result.values():
        items.sort(key=lambda s: s.answered_on)
    return result


def falling(pupil_ids: list[int], *, fall: float = FALL) -> dict[int, float]:
    """Per pupil, the largest fall of a dimension's mean from the previous response to the
    latest (0 when none fell); pupils with fewer than two responses are left out."""
    result = {}
    for pupil_id, items in scores(pupil_ids).items():
        if len(items) < 2:
            continue
        before, latest = items[-2].means, items[-1].means
        drops = [before[d] - latest[d] for d in latest if d in before]
        result[pupil_id] = max([0.0, *drops])
    return result


def for_pupil(pupil: Pupil, viewer: Viewer) -> dict[str, Any] | None:
    """The pupil record's KASAM section, for those who hold development talks with the pupil
    (mentor, principal, student-health team): each dimension over time as a chart and a table."""
    if not gate.support_pupils(viewer).filter(pk=pupil.pk).exists():
        return None
    items = scores([pupil.pk])[pupil.pk]
    dimensions = [(value, label) for value, label in Dimension.choices]
    chart = ""
    if items:
        labels = [f"{s.answered_on:%Y-%m-%d}" for s in items]
        chart = charts.horizontal_bars(
            "kasam",
            _("KASAM: each dimension's mean (1–5) per answer"),
            labels,
            [
                charts.Series(str(label).capitalize(), [s.means.get(value) for s in items])
                for value, label in dimensions
            ],
            stacked=False,
            unit="",
            ticks=5,
            axis_end=5,
            description=_(
                "Mean answer from 1 to 5 per dimension at each answer, oldest first; the "
                "numbers are in the table below."
            ),
        )
    return {
        "pupil": pupil,
        "items": items,
        "rows": [
            (s, [s.means.get(value) for value, _label in dimensions]) for s in reversed(items)
        ],
        "dimensions": [label for _value, label in dimensions],
        "chart": chart,
        "may_talk": Stage.for_grade(grade_of(pupil, clock.today())) is not None,
    }


def dialogue_frame(organiser_id: int, end: dt.date | None) -> pl.DataFrame:
    """The organiser's pupils' answers up to `end`, for the screening's `kasam_fall`: one row
    per answer and dimension with the mean in hundredths (screening.hooks.provide_dialogue)."""
    answers = Answer.objects.filter(response__pupil__organiser_id=organiser_id)
    if end is not None:
        answers = answers.filter(response__answered_on__lte=end)
    rows = (
        answers.values("response_id", "response__pupil_id", "response__answered_on")
        .annotate(dimension=F("question__dimension"), total=Sum("value"), count=Count("pk"))
        .order_by("response__answered_on", "response_id")
        .values_list("response__pupil_id", "response__answered_on", "dimension", "total", "count")
    )
    return pl.DataFrame(
        [
            (pupil, day, dim, (200 * total + count) // (2 * count))
            for pupil, day, dim, total, count in rows
        ],
        schema={"pupil_id": pl.Int64, "date": pl.Date, "dimension": pl.Utf8, "mean_x100": pl.Int64},
        orient="row",
    )
