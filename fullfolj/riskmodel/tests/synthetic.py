"""A small synthetic history (Polars frames as the screening app keeps them), for tests.

Pupils whose absence starts climbing at a random date: their absence over 20 school days then
crosses 20 %, the outcome. Everyone else has a little valid (illness) absence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from fullfolj.screening.evaluation import History

TERMS = ((dt.date(2025, 8, 18), dt.date(2025, 12, 19)), (dt.date(2026, 1, 8), dt.date(2026, 6, 12)))
MINUTES = 300


def history(
    pupil_ids: Sequence[int],
    *,
    seed: int = 0,
    school_ids: Sequence[int] = (1, 2),
    until: dt.date = dt.date(2026, 6, 12),
    escalating: float = 0.35,
) -> History:
    rng = np.random.default_rng(seed)
    rows = []
    school_days = [
        start + dt.timedelta(days=i)
        for start, end in TERMS
        for i in range((end - start).days + 1)
        if (start + dt.timedelta(days=i)).weekday() < 5 and start + dt.timedelta(days=i) <= until
    ]
    for pupil in pupil_ids:
        starts = rng.random() < escalating
        onset = school_days[rng.integers(20, len(school_days) - 20)] if starts else None
        for day in school_days:
            rising = onset is not None and day >= onset
            weeks = (day - onset).days / 7 if rising else 0
            p_absent = min(0.9, 0.05 + 0.08 * weeks) if rising else 0.03
            absent = MINUTES if rng.random() < p_absent else 0
            invalid = absent if rising and rng.random() < 0.8 else 0
            rows.append((pupil, day, 5, MINUTES, absent, absent - invalid, invalid, 0, 0, 0))
    days = pl.DataFrame(
        rows,
        schema={
            "pupil_id": pl.Int64,
            "date": pl.Date,
            "lessons": pl.Int64,
            "scheduled_minutes": pl.Int64,
            "absent_minutes": pl.Int64,
            "valid_minutes": pl.Int64,
            "invalid_minutes": pl.Int64,
            "unknown_minutes": pl.Int64,
            "late_minutes": pl.Int64,
            "late_count": pl.Int64,
        },
        orient="row",
    )
    placements = pl.DataFrame(
        {
            "pupil_id": list(pupil_ids),
            "school_id": [school_ids[i % len(school_ids)] for i in range(len(pupil_ids))],
            "start": [TERMS[0][0]] * len(pupil_ids),
            "end": [None] * len(pupil_ids),
            "grade": [7 + i % 3 for i in range(len(pupil_ids))],
        },
        schema={
            "pupil_id": pl.Int64,
            "school_id": pl.Int64,
            "start": pl.Date,
            "end": pl.Date,
            "grade": pl.Int64,
        },
    )
    pupils = pl.DataFrame(
        {
            "pupil_id": list(pupil_ids),
            "gender": ["F" if i % 2 else "M" for i in range(len(pupil_ids))],
        }
    )
    terms = pl.DataFrame({"start": [t[0] for t in TERMS], "end": [t[1] for t in TERMS]})
    return History(days=days, terms=terms, placements=placements, pupils=pupils)
