"""The EHT meeting: an agenda generated for a school and date, minutes kept per case."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse

from conftest import TODAY
from fullfolj.access.gate import Viewer
from fullfolj.access.models import AccessLog
from fullfolj.ladder.models import Actor, LadderStep, LadderTask
from fullfolj.lib import clock
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support import eht
from fullfolj.support.models import AgreedAction, Case, CaseEntry, Measure

MEETING = TODAY + dt.timedelta(days=7)


@pytest.fixture
def scene(cast: SimpleNamespace) -> SimpleNamespace:
    """Alva's case with an adaptation due for follow-up before the meeting; Bilal flagged with
    nobody acting; Cora with a ladder step waiting for the team."""
    case = Case.objects.create(
        pupil=cast.pupil, school=cast.north, responsible=cast.mentor, status=Case.Status.ACTIVE
    )
    measure = Measure.objects.create(
        case=case,
        kind=Measure.Kind.EXTRA_ADAPTATION,
        title="Extra tid vid prov",
        start=TODAY - dt.timedelta(days=20),
        responsible=cast.mentor,
        follow_up_on=TODAY + dt.timedelta(days=3),
    )
    run = ScreeningRun.objects.create(
        organiser=cast.org, as_of=TODAY, started_at=clock.now(), finished_at=clock.now()
    )
    Flag.objects.create(
        run=run,
        pupil=cast.other_pupil,
        organiser=cast.org,
        school=cast.north,
        rule_code="invalid_4w",
        value=20,
        threshold=15,
        explanation="Ogiltig frånvaro 20 % de senaste fyra veckorna",
    )
    step = LadderStep.objects.filter(organiser=None, actor=Actor.STUDENT_HEALTH).first()
    task = LadderTask.objects.create(
        pupil=cast.protected,
        step=step,
        school=cast.north,
        actor=Actor.STUDENT_HEALTH,
        opened_on=TODAY - dt.timedelta(days=2),
        due=TODAY + dt.timedelta(days=10),
        reason="Frånvaro 14 %",
    )
    return SimpleNamespace(case=case, measure=measure, task=task)


def test_the_agenda_lists_due_cases_unattended_flags_and_waiting_ladder_steps(cast, scene):
    agenda = eht.agenda(Viewer(cast.nurse), cast.north, MEETING)
    assert [item.case for item in agenda.cases] == [scene.case]
    assert agenda.cases[0].measures == [scene.measure]
    assert [item.row.pupil for item in agenda.flags] == [cast.other_pupil]
    assert [item.task for item in agenda.tasks] == [scene.task]
    assert agenda.pupil_ids() == sorted([cast.pupil.pk, cast.other_pupil.pk, cast.protected.pk])
    # Before the follow-up date the case is not due yet.
    earlier = eht.agenda(Viewer(cast.nurse), cast.north, TODAY)
    assert earlier.cases == []


def test_an_agreed_action_due_brings_the_case_back(cast, scene):
    Measure.objects.filter(pk=scene.measure.pk).update(follow_up_on=MEETING + dt.timedelta(days=30))
    assert eht.agenda(Viewer(cast.nurse), cast.north, MEETING).cases == []
    entry = eht.record_minutes(
        scene.case,
        day=TODAY,
        text="Genomgång",
        decision="Mentorn ringer hem",
        agreed=[eht.Agreed(who=cast.mentor, what="Ringa hem", due=MEETING)],
        by=cast.nurse,
    )
    items = eht.agenda(Viewer(cast.nurse, second_factor=True), cast.north, MEETING).cases
    assert [a.what for a in items[0].actions] == ["Ringa hem"]
    assert items[0].last_minutes == entry
    # Without the second factor the nurse's minutes (under secrecy) stay off the agenda.
    agenda = eht.agenda(Viewer(cast.nurse), cast.north, MEETING)
    assert agenda.locked
    assert agenda.cases[0].last_minutes is None


def test_minutes_by_the_nurse_are_restricted_and_by_the_principal_not(cast, scene):
    by_nurse = eht.record_minutes(
        scene.case, day=TODAY, text="Hälsa", decision="", agreed=[], by=cast.nurse
    )
    by_principal = eht.record_minutes(
        scene.case, day=TODAY, text="Beslut", decision="ÅP utreds", agreed=[], by=cast.principal
    )
    assert by_nurse.kind == CaseEntry.Kind.EHT_MINUTES
    assert by_nurse.health_restricted and not by_principal.health_restricted


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse", 200),
        ("principal", 200),
        ("health_two", 200),
        ("doctor", 200),
        ("mentor", 404),
        ("teacher", 404),
        ("principal_elsewhere", 404),
        ("admin", 404),
        ("outsider", 404),
    ],
)
def test_the_agenda_is_for_the_team_and_the_principal(client, cast, scene, who, status):
    client.force_login(getattr(cast, who).user)
    url = reverse("followup:eht-agenda", args=[cast.north.pk])
    response = client.get(url, {"datum": MEETING.isoformat()})
    body = response.content.decode()
    assert response.status_code == status
    if status == 200:
        assert cast.pupil.last_name in body and cast.other_pupil.last_name in body
        logged = set(
            AccessLog.objects.filter(staff=getattr(cast, who)).values_list("pupil_id", flat=True)
        )
        assert {cast.pupil.pk, cast.other_pupil.pk, cast.protected.pk} <= logged
    else:
        assert cast.pupil.last_name not in body
        assert not AccessLog.objects.exists()


def test_a_bad_meeting_date_is_refused_naming_the_field(client, cast, scene):
    client.force_login(cast.nurse.user)
    url = reverse("followup:eht-agenda", args=[cast.north.pk])
    response = client.get(url, {"datum": "18/3"})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode() or "ÅÅÅÅ-MM-DD" in response.content.decode()


def test_minutes_are_saved_with_who_does_what_by_when(client, cast, scene):
    client.force_login(cast.nurse.user)
    url = reverse("followup:eht-minutes", args=[scene.case.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "day": TODAY.isoformat(),
            "text": "Eleven har svårt med morgnarna.",
            "decision": "Anpassad starttid prövas.",
            "who_1": cast.mentor.pk,
            "what_1": "Ringa vårdnadshavare",
            "due_1": MEETING.isoformat(),
        },
    )
    assert response.status_code == 302
    entry = CaseEntry.objects.get(case=scene.case, kind=CaseEntry.Kind.EHT_MINUTES)
    assert entry.decision == "Anpassad starttid prövas."
    assert entry.health_restricted
    action = AgreedAction.objects.get(entry=entry)
    assert (action.who, action.what, action.due) == (cast.mentor, "Ringa vårdnadshavare", MEETING)


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"what_1": "Ringa hem", "due_1": MEETING.isoformat()}, "who_1"),
        ({"who_1": "MENTOR", "due_1": MEETING.isoformat()}, "what_1"),
        ({"who_1": "MENTOR", "what_1": "Ringa hem", "due_1": "2026-03-01"}, "due_1"),
        ({"text": ""}, "text"),
    ],
)
def test_bad_minutes_are_refused_naming_the_field_and_keep_the_rest(
    client, cast, scene, posted, field
):
    data = {"day": TODAY.isoformat(), "text": "Genomgång", "decision": "Fortsätt"}
    data |= {k: (cast.mentor.pk if v == "MENTOR" else v) for k, v in posted.items()}
    client.force_login(cast.nurse.user)
    response = client.post(reverse("followup:eht-minutes", args=[scene.case.pk]), data)
    assert response.status_code == 400
    assert f'href="#id_{field}"' in response.content.decode()
    assert "Fortsätt" in response.content.decode()  # the rest kept
    assert not CaseEntry.objects.filter(kind=CaseEntry.Kind.EHT_MINUTES).exists()


def test_earlier_actions_are_marked_done_at_the_meeting(client, cast, scene):
    entry = eht.record_minutes(
        scene.case,
        day=TODAY - dt.timedelta(days=7),
        text="Förra mötet",
        decision="",
        agreed=[eht.Agreed(who=cast.mentor, what="Ringa hem", due=TODAY)],
        by=cast.principal,
    )
    action = entry.actions.get()
    client.force_login(cast.principal.user)
    response = client.post(
        reverse("followup:eht-minutes", args=[scene.case.pk]),
        {"day": TODAY.isoformat(), "text": "Uppföljning", "done": [action.pk]},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.done_on == TODAY


@pytest.mark.parametrize("who", ["mentor", "teacher", "principal_elsewhere", "outsider"])
def test_minutes_are_written_only_by_the_team_and_the_principal(client, cast, scene, who):
    client.force_login(getattr(cast, who).user)
    url = reverse("followup:eht-minutes", args=[scene.case.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"day": TODAY.isoformat(), "text": "x"}).status_code == 404
    assert not CaseEntry.objects.filter(kind=CaseEntry.Kind.EHT_MINUTES).exists()
