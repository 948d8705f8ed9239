"""The main pages read the database as often for 45 pupils as for 5: no query per row.

Each page is opened with five extra pupils in every list it shows, then with 45 (one page of a
paged list); both times under the same bound, and the two counts must be equal. The bound is the page's count when
written plus two: a page that reads once per row grows by dozens and fails at once.
`fullfolj bench pages` times the same pages on a municipality of 20,000 pupils.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.urls import reverse

from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.ladder.models import Actor, LadderStep, LadderTask
from fullfolj.lib import clock
from fullfolj.notices.models import Channel, GuardianNotice, Status
from fullfolj.schools import models as s
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support.models import AgreedAction, Case, CaseEntry, Measure
from tests import factories as f

CROWD = "Mängdsson"  # the extra pupils' last name, counted in each page
_serial = itertools.count()


def crowd(cast: SimpleNamespace, count: int) -> None:
    """`count` more pupils in 7A at Norrskolan, in every list a page may show: the mentor's,
    the teacher's group and lesson (absent, validity not yet known), the latest screening run,
    the mentor's ladder tasks and the unreached guardians; each with a case whose extra adaptation
    is overdue for follow-up and whose EHT minutes agreed an action due today."""
    today = clock.today()
    run = ScreeningRun.objects.filter(organiser=cast.org).first() or ScreeningRun.objects.create(
        organiser=cast.org,
        as_of=today,
        started_at=clock.now(),
        finished_at=clock.now(),
    )
    step = LadderStep.objects.filter(organiser=None, actor=Actor.MENTOR).first()
    for _ in range(count):
        n = next(_serial)
        pupil = f.pupil(cast.org, f"Elev{n}", CROWD)
        f.place(pupil, cast.north, cast.c7a, cast.year.start)
        s.Mentorship.objects.create(pupil=pupil, mentor=cast.mentor, start=cast.year.start)
        s.GroupMembership.objects.create(group=cast.group, pupil=pupil, start=cast.year.start)
        f.mark(cast.lesson, pupil, absent=60)  # validity not yet known: the mentor settles it
        guardian = s.Guardian.objects.create(
            first_name="Vårdnadshavare", last_name=CROWD, email=f"v{n}@example.se"
        )
        s.Guardianship.objects.create(pupil=pupil, guardian=guardian)
        GuardianNotice.objects.create(
            pupil=pupil,
            guardian=guardian,
            date=cast.lesson.date,
            channel=Channel.EMAIL,
            status=Status.FAILED,
            error="bounced",
            send_after=cast.lesson.start,
        )
        Flag.objects.create(
            run=run,
            pupil=pupil,
            organiser=cast.org,
            school=cast.north,
            rule_code="invalid_4w",
            value=100,
            threshold=15,
            explanation="Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)",
        )
        LadderTask.objects.create(
            pupil=pupil,
            step=step,
            school=cast.north,
            actor=Actor.MENTOR,
            assignee=cast.mentor,
            opened_on=today - dt.timedelta(days=2),
            due=today + dt.timedelta(days=2),
            reason="test",
        )
        case = Case.objects.create(
            pupil=pupil, school=cast.north, responsible=cast.mentor, status=Case.Status.ACTIVE
        )
        Measure.objects.create(
            case=case,
            kind=Measure.Kind.EXTRA_ADAPTATION,
            title="Extra tid vid prov",
            start=today - dt.timedelta(days=30),
            responsible=cast.mentor,
            follow_up_on=today - dt.timedelta(days=1),
        )
        minutes = CaseEntry.objects.create(
            case=case,
            kind=CaseEntry.Kind.EHT_MINUTES,
            written_by=cast.nurse,
            occurred_on=today - dt.timedelta(days=7),
            text="Genomgång",
            health_restricted=True,
        )
        AgreedAction.objects.create(entry=minutes, who=cast.mentor, what="Ring hem", due=today)
    ScreeningRun.objects.filter(pk=run.pk).update(
        pupils=s.Pupil.objects.count(), flagged_pupils=run.flag_rows.count()
    )
    rebuild_pupil_days()


# name: (login, URL, bound, rows: does the page list every crowd pupil)
PAGES: dict[str, tuple[str, Callable[[SimpleNamespace], str], int, bool]] = {
    "my_pupils": ("mentor", lambda c: reverse("elevakt:my-pupils"), 17, True),
    "mentees_absence": ("mentor", lambda c: reverse("attendance:mentees-absence"), 13, True),
    "settle": ("mentor", lambda c: reverse("attendance:settle"), 11, True),
    "tasks": ("mentor", lambda c: reverse("ladder:my-tasks"), 10, True),
    "school_list": (
        "principal",
        lambda c: reverse("elevakt:school-pupils", args=[c.north.pk]),
        19,
        True,
    ),
    "risk_list": (
        "principal",
        lambda c: reverse("elevakt:school-riskzon", args=[c.north.pk]),
        20,  # the filters read the school's classes and rules
        True,
    ),
    "pupil": (
        "principal",
        lambda c: reverse("elevakt:pupil", args=[c.pupil.pk]),
        36,  # the support section: may this viewer open a case, the cases, the latest flags;
        # the KASAM section: may this viewer hold talks, the answers, the pupil's year
        False,
    ),
    # The list's classes and schools read once each, shared by every row.
    "group": ("teacher", lambda c: reverse("elevakt:group", args=[c.group.pk]), 18, True),
    "register": (
        "teacher",
        lambda c: reverse("attendance:lesson-register", args=[c.lesson.pk]),
        13,
        True,
    ),
    "today": ("teacher", lambda c: reverse("attendance:today"), 18, False),
    "week": ("teacher", lambda c: reverse("attendance:week"), 15, False),
    "to_register": ("teacher", lambda c: reverse("attendance:to-register"), 10, False),
    "home_mentor": ("mentor", lambda c: reverse("elevakt:home"), 18, False),
    "home_principal": ("principal", lambda c: reverse("elevakt:home"), 20, False),
    "home_teacher": ("teacher", lambda c: reverse("elevakt:home"), 10, False),
    "overview": ("admin", lambda c: reverse("elevakt:overview"), 15, False),
    "follow_ups_mentor": ("mentor", lambda c: reverse("followup:follow-ups"), 11, True),
    "follow_ups_principal": ("principal", lambda c: reverse("followup:follow-ups"), 12, True),
    "eht_agenda": (
        "nurse",
        lambda c: reverse("followup:eht-agenda", args=[c.north.pk]),
        19,
        False,  # 15 rows a section (support/tests/test_paging.py pages through the rest)
    ),
    "risk_municipality": ("admin", lambda c: reverse("elevakt:municipality-riskzon"), 13, False),
    "home_officer": ("officer", lambda c: reverse("elevakt:home"), 20, False),
    "oversight": ("officer", lambda c: reverse("compulsory:home"), 12, False),  # cases' steps
    "oversight_report": ("admin", lambda c: reverse("compulsory:report"), 11, False),
    # handover/tests/test_views.py fills it with 55 pupils arriving
    "arriving": ("principal", lambda c: reverse("handover:arriving"), 9, False),
}


@pytest.mark.parametrize("page", PAGES)
def test_a_page_reads_as_often_for_45_pupils_as_for_5(
    client, cast, page, django_assert_max_num_queries
):
    login, url_of, bound, lists_them = PAGES[page]
    client.force_login(getattr(cast, login).user)
    url = url_of(cast)
    crowd(cast, 5)
    assert client.get(url).status_code == 200  # the session settles on the first request
    with django_assert_max_num_queries(bound) as few:
        body = client.get(url).content.decode()
    if lists_them:
        assert body.count(CROWD) >= 5
    crowd(cast, 40)  # 45 in all: still one page of a paged list (50 rows)
    with django_assert_max_num_queries(bound) as many:
        response = client.get(url)
    assert response.status_code == 200
    if lists_them:
        assert response.content.decode().count(CROWD) >= 45
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


def test_the_crowd_is_in_every_list(cast):
    """The fixture the bounds rest on: fifty pupils in each of the mentor's lists."""
    crowd(cast, 50)
    mentees = s.Mentorship.objects.active_on(clock.today()).filter(mentor=cast.mentor)
    assert mentees.count() == 52  # Alva and Cora besides
    assert LadderTask.objects.filter(assignee=cast.mentor).count() == 50
    assert GuardianNotice.objects.filter(status=Status.FAILED).count() == 50
    assert cast.lesson.attendance.filter(is_valid__isnull=True, absent_minutes=60).count() == 50
