"""The simulated world as the weekly engine reads it: the small tables, per-year class layouts
and the arrays attendance and grades are drawn from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .organisation import Organisation
from .parameters import Parameters
from .school_calendar import Calendar, SchoolYear

OPEN_END = np.iinfo(np.int32).max  # an ongoing placement (end is null)
ABSENCE_REASONS = (  # (code, name, is_valid); ids 1.. in this order
    ("SJUK", "Sjukdom", True),
    ("LEDIG", "Beviljad ledighet", True),
    ("TANDL", "Tandläkare/vård", True),
    ("OGIL", "Ogiltig frånvaro", False),
)
SICK, LEAVE, DENTIST, INVALID = 1, 2, 3, 4  # absence reason ids


@dataclass
class YearLayout:
    """One school year: who is placed in which class, and each class's weekly timetable."""

    school_year: SchoolYear
    pupil_class: np.ndarray  # int32 (pupils,): global class index, -1 when not placed
    pupil_start: np.ndarray  # int32 epoch day of the placement's first day
    pupil_end: np.ndarray  # int32 epoch day of its last day (inclusive); OPEN_END if ongoing
    pupil_grade: np.ndarray  # int8, -1 when not placed
    class_offsets: np.ndarray  # CSR over global classes: members of class c are
    class_members: np.ndarray  # class_members[class_offsets[c]:class_offsets[c + 1]]
    timetable: dict[str, np.ndarray]  # one row per weekly lesson of each class this year


@dataclass
class World:
    """Everything the weekly engine needs, plus the small tables to yield."""

    params: Parameters
    calendar: Calendar
    organisation: Organisation
    tables: dict[str, pl.DataFrame]
    pupils: int
    pupil_gender: np.ndarray  # int8: 1 = male (odd ninth digit), 0 = female
    pupil_sva: np.ndarray  # bool: graded in Svenska som andraspråk
    class_school: np.ndarray  # int64 school index per global class
    class_grade: np.ndarray  # int8
    class_organiser: np.ndarray  # int64 organiser index per class
    subject_group: np.ndarray  # int64 (classes, subjects): group id, 0 when not taught
    subject_teacher: np.ndarray  # int64 (classes, subjects): staff id, 0 when not taught
    years: list[YearLayout] = field(default_factory=list)
