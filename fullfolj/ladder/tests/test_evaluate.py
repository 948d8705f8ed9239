"""The daily evaluation against the database: each trigger kind with hand-computed figures,
climbing one step at a time, deadlines, idempotence and who gets the task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from fullfolj.attendance.models import PupilDay
from fullfolj.ladder import actions, queries
from fullfolj.ladder.models import Actor, LadderTask
from fullfolj.ladder.tests.conftest import TODAY, make_step, school_days

pytestmark = pytest.mark.usefixtures("empty_ladder")

FULL = 300  # scheduled minutes of one school day in these tests


def ten_days(absent: dict[int, tuple[int, int]] | None = None) -> list[tuple]:
    """Ten school days up to TODAY, 300 minutes each; absent: index -> (absent, invalid)."""
    absent = absent or {}
    return [(day, FULL, *absent.get(i, (0, 0))) for i, day in enumerate(school_days(TODAY, 10))]


def opened(pupil) -> list[str]:
    return list(LadderTask.objects.filter(pupil=pupil).values_list("step__name", flat=True))


def test_rate_triggers_at_the_threshold_and_not_below(cast, days):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 10})
    # 300 of 3,000 minutes = 10.0 %: at the threshold.
    days(cast.pupil, ten_days({9: (300, 0)}))
    # 270 of 3,000 = 9.0 %; a whole day absent 40 days ago lies outside the window.
    days(
        cast.other_pupil,
        [*ten_days({9: (270, 0)}), (TODAY - dt.timedelta(days=40), FULL, FULL, FULL)],
    )
    tasks = actions.evaluate_ladder(as_of=TODAY)
    assert [t.pupil_id for t in tasks] == [cast.pupil.pk]
    assert "10,0 %" in tasks[0].reason
    assert opened(cast.other_pupil) == []


def test_invalid_rate_counts_only_invalid_minutes(cast, days):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5, "invalid_only": True})
    # Pupil: 600 minutes absent, 150 invalid: 150 / 3,000 = 5.0 % invalid.
    days(cast.pupil, ten_days({0: (300, 0), 5: (300, 150)}))
    # Other: 900 minutes absent (30 %), all valid: no invalid absence at all.
    days(cast.other_pupil, ten_days({1: (300, 0), 2: (300, 0), 3: (300, 0)}))
    tasks = actions.evaluate_ladder(as_of=TODAY)
    assert [t.pupil_id for t in tasks] == [cast.pupil.pk]
    assert "5,0 %" in tasks[0].reason


def test_days_with_invalid_absence_are_counted_inside_the_window(cast, days):
    make_step(1, {"kind": "invalid_days", "window_days": 14, "threshold": 3})
    # Three days with some invalid absence in the last 14 days (one of 10 minutes counts too).
    days(cast.pupil, ten_days({2: (60, 60), 4: (10, 10), 8: (300, 300)}))
    # Two in the window and one 20 days ago, outside it.
    days(
        cast.other_pupil,
        [*ten_days({2: (60, 60), 8: (60, 60)}), (TODAY - dt.timedelta(days=20), FULL, 60, 60)],
    )
    tasks = actions.evaluate_ladder(as_of=TODAY)
    assert [t.pupil_id for t in tasks] == [cast.pupil.pk]
    assert "3 " in tasks[0].reason


def test_consecutive_whole_days_absent_up_to_the_latest_day(cast, days):
    make_step(1, {"kind": "consecutive_days", "window_days": 28, "threshold": 3})
    # Monday 16 to Wednesday 18 March absent all day: three in a row.
    days(cast.pupil, ten_days({7: (300, 0), 8: (300, 300), 9: (300, 0)}))
    # Three whole days, but a day with one lesson attended (Tuesday) breaks the run.
    days(cast.other_pupil, ten_days({6: (300, 0), 7: (300, 0), 8: (240, 0), 9: (300, 0)}))
    tasks = actions.evaluate_ladder(as_of=TODAY)
    assert [t.pupil_id for t in tasks] == [cast.pupil.pk]
    assert "3 " in tasks[0].reason


def test_a_weekend_without_lessons_does_not_break_the_run(cast, days):
    make_step(1, {"kind": "consecutive_days", "window_days": 28, "threshold": 4})
    # Thursday 12, Friday 13, Monday 16, Tuesday 17 absent; no rows for the weekend.
    days(
        cast.pupil,
        [
            (d, FULL, FULL if i >= 6 else 0, 0)
            for i, d in enumerate(school_days(TODAY - dt.timedelta(days=1), 10))
        ],
    )
    assert len(actions.evaluate_ladder(as_of=TODAY)) == 1


def _previous(cast, step, opened_on, *, closed=False):
    return LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        actor=step.actor,
        opened_on=opened_on,
        due=opened_on + dt.timedelta(days=7),
        reason="test",
        closed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC) if closed else None,
    )


@pytest.mark.parametrize(
    ("weeks_ago_days", "absent", "expected"),
    [
        (15, 300, ["Steg 2"]),  # two weeks and a day after step 1, still 10 %
        (14, 300, ["Steg 2"]),  # exactly two weeks
        (13, 300, []),  # too early
        (15, 120, []),  # improved: 4 % is below the 5 % threshold
    ],
)
def test_no_improvement_after_the_previous_step(cast, days, weeks_ago_days, absent, expected):
    first = make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5})
    make_step(
        2, {"kind": "no_improvement", "window_days": 28, "threshold": 5, "weeks_after_previous": 2}
    )
    _previous(cast, first, TODAY - dt.timedelta(days=weeks_ago_days))
    days(cast.pupil, ten_days({9: (absent, 0)}))
    actions.evaluate_ladder(as_of=TODAY)
    assert opened(cast.pupil) == [*expected, "Steg 1"]


def test_no_improvement_needs_the_previous_step_still_current(cast, days):
    first = make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5}, repeat=30)
    make_step(
        2, {"kind": "no_improvement", "window_days": 28, "threshold": 5, "weeks_after_previous": 2}
    )
    _previous(cast, first, TODAY - dt.timedelta(days=40), closed=True)  # lapsed 10 days ago
    days(cast.pupil, ten_days({9: (300, 0)}))
    actions.evaluate_ladder(as_of=TODAY)
    # The pupil starts again from the bottom: step 1 opens anew, not step 2.
    assert opened(cast.pupil) == ["Steg 1", "Steg 1"]


def test_one_step_a_day_the_highest_that_holds(cast, days):
    for order, threshold in ((1, 5), (2, 10), (3, 20)):
        make_step(order, {"kind": "rate", "window_days": 28, "threshold": threshold})
    days(cast.pupil, ten_days({7: (300, 0), 8: (300, 0), 9: (150, 0)}))  # 750/3000 = 25 %
    days(cast.other_pupil, ten_days({9: (180, 0)}))  # 6 %
    actions.evaluate_ladder(as_of=TODAY)
    assert opened(cast.pupil) == ["Steg 3"]
    assert opened(cast.other_pupil) == ["Steg 1"]
    # The next day: steps below the current one do not open, the one above may.
    actions.evaluate_ladder(as_of=TODAY + dt.timedelta(days=1))
    assert opened(cast.pupil) == ["Steg 3"]
    days(cast.other_pupil, ten_days({8: (300, 0), 9: (180, 0)}))  # 16 %
    actions.evaluate_ladder(as_of=TODAY + dt.timedelta(days=1))
    assert opened(cast.other_pupil) == ["Steg 2", "Steg 1"]


def test_running_the_same_day_again_opens_nothing(cast, days):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5})
    days(cast.pupil, ten_days({9: (300, 0)}))
    assert len(actions.evaluate_ladder(as_of=TODAY)) == 1
    assert actions.evaluate_ladder(as_of=TODAY) == []
    task = LadderTask.objects.get()
    actions.close_task(task, kind="contact", date=TODAY, text="Ringde hem.", by=cast.mentor)
    # Closed within the hour: still the current step, so nothing opens again today.
    assert actions.evaluate_ladder(as_of=TODAY) == []
    assert LadderTask.objects.count() == 1


def test_a_step_opens_again_once_it_has_lapsed(cast, days):
    step = make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5}, repeat=10)
    _previous(cast, step, TODAY - dt.timedelta(days=10), closed=True)
    days(cast.pupil, ten_days({9: (300, 0)}))
    assert len(actions.evaluate_ladder(as_of=TODAY)) == 1
    _previous(cast, step, TODAY - dt.timedelta(days=9), closed=True)
    LadderTask.objects.filter(opened_on=TODAY).delete()
    assert actions.evaluate_ladder(as_of=TODAY) == []  # 9 days ago: still current


def test_deadline_and_overdue(cast, days):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5}, deadline=3)
    days(cast.pupil, ten_days({9: (300, 0)}))
    [task] = actions.evaluate_ladder(as_of=TODAY)
    task = LadderTask.objects.get()
    assert (task.opened_on, task.due) == (TODAY, dt.date(2026, 3, 21))
    assert not task.is_overdue_on(dt.date(2026, 3, 21))  # due that day: not yet overdue
    assert task.is_overdue_on(dt.date(2026, 3, 22))
    assert list(LadderTask.objects.overdue(dt.date(2026, 3, 22))) == [task]
    assert queries.summaries([cast.pupil.pk], dt.date(2026, 3, 22))[cast.pupil.pk].overdue == 1
    actions.close_task(task, kind="contact", date=TODAY, text="Samtal med mamma.", by=cast.mentor)
    assert list(LadderTask.objects.overdue(dt.date(2026, 3, 22))) == []
    summary = queries.summaries([cast.pupil.pk], dt.date(2026, 3, 22))[cast.pupil.pk]
    assert (summary.step, summary.overdue) == ("1. Steg 1", 0)


@pytest.mark.parametrize(
    ("actor", "who"),
    [(Actor.MENTOR, "mentor"), (Actor.PRINCIPAL, "principal"), (Actor.STUDENT_HEALTH, None)],
)
def test_the_task_goes_to_the_person_who_acts(cast, days, actor, who):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5}, actor=actor)
    days(cast.pupil, ten_days({9: (300, 0)}))
    actions.evaluate_ladder(as_of=TODAY)
    task = LadderTask.objects.get()
    assert task.actor == actor
    assert task.school == cast.north
    assert task.assignee == (getattr(cast, who) if who else None)
    from fullfolj.access.gate import Viewer

    # The whole student-health team sees an unassigned EHT task in "My tasks".
    holders = {"mentor": "mentor", "principal": "principal", None: "nurse"}[who]
    assert list(queries.tasks_for(Viewer(getattr(cast, holders)))) == [task]
    assert list(queries.tasks_for(Viewer(cast.other_mentor))) == []


def test_only_placed_pupils_of_the_organiser_are_evaluated(cast, days):
    from tests import factories as f

    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5})
    days(cast.moved_away, ten_days({9: (300, 0)}))  # placement ended 31 January
    days(cast.pupil, ten_days({9: (300, 0)}))
    other_org = f.organiser("Annan kommun")
    assert actions.evaluate_ladder(other_org, TODAY) == []
    assert [t.pupil_id for t in actions.evaluate_ladder(cast.org, TODAY)] == [cast.pupil.pk]


def test_an_organiser_with_its_own_ladder_does_not_use_the_default(cast, days):
    from tests import factories as f

    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5}, name="Standard")
    make_step(
        1, {"kind": "rate", "window_days": 28, "threshold": 50}, organiser=cast.org, name="Egen"
    )
    days(cast.pupil, ten_days({9: (300, 0)}))  # 10 %: below the organiser's own 50 %
    other_org = f.organiser("Grannkommun")
    stranger = f.pupil(other_org, "Frans", "Fransson")
    f.place(stranger, f.school(other_org, "Grannskolan"), None, dt.date(2025, 8, 18))
    days(stranger, ten_days({9: (300, 0)}))
    actions.evaluate_ladder(as_of=TODAY)
    assert opened(cast.pupil) == []
    assert opened(stranger) == ["Standard"]


def test_evaluation_reads_the_day_aggregates_in_a_few_queries(
    cast, days, django_assert_max_num_queries
):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5})
    make_step(2, {"kind": "consecutive_days", "window_days": 28, "threshold": 2})
    for p in (cast.pupil, cast.other_pupil, cast.protected):
        days(p, ten_days({8: (300, 0), 9: (300, 0)}))
    with django_assert_max_num_queries(12):  # the same for 3 pupils or 10,000
        assert len(actions.evaluate_ladder(as_of=TODAY)) == 3


def test_a_date_in_place_of_the_organiser_is_refused(cast):
    with pytest.raises(TypeError, match="as_of"):
        actions.evaluate_ladder(TODAY)  # type: ignore[arg-type]


def test_the_command_evaluates_by_hand(cast, days, capsys):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5})
    days(cast.pupil, ten_days({9: (300, 0)}))
    call_command("ladder", "--date", "2026-03-18")
    assert "ladder: 2026-03-18: 1 tasks opened" in capsys.readouterr().out
    call_command("ladder", "--date", "2026-03-18")
    assert "ladder: 2026-03-18: 0 tasks opened" in capsys.readouterr().out


def test_the_command_refuses_a_bad_date(cast):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("ladder", "--date", "18/3")


def test_the_daily_job_runs_in_the_worker(transactional_db, cast, days):
    """The real worker (db_worker), outside a test transaction: it checks its connection."""
    from django_tasks_db.models import DBTaskResult

    from fullfolj.ladder import tasks

    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 5})
    days(cast.pupil, ten_days({9: (300, 0)}))
    tasks.start()
    tasks.start()  # the worker restarting queues no second run
    queued = DBTaskResult.objects.filter(task_path__endswith="evaluate_ladder_daily")
    assert queued.count() == 1
    tasks.evaluate_ladder_daily.enqueue()  # run now, as at 06:00
    call_command("db_worker", batch=True, interval=0.1, reload=False, verbosity=0)
    assert opened(cast.pupil) == ["Steg 1"]
    assert queued.filter(status="SUCCESSFUL").count() == 1
    # The run queued tomorrow's; the one already queued stands.
    assert queued.filter(status="READY").count() == 1
    assert PupilDay.objects.filter(pupil=cast.pupil).count() == 10
