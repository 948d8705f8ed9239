"""Long absence reaches the officer with the school's ladder step and support case; the term
report counts without names and hides small numbers."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.attendance.models import PupilDay
from fullfolj.attendance.store import refresh_pupil_periods
from fullfolj.compulsory import actions, queries
from fullfolj.compulsory.models import OversightCase, OversightRules
from fullfolj.ladder.models import LadderStep, LadderTask
from fullfolj.schools import models as s
from fullfolj.support import actions as support
from tests import factories as f

from . import world


def _weeks(pupil, shares, *, last_monday=dt.date(2026, 3, 9)):
    """Five school days a week, oldest week first, each with this share of absence."""
    PupilDay.objects.filter(pupil=pupil).delete()
    for back, share in enumerate(reversed(shares)):
        monday = last_monday - dt.timedelta(weeks=back)
        for day in range(5):
            PupilDay.objects.create(
                pupil=pupil,
                organiser=pupil.organiser,
                date=monday + dt.timedelta(days=day),
                lessons=5,
                scheduled_minutes=300,
                absent_minutes=int(300 * share),
                invalid_minutes=int(300 * share),
            )
    refresh_pupil_periods()  # as every path that writes days does


def test_long_absence_with_the_schools_step_and_case(cast):
    _weeks(cast.pupil, [0.5, 0.4, 0.35])  # at 30 % or more three weeks running
    _weeks(cast.other_pupil, [0.5, 0.1, 0.9])  # one week below the level
    _weeks(cast.pupil_elsewhere, [0.9, 0.9])  # only two weeks of the three
    support.open_case(cast.pupil, school=cast.north, responsible=cast.mentor, by=None)
    found = queries.long_absence(cast.org, world.DAY)
    assert [row.pupil for row in found] == [cast.pupil]
    row = found[0]
    assert row.school == "Norrskolan"
    assert [round(w) for w in row.weeks] == [50, 40, 35]
    assert row.support_case is not None
    assert row.case is None
    assert row.step is None  # no ladder task yet
    # The school's ladder step shows beside the absence once the school has one open.
    step = LadderStep.objects.filter(organiser=None).order_by("order")[1]
    LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor=step.actor,
        opened_on=world.DAY - dt.timedelta(days=3),
        due=world.DAY + dt.timedelta(days=4),
        reason="frånvaro 40 %",
    )
    assert step.name in queries.long_absence(cast.org, world.DAY)[0].step
    OversightRules.objects.create(organiser=cast.org, absence_percent=45, absence_weeks=1)
    found = [r.pupil for r in queries.long_absence(cast.org, world.DAY)]
    assert found == [cast.other_pupil, cast.pupil_elsewhere]


def test_the_officer_takes_up_a_pupil_with_long_absence(client, cast):
    _weeks(cast.pupil, [0.5, 0.5, 0.5])
    client.force_login(cast.officer.user)
    page = client.get(reverse("compulsory:home")).content.decode()
    assert "Alva Åkesson" in page.split('id="long-absence"')[1]
    response = client.post(reverse("compulsory:take-up-absence", args=[cast.pupil.pk]))
    case = OversightCase.objects.get(kind="long_absence")
    assert response.url == reverse("compulsory:case", args=[case.pk])
    assert case.pupil == cast.pupil and case.steps.get().kind == "principal"
    again = client.post(reverse("compulsory:take-up-absence", args=[cast.pupil.pk]))
    assert again.url == response.url


def _long_absent(cast, n: int, first: int = 0) -> None:
    """n more pupils at Norrskolan (numbered from `first`), each absent half of every day for
    three weeks."""
    days = []
    for i in range(first, first + n):
        pupil = f.pupil(cast.org, f"Extra{i:02}", f"Frånvarosson{i:02}")
        f.place(pupil, cast.north, cast.c7a, cast.year.start)
        for back in range(3):
            monday = dt.date(2026, 3, 9) - dt.timedelta(weeks=back)
            days += [
                PupilDay(
                    pupil=pupil,
                    organiser=cast.org,
                    date=monday + dt.timedelta(days=d),
                    lessons=5,
                    scheduled_minutes=300,
                    absent_minutes=150,
                    invalid_minutes=0,
                )
                for d in range(5)
            ]
    PupilDay.objects.bulk_create(days)
    refresh_pupil_periods()


def _oversight(client, query: str = "") -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("compulsory:home") + query)
    assert response.status_code == 200
    return response.content.decode().split('id="long-absence"')[1], len(captured)


def test_the_long_absence_list_is_paged_with_its_count_and_reads_as_often_for_any_rows(
    client, cast
):
    client.force_login(cast.officer.user)
    _long_absent(cast, 3)
    _oversight(client)  # the session settles on the first request
    few, few_queries = _oversight(client)
    assert "Långvarig frånvaro: 3 elever</h2>" in few
    assert 'class="pager"' not in few
    _long_absent(cast, 52 - 3, first=3)  # 52 in all
    AccessLog.objects.all().delete()
    first, many_queries = _oversight(client)
    assert many_queries == few_queries
    assert "Långvarig frånvaro: 52 elever, 1–50 visas</h2>" in first
    assert first.count("Frånvarosson") == 50
    assert "Frånvarosson50" not in first and "Frånvarosson49" in first  # by last name
    assert "Sida 1 av 2" in first and "?sida=2#long-absence" in first
    # Only the rows shown are read.
    assert AccessLog.objects.filter(staff=cast.officer).count() == 50
    second, second_queries = _oversight(client, "?sida=2")
    assert second_queries == few_queries
    assert "51–52 visas" in second and second.count("Frånvarosson") == 2
    assert "Frånvarosson51" in second
    past_the_end, _ = _oversight(client, "?sida=9")
    assert "Frånvarosson51" in past_the_end
    # Taking up a pupil off the first page works the same.
    last = s.Pupil.objects.get(last_name="Frånvarosson51")
    response = client.post(reverse("compulsory:take-up-absence", args=[last.pk]))
    assert response.status_code == 302


def test_the_term_report_hides_small_numbers(cast, settings):
    world.organisers()
    from fullfolj.compulsory.importing import import_placements, import_register

    import_register(world.register_csv(cast), organiser=cast.org)
    import_placements(world.placements_csv(), organiser=cast.org)
    actions.run_check(cast.org, day=world.DAY, by=None)
    for case in OversightCase.objects.filter(kind="no_school"):
        actions.close_case(case, reason="placed", on=world.DAY, by=None)
    spring = cast.spring
    report = queries.term_report(cast.org, spring, world.DAY)
    assert report["checks"] == 1 and report["checked"] == 10
    kinds = {row["kind"]: row for row in report["kinds"]}
    # three without a school, one ended: all of them counts of 1-4, hidden
    assert kinds["no_school"]["found"] is None
    assert report["without_total"] is None
    settings.FULLFOLJ_MIN_GROUP_SIZE = 3
    report = queries.term_report(cast.org, spring, world.DAY)
    no_school = {row["kind"]: row for row in report["kinds"]}["no_school"]
    assert (no_school["found"], no_school["closed"], no_school["open"]) == (3, 3, 0)
    assert no_school["median_days"] == 0
    assert report["without_total"] == 4
    # 3 closed within a week; the one still open is hidden, and so is what would give it away
    assert [count for _span, count in report["buckets"]] == [None, 0, 0, None]
