"""`fullfolj bench pages` on the cast's tiny municipality: every page it names answers, and the
figures come last, one per line. No timing assertions (the target lives in DEVELOPERS.md)."""

from __future__ import annotations

import datetime as dt
import io
import re

from django.core.management import call_command
from django.utils import timezone

from fullfolj.access.models import AccessLog
from fullfolj.benchmarks import pages
from fullfolj.lib import clock
from fullfolj.screening.models import Flag, ScreeningRun


def test_the_benchmark_times_every_page_and_prints_its_figures_last(cast):
    AccessLog.objects.create(staff=cast.mentor, pupil=cast.pupil, role="mentor", path="/")
    moment = timezone.make_aware(dt.datetime(2026, 3, 17, 22, 0))
    run = ScreeningRun.objects.create(
        organiser=cast.org, as_of=dt.date(2026, 3, 17), started_at=moment, finished_at=moment
    )
    Flag.objects.create(
        run=run,
        pupil=cast.pupil,
        organiser=cast.org,
        school=cast.north,
        rule_code="invalid_absence",
        threshold=5,
        explanation="-",
    )  # the evaluation report's list
    out = io.StringIO()
    call_command("bench", "pages", "--demo", "--repeat", "1", stdout=out)
    lines = out.getvalue().splitlines()

    figures = [line for line in lines if line.startswith("pages: ")]
    assert figures and lines[-len(figures) :] == figures  # the figures come last
    values = dict(re.findall(r"^pages: (\w+)=([\d.]+)", "\n".join(figures), re.M))
    timed = {name.removesuffix("_queries") for name in values if name.endswith("_queries")}
    # Every role the cast holds has its home, and the pages built on this branch are timed.
    assert {
        "floor",
        "home_teacher",
        "home_mentor",
        "home_principal",
        "home_nurse",
        "home_doctor",
        "home_officer",
        "home_admin",
        "pupil",
        "school_list",
        "risk_list",
        "my_pupils",
        "today",
        "register",
        "follow_ups",
        "eht_agenda",
        "dashboard_school",
        "dashboard_municipality",
        "evaluation",
    } <= timed, out.getvalue()
    skipped = {line.split()[1].rstrip(":") for line in lines if line.strip().startswith("skipped ")}
    assert timed | skipped == {page.name for page in pages.PAGES}
    for name in timed:
        assert float(values[f"{name}_p95"]) >= float(values[f"{name}_p50"]) > 0
        assert int(values[f"{name}_queries"]) > 0
    assert values["pupils"] == "5"
    assert "peak_memory" in values
    # The benchmark's own reads leave the access log as it was.
    assert list(AccessLog.objects.values_list("staff_id", "pupil_id")) == [
        (cast.mentor.pk, cast.pupil.pk)
    ]


def test_the_heaviest_holders_are_chosen(cast):
    scene = pages.choose_scene(clock.today())
    assert scene.school == cast.north  # three pupils placed there, one at Söderskolan
    assert scene.logins["principal"] == cast.principal
    assert scene.logins["mentor"] == cast.mentor  # two mentees; the others one
    assert scene.logins["teacher"] == cast.teacher  # the only lesson this week
    assert scene.lesson == cast.lesson
    assert scene.pupil == cast.pupil  # the only absence this term


def test_the_generated_municipality_gets_support_cases_once(cast):
    """The benchmark's data, as the nightly jobs and the schools would have left it: Alva's
    absence this term is over the line, so she has a case; a second run adds nothing."""
    from fullfolj.benchmarks import Report
    from fullfolj.support.models import Case, Measure

    out = io.StringIO()
    pages.prepare_state(clock.today(), Report("pages", out))
    assert "support:" in out.getvalue()
    case = Case.objects.get(pupil=cast.pupil)
    assert case.measures.filter(kind=Measure.Kind.EXTRA_ADAPTATION).exists()
    scene = pages.choose_scene(clock.today())
    assert scene.case == case
    made = (Case.objects.count(), Measure.objects.count())
    pages.prepare_state(clock.today(), Report("pages", io.StringIO()))
    assert (Case.objects.count(), Measure.objects.count()) == made
