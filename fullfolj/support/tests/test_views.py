"""The support pages: from a flag to a followed-up adaptation, bad input refused on its field,
two people saving the same row, the student-health team's secrecy."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.support import actions
from fullfolj.support.models import Case, CaseEntry, Evaluation, Measure
from tests.factories import login_with_second_factor

from .conftest import make_flag


def test_a_mentor_opens_a_case_from_a_flag_with_a_first_adaptation(client, cast):
    flag = make_flag(cast)
    client.force_login(cast.mentor.user)
    page = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    url = reverse("support:open-case", args=[cast.pupil.pk]) + f"?flag={flag.pk}"
    assert url.replace("&", "&amp;") in page or url in page  # the pupil page links the flag
    form = client.get(url)
    assert form.status_code == 200
    assert "Ogiltig frånvaro 30 %" in form.content.decode()
    response = client.post(
        reverse("support:open-case", args=[cast.pupil.pk]),
        {
            "flag": flag.pk,
            "responsible": cast.mentor.pk,
            "title": "Lugn plats vid prov",
            "description": "",
            "start": "2026-03-18",
            "follow_up_on": "2026-04-15",
        },
    )
    case = Case.objects.get(pupil=cast.pupil)
    assert response.status_code == 302 and response["Location"] == reverse(
        "support:case", args=[case.pk]
    )
    assert case.flag == flag and case.opened_from == Case.Source.FLAG
    assert case.reason == flag.explanation
    measure = case.measures.get()
    assert (measure.kind, measure.follow_up_on) == (
        Measure.Kind.EXTRA_ADAPTATION,
        dt.date(2026, 4, 15),
    )
    assert case.status == Case.Status.ACTIVE
    assert set(case.entries.values_list("kind", flat=True)) == {"status", "measure"}


def test_a_follow_up_before_the_start_is_refused_naming_the_field_and_the_form_kept(client, cast):
    client.force_login(cast.mentor.user)
    response = client.post(
        reverse("support:open-case", args=[cast.pupil.pk]),
        {
            "responsible": cast.mentor.pk,
            "title": "Kortare uppgifter",
            "start": "2026-03-18",
            "follow_up_on": "2026-03-01",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Uppföljningsdatum" in body and "före start" in body
    assert 'value="Kortare uppgifter"' in body
    assert not Case.objects.exists()


def test_the_case_page_logs_the_read_and_shows_the_timeline(client, cast, measure):
    client.force_login(cast.principal.user)
    response = client.get(reverse("support:case", args=[measure.case_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Lugn plats vid prov" in body and "Försenad" in body  # follow-up 2026-03-16 passed
    assert AccessLog.objects.filter(staff=cast.principal, pupil=cast.pupil).exists()


def test_a_counsellors_note_is_hidden_from_the_mentor_and_labelled_for_the_team(client, cast, case):
    client.force_login(cast.health_two.user)
    client.post(
        reverse("support:add-entry", args=[case.pk]),
        {"kind": "note", "occurred_on": "2026-03-17", "text": "Samtal om sömnen."},
    )
    entry = case.entries.get(kind=CaseEntry.Kind.NOTE)
    assert entry.health_restricted
    label = "Syns bara för elevhälsoteamet och rektor"
    for who, sees in [
        ("health_two", True),
        ("principal", True),
        ("nurse", True),
        ("mentor", False),
    ]:
        login_with_second_factor(client, getattr(cast, who).user)
        body = client.get(reverse("support:case", args=[case.pk])).content.decode()
        assert ("Samtal om sömnen." in body) is sees, who
        assert (label in body) is sees, who


def test_a_mentors_note_is_not_restricted(client, cast, case):
    client.force_login(cast.mentor.user)
    client.post(
        reverse("support:add-entry", args=[case.pk]),
        {"kind": "guardian_contact", "occurred_on": "2026-03-17", "text": "Ringde mamma."},
    )
    assert not case.entries.get(kind="guardian_contact").health_restricted


def test_two_people_saving_the_same_measure_the_second_is_refused_with_what_changed(
    client, cast, measure
):
    url = reverse("support:measure", args=[measure.pk])
    client.force_login(cast.mentor.user)
    page = client.get(url).content.decode()
    assert f'name="version" value="{measure.version}"' in page
    seen = json.dumps(
        actions.shown(measure, ["title", "description", "start", "responsible", "follow_up_on"])
    )
    base = {
        "version": measure.version,
        "seen": seen,
        "title": measure.title,
        "description": "",
        "start": "2026-02-16",
        "responsible": cast.mentor.pk,
        "follow_up_on": "2026-03-16",
    }
    first = client.post(url, base | {"follow_up_on": "2026-04-01"})
    assert first.status_code == 302
    client.force_login(cast.principal.user)
    second = client.post(url, base | {"title": "Extra tid vid prov"})
    body = second.content.decode()
    assert second.status_code == 409
    assert "2026-03-16" in body and "2026-04-01" in body  # what the first person changed
    assert 'value="Extra tid vid prov"' in body  # the second person's input is kept
    measure.refresh_from_db()
    assert (measure.title, measure.follow_up_on) == ("Lugn plats vid prov", dt.date(2026, 4, 1))


def test_an_action_programme_without_a_responsible_person_is_refused(client, cast, case):
    client.force_login(cast.mentor.user)
    url = reverse("support:add-measure", args=[case.pk]) + "?kind=action_programme"
    response = client.post(
        url,
        {
            "kind": "action_programme",
            "title": "",
            "start": "2026-03-18",
            "follow_up_on": "2026-04-15",
            "needs": "Behov",
            "planned_measures": "Åtgärder",
            "evaluation_on": "2026-05-20",
            "responsible": "",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_responsible"' in body and "ansvarig" in body
    assert "Behov" in body
    assert not case.measures.exists()


def test_only_the_principal_decides_and_a_decision_needs_its_date(client, cast, programme):
    url = reverse("support:decide", args=[programme.pk])
    client.force_login(cast.mentor.user)
    assert client.get(url).status_code == 404
    client.force_login(cast.principal.user)
    form = {"version": programme.version, "seen": "{}", "decision": "decided", "appeal_text": "x"}
    refused = client.post(url, form | {"decided_on": ""})
    assert (
        refused.status_code == 400 and "Ett beslut behöver sitt datum" in refused.content.decode()
    )
    done = client.post(url, form | {"decided_on": "2026-03-18"})
    assert done.status_code == 302
    programme.refresh_from_db()
    assert (programme.decision, programme.decided_by) == ("decided", cast.principal)
    assert programme.case.entries.filter(kind=CaseEntry.Kind.DECISION).exists()


def test_an_evaluation_without_a_judgement_is_refused_and_closing_needs_one(client, cast, measure):
    url = reverse("support:evaluate", args=[measure.pk])
    client.force_login(cast.mentor.user)
    page = client.get(url).content.decode()
    assert 'id="figures"' in page
    refused = client.post(
        url, {"text": "Det går bättre.", "evaluated_on": "2026-03-18", "outcome": "close"}
    )
    assert refused.status_code == 400
    assert "Välj en bedömning" in refused.content.decode()
    assert "Det går bättre." in refused.content.decode()
    measure.refresh_from_db()
    assert measure.is_active and not Evaluation.objects.exists()
    done = client.post(
        url,
        {
            "judgement": "better",
            "text": "Det går bättre.",
            "evaluated_on": "2026-03-18",
            "outcome": "close",
        },
    )
    assert done.status_code == 302
    measure.refresh_from_db()
    assert measure.status == Measure.Status.CLOSED
    assert measure.evaluations.get().figures["before"]["from"] == "2026-01-19"


def test_carrying_on_needs_the_next_follow_up_date(client, cast, measure):
    client.force_login(cast.mentor.user)
    response = client.post(
        reverse("support:evaluate", args=[measure.pk]),
        {
            "judgement": "unchanged",
            "text": "Ingen skillnad.",
            "evaluated_on": "2026-03-18",
            "outcome": "continue",
        },
    )
    assert response.status_code == 400 and "id_next_follow_up" in response.content.decode()


def test_a_case_closes_only_when_its_measures_are_followed_up(client, cast, measure):
    case = measure.case
    url = reverse("support:case-edit", args=[case.pk])
    client.force_login(cast.mentor.user)
    data = {
        "version": case.version,
        "seen": "{}",
        "status": "closed",
        "responsible": cast.mentor.pk,
        "closed_reason": "Närvaron är god igen.",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400 and "aktiva insatserna" in refused.content.decode()
    case.refresh_from_db()
    assert case.is_open


def test_a_case_opens_from_a_ladder_step_by_its_link(client, cast):
    from fullfolj.ladder.models import Actor, LadderStep, LadderTask

    step = LadderStep.objects.filter(organiser=None, actor=Actor.MENTOR).first()
    task = LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor=Actor.MENTOR,
        assignee=cast.mentor,
        opened_on=dt.date(2026, 3, 16),
        due=dt.date(2026, 3, 20),
        reason="frånvaro 12,5 %",
    )
    client.force_login(cast.mentor.user)
    url = reverse("support:open-case", args=[cast.pupil.pk])
    assert "frånvaro 12,5 %" in client.get(url + f"?task={task.pk}").content.decode()
    client.post(url, {"task": task.pk, "responsible": cast.mentor.pk, "start": "2026-03-18"})
    case = Case.objects.get(pupil=cast.pupil)
    assert (case.opened_from, case.ladder_task) == (Case.Source.LADDER, task)
    assert not case.measures.exists()  # no adaptation given: the case alone


def test_someone_elses_flag_is_not_prefilled(client, cast):
    flag = make_flag(cast, cast.other_pupil)
    client.force_login(cast.mentor.user)
    url = reverse("support:open-case", args=[cast.pupil.pk]) + f"?flag={flag.pk}"
    assert flag.explanation not in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("kind", "asks", "leaves_out"),
    [
        ("extra_adaptation", ["id_title", "id_follow_up_on"], ["id_needs", "id_subjects"]),
        ("investigation", ["id_title", "id_follow_up_on"], ["id_needs", "id_period_end"]),
        (
            "action_programme",
            ["id_needs", "id_planned_measures", "id_evaluation_on"],
            ["id_subjects"],
        ),
        ("adapted_study_path", ["id_subjects", "id_period_end"], ["id_needs"]),
        ("special_group", ["id_period_end"], ["id_needs", "id_subjects"]),
        ("individual_teaching", ["id_period_end"], ["id_needs"]),
        ("flexible_group", ["id_period_end"], ["id_needs"]),
        ("distance_teaching", ["id_period_end"], ["id_needs"]),
        ("guardian_cooperation", ["id_title"], ["id_needs", "id_period_end"]),
    ],
)
def test_each_kind_of_measure_asks_only_what_it_needs(client, cast, case, kind, asks, leaves_out):
    client.force_login(cast.mentor.user)
    url = reverse("support:add-measure", args=[case.pk]) + f"?kind={kind}"
    body = client.get(url).content.decode()
    for field in asks:
        assert f'id="{field}' in body, field
    for field in leaves_out:
        assert f'id="{field}' not in body, field
    assert 'value="2026-04-15"' in body  # the follow-up prefilled four weeks on


def test_an_adapted_study_path_keeps_its_subjects(client, cast, case):
    client.force_login(cast.mentor.user)
    response = client.post(
        reverse("support:add-measure", args=[case.pk]) + "?kind=adapted_study_path",
        {
            "kind": "adapted_study_path",
            "title": "Färre ämnen under våren",
            "start": "2026-03-18",
            "follow_up_on": "2026-04-15",
            "period_end": "2026-06-10",
            "responsible": cast.principal.pk,
            "subjects": [cast.maths.pk],
        },
    )
    assert response.status_code == 302
    measure = case.measures.get()
    assert list(measure.subjects.all()) == [cast.maths]


def test_a_mapping_is_prefilled_and_keeps_what_was_known(client, cast, case):
    client.force_login(cast.nurse.user)
    url = reverse("support:mapping", args=[case.pk])
    page = client.get(url).content.decode()
    assert "Frånvaro denna termin" in page
    empty = client.post(url, {"written_on": "2026-03-18"})
    assert empty.status_code == 400 and "minst ett avsnitt" in empty.content.decode()
    client.post(
        url, {"written_on": "2026-03-18", "health": "Sover dåligt.", "pupil_view": "Trött."}
    )
    mapping = case.mappings.get()
    assert mapping.prefill["attendance"]["term"]["total"] is not None
    assert case.entries.get(kind="mapping").health_restricted  # written by the school nurse
    client.force_login(cast.mentor.user)
    body = client.get(reverse("support:case", args=[case.pk])).content.decode()
    assert "Trött." in body and "Sover dåligt." not in body


def test_a_decided_programme_is_changed_by_the_principal_only(client, cast, programme):
    actions.decide(
        programme,
        version=programme.version,
        seen={},
        decision="decided",
        decided_on=dt.date(2026, 3, 18),
        appeal_text="",
        by=cast.principal,
    )
    programme.refresh_from_db()
    url = reverse("support:measure", args=[programme.pk])
    form = {
        "version": programme.version,
        "seen": "{}",
        "title": "Åtgärdsprogram",
        "start": "2026-03-02",
        "responsible": cast.mentor.pk,
        "follow_up_on": "2026-04-20",
        "needs": programme.needs,
        "planned_measures": programme.planned_measures,
        "evaluation_on": "2026-05-25",
    }
    client.force_login(cast.mentor.user)
    assert 'id="id_follow_up_on"' not in client.get(url).content.decode()
    assert client.post(url, form).status_code == 403
    client.force_login(cast.principal.user)
    assert client.post(url, form).status_code == 302
    programme.refresh_from_db()
    assert programme.follow_up_on == dt.date(2026, 4, 20)
