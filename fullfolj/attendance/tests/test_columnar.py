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
    second = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 16, 13, 0)),
        minutes=40,
    )
    f.mark(second, cast.pupil, absent=10, late=5, valid=True, reason=cast.reasons["SJUK"])
    f.mark(second, cast.other_pupil, late=3)
    rebuild_pupil_days()
    lessons = pl.DataFrame(
        list(LessonAttendance.objects.values_list(*columnar.LESSON_COLUMNS)),
        schema=list(columnar.LESSON_COLUMNS),
        orient="row",
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
            "date": pl.Series(
                [dt.date(2026, 3, 1) + dt.timedelta(days=d) for _, d in rows], dtype=pl.Date
            ),
            **{
                c: pl.Series([p * 10 + d for p, d in rows], dtype=pl.Int16)
                for c in columnar.DAY_COLUMNS
            },
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


_record = st.tuples(
    st.integers(1, 9),  # pupil
    st.integers(0, 12),  # day
    st.integers(0, 90),  # scheduled
    st.integers(0, 90),  # absent (at most scheduled)
    st.integers(0, 20),  # late
    st.sampled_from([True, False, None]),
)


def _lessons(records: list[tuple[int, int, int, int, int, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pupil_id": [r[0] for r in records],
            "date": [dt.date(2026, 3, 2) + dt.timedelta(days=r[1]) for r in records],
            "scheduled_minutes": [r[2] for r in records],
            "absent_minutes": [min(r[2], r[3]) for r in records],
            "late_minutes": [r[4] for r in records],
            "is_valid": [r[5] for r in records],
        },
        schema={
            "pupil_id": pl.Int32,
            "date": pl.Date,
            "scheduled_minutes": pl.Int16,
            "absent_minutes": pl.Int16,
            "late_minutes": pl.Int16,
            "is_valid": pl.Boolean,
        },
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_record, max_size=30), min_size=1, max_size=4))
def test_read_pupil_days_equals_the_grouped_aggregate(tmp_path_factory, files):
    """The grid path (bincount per cell) gives pupil_days' rows in (pupil, date) order, also
    when a pupil's day is spread over two files."""
    folder = tmp_path_factory.mktemp("lessons")
    paths = []
    for n, records in enumerate(files):
        paths.append(folder / f"part-{n}.parquet")
        _lessons(records).write_parquet(paths[-1])
    everything = _lessons([r for records in files for r in records])
    expected = columnar.in_pupil_order(columnar.pupil_days(everything).collect())
    assert columnar.read_pupil_days(paths).equals(expected)


def test_read_pupil_days_sums_large_figures_one_by_one(tmp_path):
    """Ten lessons a day and a lateness of 14,000 minutes could spill over a 17-bit lane: the
    figures are then summed one by one, with the same result."""
    records = [(1, 0, 40, 10, 0, False)] * 10 + [(2, 0, 60, 10, 14_000, True)]
    path = tmp_path / "part-0.parquet"
    _lessons(records).write_parquet(path)
    days = columnar.read_pupil_days([path])
    assert days.equals(columnar.in_pupil_order(columnar.pupil_days(_lessons(records)).collect()))
    assert days.select("lessons", "absent_minutes", "late_minutes").rows() == [
        (10, 100, 0),
        (1, 10, 14_000),
    ]


def test_a_day_beyond_pupildays_smallint_is_refused(tmp_path):
    records = [(1, 0, 30_000, 30_000, 0, False)] * 2
    path = tmp_path / "part-0.parquet"
    _lessons(records).write_parquet(path)
    with pytest.raises(ValueError, match="beyond PupilDay's smallint"):
        columnar.read_pupil_days([path])


def test_read_pupil_days_with_sparse_pupil_ids_groups_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(columnar, "_MAX_CELLS", 10)
    records = [(1, 0, 60, 0, 0, None), (9, 3, 60, 60, 0, False), (1, 3, 40, 5, 5, True)]
    path = tmp_path / "part-0.parquet"
    _lessons(records).write_parquet(path)
    expected = columnar.in_pupil_order(columnar.pupil_days(_lessons(records)).collect())
    assert columnar.read_pupil_days([path]).equals(expected)
    assert columnar.read_pupil_days([path]).height == 3
