"""The support pages: from a flag to a followed-up adaptation, bad input refused on its field,
two people saving the same row, the student-health team's secrecy."""

from __future__ import annotations

import datetime as dt
import json

from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.support import actions
from fullfolj.support.models import Case, CaseEntry, Evaluation, Measure

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
        client.force_login(getattr(cast, who).user)
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
