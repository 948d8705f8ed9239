"""The home page: each role's cards of what needs them today, in counts that link to the lists,
grouped by role and school; a fixed number of queries whatever the number of pupils or tasks."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import TODAY
from fullfolj.access.models import AccessLog
from fullfolj.ladder.models import Actor, LadderStep, LadderTask
from fullfolj.lib import clock
from fullfolj.schools import models as s
from fullfolj.screening.models import Flag, ScreeningRun
from tests import factories as f

# Each cast member's group headings, in the order the page shows them.
GROUPS = {
    "mentor": ["Lärare", "Mentor"],
    "other_mentor": ["Mentor"],
    "teacher": ["Lärare"],
    "teacher_elsewhere": ["Lärare"],
    "principal": ["Rektor, Norrskolan"],
    "principal_elsewhere": ["Rektor, Söderskolan"],
    "nurse": ["Elevhälsan, Norrskolan"],
    "admin": ["Förvaltningen, Testkommun"],
    "officer": ["Skolpliktsbevakning, Testkommun"],
    "outsider": [],
    "teacher_admin": ["Lärare", "Förvaltningen, Testkommun"],
    "mentor_principal": ["Mentor", "Rektor, Söderskolan"],
    "health_two": ["Elevhälsan, Norrskolan", "Elevhälsan, Söderskolan"],
    "doctor": ["Elevhälsan, Norrskolan", "Elevhälsan, Söderskolan"],
}


def _home(client, staff) -> str:
    client.force_login(staff.user)
    response = client.get(reverse("elevakt:home"))
    assert response.status_code == 200
    return response.content.decode()


def _group(body: str, heading: str) -> str:
    """The HTML of one role's group of cards."""
    start = body.index(f">{heading}</h2>")
    end = body.find("<h2", start)
    return body[start : end if end > 0 else len(body)]


def _card(group: str, title: str) -> str:
    start = group.index(f"<h3>{title}</h3>")
    return group[start : group.index("</section>", start)]


def _count(card: str) -> int:
    match = re.search(r'class="count[^"]*">(?:<a [^>]*>)?(\d+)', card)
    assert match, card
    return int(match.group(1))


@pytest.mark.parametrize("who", list(GROUPS))
def test_every_role_has_a_home_grouped_by_role_and_school(client, cast, who):
    body = _home(client, getattr(cast, who))
    assert re.findall(r'<h2 id="group-\d+">([^<]+)</h2>', body) == GROUPS[who]
    if not GROUPS[who]:
        assert "ingen roll som visar elever" in body
    # Everyone has a menu, the officer and the school doctor included.
    assert f'<li><a href="{reverse("elevakt:home")}">Start</a></li>' in body


def test_the_teacher_sees_an_earlier_lesson_left_unregistered(client, cast):
    group = _group(_home(client, cast.teacher), "Lärare")
    card = _card(group, "Lektioner att registrera")
    assert _count(card) == 1
    assert reverse("attendance:lesson-register", args=[cast.lesson.pk]) in card
    cast.lesson.registered_at, cast.lesson.registered_by = clock.now(), cast.teacher
    cast.lesson.save()
    card = _card(_group(_home(client, cast.teacher), "Lärare"), "Lektioner att registrera")
    assert _count(card) == 0


def _unsettled(cast, pupil) -> None:
    lesson = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 10, 0)),
    )
    f.mark(lesson, pupil, absent=40)


def test_absence_to_settle_counts_the_mentees_and_the_principals_school(client, cast):
    _unsettled(cast, cast.pupil)
    _unsettled(cast, cast.other_pupil)
    mentor = _card(_group(_home(client, cast.mentor), "Mentor"), "Att avgöra")
    assert _count(mentor) == 1  # Alva is the mentor's; Bilal is not
    assert reverse("attendance:settle") in mentor
    principal = _card(_group(_home(client, cast.principal), "Rektor, Norrskolan"), "Att avgöra")
    assert _count(principal) == 2
    elsewhere = _group(_home(client, cast.principal_elsewhere), "Rektor, Söderskolan")
    assert _count(_card(elsewhere, "Att avgöra")) == 0


def _task(cast, pupil, actor, *, due, assignee=None, school=None):
    step = LadderStep.objects.filter(organiser=None, actor=actor).order_by("order").first()
    return LadderTask.objects.create(
        pupil=pupil,
        step=step,
        school=school or cast.north,
        actor=actor,
        assignee=assignee,
        opened_on=TODAY - dt.timedelta(days=10),
        due=due,
        reason="frånvaro 12,0 %",
    )


def test_ladder_tasks_are_counted_per_acting_role_due_and_overdue(client, cast):
    yesterday, soon, later = (TODAY + dt.timedelta(days=d) for d in (-1, 3, 30))
    _task(cast, cast.pupil, Actor.MENTOR, due=yesterday, assignee=cast.mentor)
    _task(cast, cast.protected, Actor.STUDENT_HEALTH, due=soon)
    _task(cast, cast.other_pupil, Actor.PRINCIPAL, due=later)
    title = "Uppgifter i frånvarotrappan"

    mentor = _card(_group(_home(client, cast.mentor), "Mentor"), title)
    assert _count(mentor) == 1  # overdue
    assert reverse("ladder:my-tasks") in mentor

    nurse = _card(_group(_home(client, cast.nurse), "Elevhälsan, Norrskolan"), title)
    assert _count(nurse) == 0
    assert re.search(r"inom en vecka</dt><dd>1<", nurse)

    principal = _card(_group(_home(client, cast.principal), "Rektor, Norrskolan"), title)
    assert _count(principal) == 0  # the principal's own task is due in a month
    assert re.search(r"Öppna totalt</dt><dd>1<", principal)
    # ... but the principal answers for the whole ladder: the mentor's overdue task shows too.
    assert re.search(r"alla steg</dt><dd class=\"warn\">1<", principal)

    # The counsellor at both schools: the north task counts at Norrskolan only.
    health_two = _home(client, cast.health_two)
    assert "inom en vecka</dt><dd>1<" in _card(_group(health_two, "Elevhälsan, Norrskolan"), title)
    assert "inom en vecka</dt><dd>0<" in _card(_group(health_two, "Elevhälsan, Söderskolan"), title)


def _flag(cast, *pupils, school=None) -> ScreeningRun:
    run = ScreeningRun.objects.create(
        organiser=cast.org,
        as_of=TODAY,
        started_at=clock.now(),
        finished_at=clock.now(),
        pupils=5,
        flagged_pupils=len(pupils),
        flags=len(pupils),
    )
    for pupil in pupils:
        Flag.objects.create(
            run=run,
            pupil=pupil,
            organiser=cast.org,
            school=school or cast.north,
            rule_code="invalid_4w",
            value=30,
            threshold=15,
            explanation="Ogiltig frånvaro 30 %",
        )
    return run


def test_flagged_pupils_nobody_acts_on_are_counted_and_linked(client, cast):
    _flag(cast, cast.pupil, cast.other_pupil, cast.protected)
    _task(cast, cast.protected, Actor.MENTOR, due=TODAY, assignee=cast.mentor)  # acting
    title = "Flaggade utan åtgärd"
    principal = _card(_group(_home(client, cast.principal), "Rektor, Norrskolan"), title)
    assert _count(principal) == 2
    assert reverse("elevakt:school-riskzon", args=[cast.north.pk]) in principal
    mentor = _card(_group(_home(client, cast.mentor), "Mentor"), title)
    assert _count(mentor) == 1  # Alva; Cora has a task, Bilal is not the mentor's
    # Counts, no names: nobody's name is on the page for it.
    assert cast.pupil.last_name not in principal


RECORDS_CARD = "Våra elevuppgifter: bor här, ingen placering"


def test_the_officer_names_only_resident_children_without_a_school_and_logs_them(client, cast):
    body = _home(client, cast.officer)
    group = _group(body, "Skolpliktsbevakning, Testkommun")
    card = _card(group, RECORDS_CARD)
    assert _count(card) == 1
    assert cast.moved_away.full_name in card
    assert "Av dem finns 0 i ett öppet skolpliktsärende." in card
    for placed in (cast.pupil, cast.other_pupil, cast.protected, cast.pupil_elsewhere):
        assert placed.last_name not in body
    entry = AccessLog.objects.get(staff=cast.officer)
    assert (entry.pupil, entry.role) == (cast.moved_away, "attendance_officer")
    # Figures per school: Norrskolan's three resident pupils are a small group, hidden.
    table = _card(group, "Elever som bor här, per skola")
    row = table[table.index("Norrskolan") :]
    assert re.findall(r'<td class="num">([^<]*)</td>', row[: row.index("</tr>")]) == ["–"] * 3


def test_the_officers_home_leads_with_the_register_match_and_tells_our_records_apart(client, cast):
    """Two figures of children without a school would disagree: the oversight's (the register
    match's open cases) comes first and is the one in warning colour; our own records' count
    says what it is and how many of its children an open case names."""
    from fullfolj.compulsory.models import Check, OversightCase

    check = Check.objects.create(organiser=cast.org, day=TODAY, checked=321)
    for n, kind in enumerate((OversightCase.Kind.NO_SCHOOL,) * 2 + (OversightCase.Kind.MOVED_IN,)):
        OversightCase.objects.create(
            organiser=cast.org, kind=kind, personnummer=str(n), opened_on=TODAY, check_run=check
        )
    OversightCase.objects.create(
        organiser=cast.org,
        kind=OversightCase.Kind.ENDED,
        personnummer=cast.moved_away.personnummer,
        pupil=cast.moved_away,
        opened_on=TODAY,
        check_run=check,
    )
    group = _group(_home(client, cast.officer), "Skolpliktsbevakning, Testkommun")
    titles = re.findall(r"<h3>([^<]+)</h3>", group)
    assert titles[0] == "Öppna skolpliktsärenden"
    assert titles.index(RECORDS_CARD) > titles.index("Skolpliktssteg som passerat sista dag")
    oversight = _card(group, "Öppna skolpliktsärenden")
    assert _count(oversight) == 4
    assert 'class="count warn"' in oversight
    assert "18 mars 2026: 321 skolpliktiga barn kontrollerade" in oversight
    records = _card(group, RECORDS_CARD)
    assert _count(records) == 1
    assert 'class="count warn"' not in records
    assert "Av dem finns 1 i ett öppet skolpliktsärende." in records
    assert reverse("compulsory:home") in records


def test_the_officers_figures_per_school_and_ladder_step(client, cast, settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1  # show every count
    _task(cast, cast.pupil, Actor.MENTOR, due=TODAY - dt.timedelta(days=1), assignee=cast.mentor)

    def norrskolan() -> list[str]:
        body = _home(client, cast.officer)
        table = _card(
            _group(body, "Skolpliktsbevakning, Testkommun"), "Elever som bor här, per skola"
        )
        row = table[table.index("Norrskolan") :]
        return re.findall(r'<td class="num">([^<]*)</td>', row[: row.index("</tr>")])

    # The figures read the whole weeks before this one: in the week of the cast's only lesson
    # (Monday 16 March) it does not count yet.
    assert norrskolan() == ["3", "0", "0"]
    # Next week it does: three resident pupils at Norrskolan, and Alva's 60 minutes of invalid
    # absence out of 60 is at the line, both in total and invalid.
    settings.FULLFOLJ_TODAY = (TODAY + dt.timedelta(days=7)).isoformat()
    assert norrskolan() == ["3", "1", "1"]
    group = _group(_home(client, cast.officer), "Skolpliktsbevakning, Testkommun")
    steps = _card(group, "Frånvarotrappan, öppna uppgifter per steg")
    assert re.findall(r'<td class="num">([^<]*)</td>', steps) == ["1", "1"]


def test_the_administration_sees_key_figures_and_no_names(client, cast, settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1
    _flag(cast, cast.pupil, cast.other_pupil)
    body = _home(client, cast.admin)
    group = _group(body, "Förvaltningen, Testkommun")
    assert reverse("elevakt:overview") in group
    assert reverse("elevakt:municipality-riskzon") in group
    assert re.search(r"Flaggade elever</dt><dd>2<", group)
    assert re.search(r"Varav ingen åtgärd ännu</dt><dd>2<", group)
    assert not {p.last_name for p in (cast.pupil, cast.other_pupil)} & set(re.findall(r"\w+", body))


def _more_of_everything(cast, n: int) -> None:
    """n more pupils at Norrskolan, each the mentor's, absent and unsettled, flagged, with an
    open ladder task: everything the home counts grows with n."""
    pupils = []
    for i in range(n):
        pupil = f.pupil(cast.org, f"Extra{i}", f"Elev{i}")
        f.place(pupil, cast.north, cast.c7a, cast.year.start)
        s.Mentorship.objects.create(
            pupil=pupil, mentor=cast.mentor_principal, start=cast.year.start
        )
        s.GroupMembership.objects.create(group=cast.group, pupil=pupil, start=cast.year.start)
        _unsettled(cast, pupil)
        _task(cast, pupil, Actor.MENTOR, due=TODAY, assignee=cast.mentor_principal)
        _task(cast, pupil, Actor.STUDENT_HEALTH, due=TODAY - dt.timedelta(days=1))
        pupils.append(pupil)
    _flag(cast, *pupils)


def _queries(client, staff) -> int:
    client.force_login(staff.user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("elevakt:home")).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "who", ["teacher", "mentor_principal", "health_two", "principal", "teacher_admin", "officer"]
)
def test_the_homes_queries_do_not_grow_with_pupils_or_tasks(
    client, cast, who, django_assert_max_num_queries
):
    staff = getattr(cast, who)
    _more_of_everything(cast, 2)
    few = _queries(client, staff)
    _more_of_everything(cast, 25)
    many = _queries(client, staff)
    assert many == few, (few, many)
    with django_assert_max_num_queries(30):
        client.get(reverse("elevakt:home"))


def test_the_officer_reaches_only_children_of_compulsory_school_age(client, cast):
    """Skolplikt runs from the autumn a child turns six to the spring term ten years later: a
    resident youth who left year 9 is nobody's to chase, a six-year-old placed nowhere is."""
    left_year_9 = f.pupil(cast.org, "Vilgot", "Vuxensson", born=dt.date(2009, 4, 1))
    starts_school = f.pupil(cast.org, "Freja", "Förskolesson", born=dt.date(2019, 9, 1))
    body = _home(client, cast.officer)
    assert starts_school.full_name in body
    assert left_year_9.last_name not in body
    client.force_login(cast.officer.user)
    assert client.get(reverse("elevakt:pupil", args=[left_year_9.pk])).status_code == 404
    assert client.get(reverse("elevakt:pupil", args=[starts_school.pk])).status_code == 200
