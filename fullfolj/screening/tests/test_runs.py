"""Screening runs against the database: recording, the riskzon lists, the CLI and the daily job."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from fullfolj.ladder.models import LadderStep, LadderTask
from fullfolj.lib import clock
from fullfolj.screening import actions, queries, tasks
from fullfolj.screening.models import Flag, RuleEvaluation, ScreeningRule, ScreeningRun
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_rules")]

SUMMER = dt.date(2026, 7, 6)  # between the spring and autumn terms


def absent_lessons(cast, pupil, days: list[dt.date], minutes: int = 60) -> None:
    """One lesson per day in the cast's maths group with `pupil` absent (invalid)."""
    from fullfolj.attendance.actions import rebuild_pupil_days

    for day in days:
        lesson = f.lesson(
            cast.group,
            cast.maths,
            cast.teacher,
            cast.spring,
            timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0))),
        )
        f.mark(lesson, pupil, absent=minutes, valid=False, reason=cast.reasons["OGIL"])
    rebuild_pupil_days()


def test_a_run_is_recorded_with_date_configuration_who_and_flags(cast):
    run = actions.run_screening(
        cast.org, clock.today(), by=cast.principal, source=ScreeningRun.Source.MANUAL
    )
    assert (run.as_of, run.started_by, run.source) == (clock.today(), cast.principal, "manual")
    assert run.finished_at >= run.started_at
    assert [r["code"] for r in run.configuration["rules"]] == ["invalid_4w"]
    # Placed on the day: Alva, Bilal and Cora (Norrskolan), Dino (Söderskolan).
    assert run.pupils == 4
    flag = run.flag_rows.get(pupil=cast.pupil, rule_code="invalid_4w")
    assert flag.school == cast.north
    assert flag.value == Decimal("100.0000")
    assert flag.threshold == Decimal(15)
    assert flag.explanation == "Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)"
    assert run.flagged_pupils == 1
    assert run.flags == run.flag_rows.count()


def test_editing_a_rule_later_does_not_rewrite_the_run(cast):
    run = actions.run_screening(cast.org, clock.today())
    rule = ScreeningRule.objects.get(organiser=cast.org, code="invalid_4w")
    rule.threshold = Decimal(50)
    rule.save()
    run.refresh_from_db()
    recorded = next(r for r in run.configuration["rules"] if r["code"] == "invalid_4w")
    assert recorded["threshold"] == "15.00"


def test_a_date_without_school_days_says_so(cast):
    with pytest.raises(actions.NoSchoolDays, match="ligger inte i någon termin"):
        actions.run_screening(cast.org, SUMMER)
    with pytest.raises(CommandError, match="inga skoldagar att screena"):
        call_command("screen", "--date", SUMMER.isoformat())
    # The first days of a term have no school days in its last four weeks yet.
    with pytest.raises(actions.NoSchoolDays, match="Inga skoldagar mellan 2026-01-08"):
        actions.run_screening(cast.org, dt.date(2026, 1, 9))
    assert not ScreeningRun.objects.exists()


def test_the_button_says_when_there_is_nothing_to_screen(client, cast, settings):
    settings.FULLFOLJ_TODAY = SUMMER.isoformat()
    client.force_login(cast.principal.user)
    response = client.post(reverse("screening:run", args=[cast.org.pk]), follow=True)
    body = response.content.decode()
    assert "Ingen screening" in body
    assert "ligger inte i någon termin" in body
    assert not ScreeningRun.objects.exists()


def test_the_button_runs_and_reports_in_swedish(client, cast):
    client.force_login(cast.principal.user)
    next_url = reverse("elevakt:school-riskzon", args=[cast.north.pk])
    response = client.post(
        reverse("screening:run", args=[cast.org.pk]), {"next": next_url}, follow=True
    )
    assert response.redirect_chain[-1][0] == next_url
    body = response.content.decode()
    assert "Screenade 4 elever: för få flaggade för att visas." in body  # organiser-wide
    assert "Flaggad men ingen åtgärd" in body
    assert "Startad av Principal Testsson." in body


def test_riskzon_lists_new_left_and_flagged_without_action_first(cast):
    absent_lessons(cast, cast.other_pupil, [dt.date(2026, 3, 16)])
    first = actions.run_screening(cast.org, dt.date(2026, 3, 16))
    # A week later Alva is still flagged; Bilal came back every day and Cora stopped coming.
    present = [dt.date(2026, 3, d) for d in (17, 18, 19, 20, 23)]
    from fullfolj.attendance.actions import rebuild_pupil_days

    for day in present:
        for hour in (8, 13):
            lesson = f.lesson(
                cast.group,
                cast.maths,
                cast.teacher,
                cast.spring,
                timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))),
            )
            f.mark(lesson, cast.other_pupil)  # 60 of 660 minutes absent: 9 %
            f.mark(lesson, cast.pupil, absent=60, valid=False, reason=cast.reasons["OGIL"])
    rebuild_pupil_days()
    absent_lessons(cast, cast.protected, [dt.date(2026, 3, 23)])
    step = LadderStep.objects.filter(organiser=None).order_by("order").first()
    LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor=step.actor,
        opened_on=dt.date(2026, 3, 17),
        due=dt.date(2026, 3, 24),
        reason="test",
    )
    second = actions.run_screening(cast.org, dt.date(2026, 3, 23))

    listing = queries.riskzon(cast.org.pk, queries.Pupil.objects.all(), school=cast.north)
    assert (listing.run, listing.previous) == (second, first)
    assert [r.pupil for r in listing.without_action] == [cast.protected]
    assert [r.pupil for r in listing.with_action] == [cast.pupil]
    assert [r.pupil for r in listing.new] == [cast.protected]
    assert listing.left == [cast.other_pupil]
    # A closed task is no action any more.
    LadderTask.objects.update(closed_at=timezone.now())
    again = queries.riskzon(cast.org.pk, queries.Pupil.objects.all(), school=cast.north)
    assert {r.pupil for r in again.without_action} == {cast.pupil, cast.protected}


def test_the_school_list_page_orders_without_action_first(client, cast):
    actions.run_screening(cast.org, clock.today())
    client.force_login(cast.nurse.user)
    body = client.get(reverse("elevakt:school-riskzon", args=[cast.north.pk])).content.decode()
    assert body.index("Flaggad men ingen åtgärd") < body.index("Nya sedan förra screeningen")
    assert body.index("Nya sedan förra screeningen") < body.index("Flaggade, med åtgärd")
    assert "Det här är den första screeningen" in body


def test_municipality_counts_hide_groups_under_five(cast):
    actions.run_screening(cast.org, clock.today())
    _run, codes, rows, total = queries.municipality_counts(
        cast.org.pk, queries.School.objects.all()
    )
    north = next(r for r in rows if r.school == cast.north)
    south = next(r for r in rows if r.school == cast.south)
    assert north.flagged is None  # one pupil: hidden
    assert north.without_action is None
    assert total is None  # and so is the total it would show through
    assert south.flagged == 0  # nobody: zero reveals nobody
    assert [(c.code, str(c)) for c in codes] == [
        ("invalid_4w", "Ogiltig frånvaro minst 15 % de senaste fyra veckorna")
    ]
    assert north.pupils == 3


def test_municipality_counts_show_five_or_more(cast):
    pupils = []
    for n in range(5):
        p = f.pupil(cast.org, f"Extra{n}", f"Elev{n}")
        f.place(p, cast.north, cast.c7a, cast.year.start)
        cast.group.memberships.create(pupil=p, start=cast.year.start)
        pupils.append(p)
    lesson = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
    )
    for p in pupils:
        f.mark(lesson, p, absent=60, valid=False, reason=cast.reasons["OGIL"])
    from fullfolj.attendance.actions import rebuild_pupil_days

    rebuild_pupil_days()
    actions.run_screening(cast.org, clock.today())
    _run, _codes, rows, total = queries.municipality_counts(
        cast.org.pk, queries.School.objects.all()
    )
    north = next(r for r in rows if r.school == cast.north)
    assert north.flagged == 6
    assert north.without_action == 6
    assert total == 6


def _flag_absent(cast, school, klass, group, count, day=17):
    """`count` new pupils of `school` with one wholly invalid lesson: each is flagged."""
    lesson = f.lesson(
        group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, day, 9, 0)),
    )
    for n in range(count):
        p = f.pupil(cast.org, f"Extra{n}", f"{school.name}{n}")
        f.place(p, school, klass, cast.year.start)
        group.memberships.create(pupil=p, start=cast.year.start)
        f.mark(lesson, p, absent=60, valid=False, reason=cast.reasons["OGIL"])


def test_a_hidden_school_cannot_be_worked_out_from_the_header(client, cast):
    """Söderskolan has 3 flagged (hidden), Norrskolan 9 (Alva and 8 more): the header's total
    of 12 minus the 9 shown would give the 3 away, so Norrskolan is hidden too."""
    from fullfolj.attendance.actions import rebuild_pupil_days

    _flag_absent(cast, cast.north, cast.c7a, cast.group, 8)
    _flag_absent(cast, cast.south, cast.c3b, cast.group_south, 3)
    rebuild_pupil_days()
    run = actions.run_screening(cast.org, clock.today())
    assert run.flagged_pupils == 12
    _run, _codes, rows, total = queries.municipality_counts(
        cast.org.pk, queries.School.objects.all()
    )
    by_school = {r.school: r for r in rows}
    assert by_school[cast.south].flagged is None
    assert by_school[cast.north].flagged is None
    assert total == 12
    # Nor can Norrskolan's hidden 9 be bounded by its parts: 9 without action or 9 flagged by
    # the rule would pin Söderskolan at 12 - 9 = 3 as well.
    assert by_school[cast.north].without_action is None
    assert by_school[cast.north].per_rule == [None]
    client.force_login(cast.admin.user)
    body = client.get(reverse("elevakt:municipality-riskzon")).content.decode()
    assert "12 flaggade" in body


def test_the_header_hides_a_small_total(client, cast):
    actions.run_screening(cast.org, clock.today())  # Alva alone is flagged
    client.force_login(cast.admin.user)
    body = client.get(reverse("elevakt:municipality-riskzon")).content.decode()
    assert "1 flaggade" not in body
    assert "för få flaggade för att visas" in body


def test_screen_command_records_a_cli_run_and_prints_one_line(cast):
    out = io.StringIO()
    call_command("screen", "--date", "2026-03-18", stdout=out)
    run = ScreeningRun.objects.get()
    assert (run.source, run.started_by, run.as_of) == ("cli", None, dt.date(2026, 3, 18))
    assert out.getvalue().startswith("screen: Testkommun 2026-03-18: 4 pupils, 1 flagged")


def test_screen_command_refuses_an_unknown_organiser(cast):
    with pytest.raises(CommandError, match="No organiser with id 999999"):
        call_command("screen", "--organiser", "999999")


def test_the_daily_job_screens_today_and_skips_holidays(cast, settings):
    runs = tasks.screen_daily.call()
    assert [ScreeningRun.objects.get(pk=pk).source for pk in runs] == ["daily"]
    settings.FULLFOLJ_TODAY = SUMMER.isoformat()
    assert tasks.screen_daily.call() == []
    assert ScreeningRun.objects.count() == 1


def test_evaluate_prints_the_early_warning_lines_last(cast, client, tmp_path):
    # The history starts on 12 January (screenings from four weeks later, every school day); Alva
    # "escalates" in the simulator's sense from 2 February and crosses on 30 March.
    lesson = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 1, 12, 9, 0)),
    )
    f.mark(lesson, cast.pupil)
    absent_lessons(cast, cast.pupil, [dt.date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9, 10)])
    pupils = (cast.pupil, cast.other_pupil, cast.protected, cast.pupil_elsewhere)
    truth = tmp_path / "truth.parquet"
    pl.DataFrame(
        {
            "pupil_id": [p.pk for p in pupils],
            "base_absence_rate": [0.05] * 4,
            "escalates": [p == cast.pupil for p in pupils],
            "escalation_start": [dt.date(2026, 2, 2) if p == cast.pupil else None for p in pupils],
            "escalation_crossing": [
                dt.date(2026, 3, 30) if p == cast.pupil else None for p in pupils
            ],
        }
    ).write_parquet(truth)
    without = io.StringIO()
    call_command("screen", "--evaluate", stdout=without)  # the database holds no truth
    assert without.getvalue().splitlines()[-1].startswith("early_warning: no simulator ground")
    assert queries.latest_evaluation(cast.org.pk).early_warning == {}
    client.force_login(cast.principal.user)
    page = client.get(reverse("screening:evaluation")).content.decode()
    assert "En extra kontroll" not in page
    out = io.StringIO()
    call_command("screen", "--evaluate", "--truth", str(truth), stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split("=")[0] for line in lines[-3:]] == [
        "early_warning: recall",
        "early_warning: precision",
        "early_warning: median_weeks",
    ]
    assert lines[-3] == "early_warning: recall=1.000"
    assert lines[-2] == "early_warning: precision=1.000"
    # First flag Monday 2 March (100 % invalid that day), four weeks before 30 March.
    assert lines[-1] == "early_warning: median_weeks=4.000"
    assert Flag.objects.count() == 0  # an evaluation records no run
    stored = queries.latest_evaluation(cast.org.pk)
    assert stored is not None and stored.early_warning["recall"] == 1.0
    # The page shows the rule in Swedish; one flagged pupil and groups under five are hidden.
    body = client.get(reverse("screening:evaluation")).content.decode()
    assert "Ogiltig frånvaro minst 15 % de senaste fyra veckorna" in body
    assert "En extra kontroll, bara på simulerade data" in body
    assert "Ingen grupp är stor nog att visas." in body
    assert cast.pupil.last_name not in body
    assert "skoldagar under terminerna." in body
    assert "(every school day in term, as the daily job does)" in out.getvalue()
    # Weekly, for comparison: printed, and the page keeps the daily evaluation.
    weekly = io.StringIO()
    call_command("screen", "--evaluate", "--weekly", "--truth", str(truth), stdout=weekly)
    assert "screenings (every Monday in term)" in weekly.getvalue()
    assert RuleEvaluation.objects.filter(organiser=cast.org).count() == 1
    assert queries.latest_evaluation(cast.org.pk).pk == stored.pk


def test_unreachable_counts_escalations_crossing_before_a_screening_after_their_start():
    from fullfolj.screening.rule_quality import unreachable

    d = dt.date
    roster = pl.DataFrame(
        {
            "date": [d(2025, 1, 6), d(2025, 1, 13), d(2025, 1, 20)] * 4,
            "pupil_id": [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4],
        }
    ).sort("pupil_id")
    truth = pl.DataFrame(
        {
            "pupil_id": [1, 2, 3, 4],
            "escalates": [True, True, False, True],
            "escalation_start": [d(2025, 1, 6), d(2025, 1, 6), None, d(2024, 12, 2)],
            "escalation_crossing": [d(2025, 1, 10), d(2025, 1, 15), None, d(2025, 1, 2)],
        }
    )
    # 1 crosses on Friday, before the next Monday; 2 is screened on the 13th; 4 crossed before
    # the first screening (outside recall altogether); 3 never escalates.
    assert unreachable(roster, truth) == 1


def test_school_days_are_the_organisers_last_days_with_lessons(cast):
    days = [dt.date(2026, 2, d) for d in (2, 3, 4, 9, 10)]  # a weekend and a gap between
    absent_lessons(cast, cast.pupil, days, minutes=30)  # half a lesson: not a whole day
    epoch = dt.date(1970, 1, 1)
    found = queries.school_days(cast.org, dt.date(2026, 2, 9), 3)
    assert [epoch + dt.timedelta(days=int(d)) for d in found] == days[1:4]
    assert len(queries.school_days(cast.org, dt.date(2026, 2, 1), 3)) <= 3
    # The run's windows count these days: the last 20 reach back to the first there are.
    shipped = list(ScreeningRule.objects.filter(organiser=None, code="rising_late_skip"))
    indicators, _ = actions.compute_flags(cast.org, dt.date(2026, 2, 10), shipped)
    alva = indicators.filter(pl.col("pupil_id") == cast.pupil.pk).row(0, named=True)
    assert (alva["20s_days"], alva["20s_skipped_lessons"], alva["120s_20_days"]) == (5, 5, 0)
