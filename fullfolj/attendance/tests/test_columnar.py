"""The columnar aggregate (fullfolj.attendance.columnar) equals the database's PupilDay."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from fullfolj.attendance import columnar
from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.attendance.models import LessonAttendance, PupilDay
from tests import factories as f

FIGURES = ("pupil_id", "date", *columnar.DAY_COLUMNS)


def test_pupil_days_equal_the_database_rebuild(cast):
    second = f.lesson(cast.group, cast.maths, cast.teacher, cast.spring,
                      timezone.make_aware(dt.datetime(2026, 3, 16, 13, 0)), minutes=40)
    f.mark(second, cast.pupil, absent=10, late=5, valid=True, reason=cast.reasons["SJUK"])
    f.mark(second, cast.other_pupil, late=3)
    rebuild_pupil_days()
    lessons = pl.DataFrame(
        list(LessonAttendance.objects.values_list(*columnar.LESSON_COLUMNS)),
        schema=list(columnar.LESSON_COLUMNS), orient="row",
    )
    ours = columnar.in_pupil_order(columnar.pupil_days(lessons).collect())
    database = sorted(PupilDay.objects.values_list(*FIGURES))
    assert ours.rows() == database
    assert ours.height >= 2


_day = st.tuples(st.integers(1, 6), st.integers(0, 30))  # pupil, day of March


def _frame(days: set[tuple[int, int]]) -> pl.DataFrame:
    rows = sorted(days, key=lambda d: (d[1], d[0]))  # date order, as lessons arrive
    return pl.DataFrame(
        {
            "pupil_id": pl.Series([p for p, _ in rows], dtype=pl.Int32),
            "date": pl.Series([dt.date(2026, 3, 1) + dt.timedelta(days=d) for _, d in rows],
                              dtype=pl.Date),
            **{c: pl.Series([p * 10 + d for p, d in rows], dtype=pl.Int16)
               for c in columnar.DAY_COLUMNS},
        }
    )


@settings(max_examples=60, deadline=None)
@given(st.sets(_day, max_size=40), st.sets(_day, min_size=1, max_size=10))
def test_add_days_puts_each_new_day_in_its_place(kept, new):
    new -= kept
    if not new:
        return
    before = columnar.in_pupil_order(_frame(kept))
    added = columnar.add_days(before, _frame(new))
    assert added.equals(columnar.in_pupil_order(_frame(kept | new)))


def test_add_days_refuses_a_day_already_kept():
    kept = columnar.in_pupil_order(_frame({(1, 2), (2, 3)}))
    with pytest.raises(ValueError, match="already in the aggregate"):
        columnar.add_days(kept, _frame({(2, 3), (4, 4)}))
