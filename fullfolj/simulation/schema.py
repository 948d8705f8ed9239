"""The tables the simulation yields: names, columns and dtypes, shared with the database loader.

Every id is int64 and starts at 1, except inside `attendance`, where foreign keys and minutes use
compact dtypes because the table holds ~128 million rows a year at region scale.
Lesson starts are instants in UTC, kept naive (the timetable's 08:15 in Sweden is 07:15 UTC in
winter). Date ranges (placements, mentorships, group members) are inclusive: a pupil is placed on every
date with start <= date <= end; end is null while the placement is ongoing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

ID = pl.Int64
DATE = pl.Date
DATETIME = pl.Datetime("us")
TEXT = pl.Utf8
BOOL = pl.Boolean

# A column's dtype as polars takes it: a class (pl.Int64) or an instance (pl.Datetime("us")).
Dtype = pl.DataType | type[pl.DataType]

SCHEMA: dict[str, dict[str, Dtype]] = {
    "organisers": {"id": ID, "name": TEXT, "kind": TEXT, "municipality_code": TEXT},
    "schools": {
        "id": ID, "organiser_id": ID, "name": TEXT, "unit_code": TEXT,
        "grade_from": pl.Int64, "grade_to": pl.Int64,
    },
    "school_years": {"id": ID, "name": TEXT, "start": DATE, "end": DATE},
    "terms": {"id": ID, "school_year_id": ID, "kind": TEXT, "start": DATE, "end": DATE},
    "days_off": {"id": ID, "organiser_id": ID, "date": DATE, "kind": TEXT, "name": TEXT},
    "subjects": {"id": ID, "code": TEXT, "name": TEXT},
    "absence_reasons": {"id": ID, "code": TEXT, "name": TEXT, "is_valid": BOOL},
    "pupils": {
        "id": ID, "personnummer": TEXT, "first_name": TEXT, "last_name": TEXT,
        "legal_gender": TEXT, "birth_date": DATE, "protected_identity": BOOL, "address": TEXT,
        "municipality_of_residence_id": ID,
    },
    "guardians": {
        "id": ID, "first_name": TEXT, "last_name": TEXT, "email": TEXT, "phone": TEXT,
        "address": TEXT,
    },
    "guardianships": {"id": ID, "pupil_id": ID, "guardian_id": ID, "relation": TEXT},
    "staff": {"id": ID, "first_name": TEXT, "last_name": TEXT, "email": TEXT, "username": TEXT},
    "staff_roles": {"id": ID, "staff_id": ID, "school_id": ID, "organiser_id": ID, "role": TEXT},
    "classes": {
        "id": ID, "school_id": ID, "school_year_id": ID, "name": TEXT, "grade": pl.Int64,
    },
    "placements": {
        "id": ID, "pupil_id": ID, "school_id": ID, "class_id": ID, "start": DATE, "end": DATE,
    },
    "mentorships": {"id": ID, "pupil_id": ID, "staff_id": ID, "start": DATE, "end": DATE},
    "groups": {
        "id": ID, "school_id": ID, "school_year_id": ID, "name": TEXT, "class_id": ID,
    },
    "group_members": {"id": ID, "group_id": ID, "pupil_id": ID, "start": DATE, "end": DATE},
    "teaching_assignments": {"id": ID, "staff_id": ID, "group_id": ID, "subject_id": ID},
    "lessons": {
        "id": ID, "group_id": ID, "subject_id": ID, "teacher_id": ID, "term_id": ID,
        "date": DATE, "start": DATETIME, "minutes": pl.Int16,
    },
    "attendance": {
        "id": ID, "lesson_id": pl.Int32, "pupil_id": pl.Int32, "date": DATE,
        "scheduled_minutes": pl.Int16, "absent_minutes": pl.Int16, "late_minutes": pl.Int16,
        "is_valid": BOOL, "reason_id": pl.Int8,
    },
    "grades": {
        "id": ID, "pupil_id": ID, "subject_id": ID, "term_id": ID, "school_id": ID,
        "teacher_id": ID, "grade": TEXT,
    },
    "grade_warnings": {
        "id": ID, "pupil_id": ID, "subject_id": ID, "term_id": ID, "date": DATE,
        "teacher_id": ID,
    },
    # escalation_crossing: for escalating pupils only, the first school day on or after
    # escalation_start whose 20-school-day window (ending with that day) has more than 20 %
    # absence (valid + invalid minutes / scheduled minutes) in the generated attendance.
    "truth": {
        "pupil_id": ID, "base_absence_rate": pl.Float64, "invalid_share": pl.Float64,
        "escalates": BOOL, "escalation_start": DATE, "escalation_crossing": DATE,
        "escalation_peak": pl.Float64, "escalation_ramp_weeks": pl.Int64,
        "ability": pl.Float64, "lateness_rate": pl.Float64, "skip_subject_id": ID,
        "skip_subject_rate": pl.Float64, "reads_sva": BOOL,
    },
}  # fmt: skip

# The order in which tables are first yielded: every foreign key points at an earlier table.
TABLE_ORDER: tuple[str, ...] = tuple(SCHEMA)

EPOCH_DAYS_DTYPE = "int32"  # dates are handled as days since 1970-01-01 inside the engine


def make_frame(table: str, columns: Mapping[str, Any]) -> pl.DataFrame:
    """Build `table` from column arrays or lists, cast exactly to its schema.

    Date columns may be given as days since 1970-01-01 (integers) and datetime columns as
    microseconds since 1970-01-01, so the engine can stay in numpy.
    """
    schema = SCHEMA[table]
    missing = set(schema) - set(columns)
    extra = set(columns) - set(schema)
    if missing or extra:
        raise ValueError(f"{table}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    series = []
    for name, dtype in schema.items():
        values = columns[name]
        if isinstance(values, pl.Series):
            s = values.rename(name)
        else:
            s = pl.Series(name, values, strict=False)
        if dtype == DATE and s.dtype != DATE:
            s = s.cast(pl.Int32).cast(DATE)
        elif dtype == DATETIME and s.dtype != DATETIME:
            s = s.cast(pl.Int64).cast(DATETIME)
        elif s.dtype != dtype:
            s = s.cast(dtype)
        series.append(s)
    return pl.DataFrame(series)
