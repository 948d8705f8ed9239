"""The simulated municipality loads into the product's tables, cut at 'today'."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from django.core.management import call_command
from django.db.models import Sum

from fullfolj.attendance.models import LessonAttendance, PupilDay
from fullfolj.grades.models import Grade
from fullfolj.schools.models import Placement, Pupil, Staff

from .conftest import restore, snapshot

UNTIL = dt.date(2026, 3, 18)


@pytest.fixture(scope="module")
def municipality(django_db_setup, django_db_blocker, tmp_path_factory):
    truth = tmp_path_factory.mktemp("data") / "truth.parquet"
    with django_db_blocker.unblock():
        shipped = snapshot(truth.parent)
        printed = io.StringIO()
        call_command(
            "simulate", pupils=150, years=2, seed=3, until=UNTIL, truth=truth, stdout=printed
        )
        (truth.parent / "printed.txt").write_text(printed.getvalue(), encoding="utf-8")
    yield truth
    with django_db_blocker.unblock():
        restore(shipped)


def test_the_load_prints_its_progress_each_tenth_of_the_way(municipality):
    lines = (municipality.parent / "printed.txt").read_text(encoding="utf-8").splitlines()
    progress = [line for line in lines if line.startswith("simulate: ") and " % " in line]
    assert [line.split(" %")[0] for line in progress] == [
        f"simulate: {tenth * 10}" for tenth in range(1, 11)
    ]
    assert progress[-1].endswith(f"(attendance up to {UNTIL})")
    assert lines.index(progress[-1]) < len(lines) - 1  # the summary comes after


@pytest.mark.django_db
def test_nothing_after_today_is_loaded(municipality):
    assert LessonAttendance.objects.filter(date__gt=UNTIL).count() == 0
    assert Placement.objects.filter(start__gt=UNTIL).count() == 0
    assert Grade.objects.filter(term__end__gt=UNTIL).count() == 0
    truth = pl.read_parquet(municipality)
    assert truth.filter(pl.col("escalation_crossing") > UNTIL).is_empty()
    assert truth.filter(pl.col("escalation_crossing") <= UNTIL).height > 0


@pytest.mark.django_db
def test_the_ground_truth_is_a_file_beside_the_data_not_a_table(municipality):
    from django.apps import apps
    from django.db import connection

    assert not list(apps.get_app_config("simulation").get_models())
    assert not [t for t in connection.introspection.table_names() if "simulat" in t]
    assert pl.read_parquet(municipality)["pupil_id"].is_unique().all()


@pytest.mark.django_db
def test_evaluate_with_the_written_truth_gives_the_early_warning_figures(municipality):
    # The figures the evaluation gives on this simulation (local lesson times, the 7-9 day).
    out = io.StringIO()
    call_command("screen", "--evaluate", "--weekly", "--truth", str(municipality), stdout=out)
    assert out.getvalue().splitlines()[-3:] == [
        "early_warning: recall=1.000",
        "early_warning: precision=0.857",
        "early_warning: median_weeks=6.071",
    ]
    assert "4 escalations crossed 20 % after the first screening, 4 of them flagged" in (
        out.getvalue()
    )


@pytest.mark.django_db
def test_day_aggregates_equal_the_lesson_rows(municipality):
    lessons = LessonAttendance.objects.aggregate(
        a=Sum("absent_minutes"), s=Sum("scheduled_minutes")
    )
    days = PupilDay.objects.aggregate(a=Sum("absent_minutes"), s=Sum("scheduled_minutes"))
    assert lessons == days
    assert lessons["s"] > 0


@pytest.mark.django_db
def test_every_pupil_and_staff_member_is_valid(municipality):
    for pupil in Pupil.objects.all()[:200]:
        pupil.full_clean()  # personnummer, dates
    assert Pupil.objects.filter(protected_identity=True).exists()
    assert not Staff.objects.filter(user__isnull=True).exists()


@pytest.mark.django_db
def test_a_second_load_into_the_same_database_is_refused(municipality):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already holds pupils"):
        call_command("simulate", pupils=150, years=2, seed=3, until=UNTIL)
    call_command("simulate", pupils=150, years=2, seed=3, until=UNTIL, if_empty=True)


@pytest.mark.django_db
def test_the_big_tables_keep_every_index_after_the_load(municipality):
    """On SQLite the load drops their indexes and builds them after the rows: all come back."""
    from django.db import connection

    from fullfolj.simulation.loader import AGGREGATE_TABLES, LESSON_TABLES

    indexes = {
        index
        for table in (*LESSON_TABLES, *AGGREGATE_TABLES)
        for index in connection.introspection.get_constraints(connection.cursor(), table)
    }
    expected = {
        index.name for model in (LessonAttendance, PupilDay) for index in model._meta.indexes
    }
    assert expected <= indexes
    assert "attendance_unsettled" in indexes and "pupilday_date_sums" in indexes
