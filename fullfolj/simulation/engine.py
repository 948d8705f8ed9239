"""The simulated municipality as a pure, streaming engine (no Django).

`simulate(params)` yields `(table, frame)` chunks: first every small table once, in dependency
order (see `schema.TABLE_ORDER`); then, one school week at a time, `lessons` and `attendance`;
after the last week of each term, its `grades` and `grade_warnings`; and last the ground truth
(`truth`), kept apart from the product tables. Region scale (120,000 pupils, ~128 million
attendance rows a year) streams in chunks of a few million rows, so memory stays small.
Same parameters → byte-identical frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from .absence import AttendanceSimulator
from .grades import term_grades
from .parameters import Parameters
from .population import build_world
from .schema import SCHEMA, TABLE_ORDER, make_frame
from .school_calendar import epoch_day

__all__ = ["SCHEMA", "TABLE_ORDER", "Parameters", "simulate"]

SMALL_TABLES = tuple(
    t
    for t in TABLE_ORDER
    if t not in ("lessons", "attendance", "grades", "grade_warnings", "truth")
)


def simulate(params: Parameters) -> Iterator[tuple[str, pl.DataFrame]]:
    """Yield (table_name, frame) chunks of the simulated municipality or region.

    Small tables come once, first, in dependency order; `lessons` and `attendance` come one
    school week at a time; `grades` and `grade_warnings` after each term; `truth` last.
    """
    world = build_world(params)
    for table in SMALL_TABLES:
        yield table, world.tables[table]
    simulator = AttendanceSimulator(world)
    calendar = world.calendar
    terms = [term for year in calendar.school_years for term in year.terms]
    term_ends = {epoch_day(term.end): term for term in terms}
    next_grade_id, next_warning_id = 1, 1
    for week_index, monday in enumerate(calendar.weeks):
        chunk = simulator.week(week_index)
        if chunk is not None:
            yield "lessons", chunk[0]
            yield "attendance", chunk[1]
        for day in range(monday, monday + 7):
            term = term_ends.get(day)
            if term is None:
                continue
            layout = world.years[term.school_year_id - 1]
            grades, warnings = term_grades(simulator, layout, term, next_grade_id, next_warning_id)
            simulator.reset_term()
            next_grade_id += grades.height
            next_warning_id += warnings.height
            if grades.height:
                yield "grades", grades
            if warnings.height:
                yield "grade_warnings", warnings
    yield "truth", _truth(simulator)


def _truth(simulator: AttendanceSimulator) -> pl.DataFrame:
    """The latent traits behind the data, for evaluating screening models."""
    traits = simulator.traits
    pupils = simulator.world.pupils
    escalates = traits.escalates

    def optional_day(values: np.ndarray) -> pl.Series:
        series = pl.Series(values.astype(np.int32))
        return pl.select(pl.when(series >= 0).then(series)).to_series()

    skip = traits.skip_subject
    skip_id = pl.Series(skip + 1)
    return make_frame("truth", {
        "pupil_id": np.arange(1, pupils + 1),
        "base_absence_rate": traits.base_rate,
        "invalid_share": traits.invalid_share,
        "escalates": escalates,
        "escalation_start": optional_day(traits.escalation_start),
        "escalation_crossing": optional_day(simulator.crossing),
        "escalation_peak": pl.select(pl.when(pl.Series(escalates)).then(
            pl.Series(traits.escalation_peak))).to_series(),
        "escalation_ramp_weeks": pl.select(pl.when(pl.Series(escalates)).then(
            pl.Series(traits.escalation_ramp))).to_series(),
        "ability": traits.ability,
        "lateness_rate": traits.lateness_rate,
        "skip_subject_id": pl.select(pl.when(skip_id > 0).then(skip_id)).to_series(),
        "skip_subject_rate": pl.select(pl.when(skip_id > 0).then(
            pl.Series(traits.skip_rate))).to_series(),
        "reads_sva": simulator.world.pupil_sva,
    })  # fmt: skip
