"""Term grades from year 6 and mid-term "risk för F" warnings.

A pupil's score in a subject is latent ability + a subject aptitude + a girls' advantage + noise,
minus a penalty for the term's absence (half in the subject itself, half overall). The score is
cut into A-F at thresholds that give roughly Skolverket's year-9 distribution; "-" (no basis for
a grade) is given mostly when a pupil missed more than about a third of the subject's lessons.
Teachers warn of a likely F some weeks before the term ends (docs/screening.md: the earliest signal).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .absence import AttendanceSimulator
from .schema import make_frame
from .school_calendar import Term, epoch_day
from .timetable import SUBJECT_INDEX, graded_subjects
from .world import YearLayout

GRADE_LETTERS = np.array(["F", "E", "D", "C", "B", "A"])
THRESHOLDS = np.array([-2.0, -0.95, -0.45, 0.28, 0.8])  # score cut points F|E|D|C|B|A
NO_GRADE = "-"


def term_grades(
    simulator: AttendanceSimulator,
    layout: YearLayout,
    term: Term,
    first_grade_id: int,
    first_warning_id: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Grades and warnings for every pupil in years 6-9 placed on the last day of `term`."""
    world, params, traits = simulator.world, simulator.params, simulator.traits
    rng = np.random.default_rng([params.seed, 6, term.id])
    end = epoch_day(term.end)
    placed = (layout.pupil_grade >= 6) & (layout.pupil_start <= end) & (layout.pupil_end >= end)
    pupils: list[np.ndarray] = []
    subjects: list[np.ndarray] = []
    taught_as: list[np.ndarray] = []  # SVA pupils sit in the class's SV lessons
    for year_group in range(6, 10):
        for reads_sva in (False, True):
            who = np.flatnonzero(
                placed & (layout.pupil_grade == year_group) & (world.pupil_sva == reads_sva)
            )
            codes = graded_subjects(year_group, reads_sva)
            index = np.array([SUBJECT_INDEX[c] for c in codes])
            lessons = np.array([SUBJECT_INDEX["SV" if c == "SVA" else c] for c in codes])
            pupils.append(np.repeat(who, len(codes)))
            subjects.append(np.tile(index, len(who)))
            taught_as.append(np.tile(lessons, len(who)))
    pupil = np.concatenate(pupils)
    subject = np.concatenate(subjects)
    lesson_subject = np.concatenate(taught_as)
    scheduled = simulator.term_scheduled
    absent = simulator.term_absent
    subject_rate = absent[pupil, lesson_subject] / np.maximum(scheduled[pupil, lesson_subject], 1)
    total_rate = absent.sum(axis=1)[pupil] / np.maximum(scheduled.sum(axis=1)[pupil], 1)
    female = world.pupil_gender[pupil] == 0
    score = (
        traits.ability[pupil] + traits.aptitude[pupil, subject]
        + params.girl_grade_advantage * female
        + rng.normal(0.0, params.grade_noise, len(pupil))
        - params.grade_absence_penalty * (0.5 * subject_rate + 0.5 * total_rate)
    )  # fmt: skip
    grade = GRADE_LETTERS[np.searchsorted(THRESHOLDS, score)]
    no_basis = rng.random(len(pupil)) < np.clip((subject_rate - 0.3) * 2.5, 0.0, 0.9)
    grade = np.where(no_basis, NO_GRADE, grade)
    klass = layout.pupil_class[pupil]
    teacher = world.subject_teacher[klass, lesson_subject]
    grades = make_frame("grades", {
        "id": np.arange(first_grade_id, first_grade_id + len(pupil)),
        "pupil_id": pupil + 1, "subject_id": subject + 1, "term_id": np.full(len(pupil), term.id),
        "school_id": world.class_school[klass] + 1, "teacher_id": teacher, "grade": grade,
    })  # fmt: skip

    # Warnings: most F and "-" were warned of; a few E were false alarms.
    failing = np.isin(grade, ["F", NO_GRADE])
    chance = np.where(
        failing, params.warning_recall, np.where(grade == "E", params.warning_false_alarm, 0.0)
    )
    warn = rng.random(len(pupil)) < chance
    target = end - 7 * params.warning_weeks_before_end
    organiser = world.class_organiser[klass]
    calendar = simulator.calendar
    dates = np.array(
        [
            calendar.first_school_day_from(int(o), target)
            for o in range(len(world.organisation.organiser_name))
        ]
    )[organiser]
    warn &= layout.pupil_start[pupil] <= dates  # only pupils who were there to be warned
    chosen = np.flatnonzero(warn)
    warnings = make_frame("grade_warnings", {
        "id": np.arange(first_warning_id, first_warning_id + len(chosen)),
        "pupil_id": pupil[chosen] + 1, "subject_id": subject[chosen] + 1,
        "term_id": np.full(len(chosen), term.id), "date": dates[chosen],
        "teacher_id": teacher[chosen],
    })  # fmt: skip
    return grades, warnings
