"""Follow-up that really happens: an overdue follow-up reaches the responsible person's and the
principal's home and list; a case or a measure counts as action; teachers see adaptations."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse

from conftest import TODAY
from fullfolj.access.gate import Viewer
from fullfolj.access.models import AccessLog
from fullfolj.lib import clock
from fullfolj.schools.models import Pupil
from fullfolj.screening import queries as screening
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support import followups
from fullfolj.support.models import Case, Evaluation, Measure


@pytest.fixture
def case(cast: SimpleNamespace) -> Case:
    return Case.objects.create(
        pupil=cast.pupil, school=cast.north, responsible=cast.mentor, status=Case.Status.ACTIVE
    )


def adaptation(case: Case, follow_up: dt.date, **fields: object) -> Measure:
    values: dict[str, object] = {
        "case": case,
        "kind": Measure.Kind.EXTRA_ADAPTATION,
        "title": "Extra tid vid prov",
        "start": follow_up - dt.timedelta(weeks=4),
        "responsible": case.responsible,
        "follow_up_on": follow_up,
    }
    values.update(fields)
    return Measure.objects.create(**values)


def test_a_follow_up_is_overdue_the_day_after_its_date_until_evaluated(case, cast):
    measure = adaptation(case, TODAY)
    assert list(followups.overdue(TODAY)) == []  # due today: not late yet
    assert list(followups.overdue(TODAY + dt.timedelta(days=1))) == [measure]
    Evaluation.objects.create(
        measure=measure,
        judgement=Evaluation.Judgement.BETTER,
        text="Bättre närvaro",
        evaluated_on=TODAY,
        by=cast.mentor,
    )
    assert list(followups.overdue(TODAY + dt.timedelta(days=1))) == []


def test_a_closed_measure_or_case_is_not_overdue(case, cast):
    measure = adaptation(case, TODAY - dt.timedelta(days=3))
    assert list(followups.overdue(TODAY)) == [measure]
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.CLOSED)
    assert list(followups.overdue(TODAY)) == []


def test_counts_for_the_responsible_and_the_principal(case, cast):
    adaptation(case, TODAY - dt.timedelta(days=3))
    adaptation(case, TODAY + dt.timedelta(days=5), title="Lugn plats")
    other = Case.objects.create(pupil=cast.other_pupil, school=cast.north, responsible=cast.nurse)
    adaptation(other, TODAY - dt.timedelta(days=1), responsible=None)  # the case's: the nurse
    mentor = followups.counts(Viewer(cast.mentor), TODAY)
    assert (mentor.mine_overdue, mentor.mine_soon) == (1, 1)
    nurse = followups.counts(Viewer(cast.nurse), TODAY)
    assert (nurse.mine_overdue, nurse.mine_soon) == (1, 0)
    principal = followups.counts(Viewer(cast.principal), TODAY)
    assert principal.school_overdue == {cast.north.pk: 2}
    assert (principal.mine_overdue, principal.mine_soon) == (0, 0)
    # Someone responsible who no longer reaches the pupil sees nothing of theirs.
    elsewhere = followups.counts(Viewer(cast.teacher_elsewhere), TODAY)
    assert (elsewhere.mine_overdue, elsewhere.school_overdue) == (0, {})


def test_the_list_names_the_overdue_and_the_soon_and_logs_the_reads(client, case, cast):
    adaptation(case, TODAY - dt.timedelta(days=3))
    adaptation(case, TODAY + dt.timedelta(days=5), title="Lugn plats")
    client.force_login(cast.mentor.user)
    response = client.get(reverse("followup:follow-ups"))
    body = response.content.decode()
    assert response.status_code == 200
    overdue, soon = body.split('id="soon-heading"')
    assert "Extra tid vid prov" in overdue and "Lugn plats" not in overdue
    assert "Lugn plats" in soon
    assert cast.pupil.last_name in body
    assert AccessLog.objects.filter(staff=cast.mentor, pupil=cast.pupil, role="mentor").exists()


def test_the_mentor_home_shows_the_overdue_count(client, case, cast):
    adaptation(case, TODAY - dt.timedelta(days=3))
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:home")).content.decode()
    card = body.split("home-card")
    followup = next(c for c in card[1:] if "Uppföljning av insatser" in c)
    assert '<p class="count warn"><a href="/stod/uppfoljningar/">1</a></p>' in followup


def test_a_case_or_a_running_measure_counts_as_action(case, cast):
    run = ScreeningRun.objects.create(
        organiser=cast.org, as_of=TODAY, started_at=clock.now(), finished_at=clock.now()
    )
    for pupil in (cast.pupil, cast.other_pupil):
        Flag.objects.create(
            run=run,
            pupil=pupil,
            organiser=cast.org,
            school=cast.north,
            rule_code="invalid_4w",
            value=20,
            threshold=15,
            explanation="Ogiltig frånvaro",
        )
    ids = [cast.pupil.pk, cast.other_pupil.pk]
    assert screening.pupils_with_action(ids) == {cast.pupil.pk}  # Alva's case is open
    assert screening.flagged_without_action(Pupil.objects.all()) == {cast.north.pk: 1}
    # A closed case with a measure still running still counts; closed and done does not.
    measure = adaptation(case, TODAY + dt.timedelta(days=7))
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.CLOSED, closed_at=clock.now(), closed_reason="Klar"
    )
    assert screening.pupils_with_action(ids) == {cast.pupil.pk}
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.CLOSED)
    assert screening.pupils_with_action(ids) == set()


def test_teachers_see_running_adaptations_on_the_register_and_the_group_page(client, case, cast):
    adaptation(case, TODAY + dt.timedelta(days=7))
    adaptation(case, TODAY + dt.timedelta(days=7), title="Avslutad", status=Measure.Status.CLOSED)
    adaptation(
        case, TODAY + dt.timedelta(days=7), title="Stödsamtal", kind=Measure.Kind.INVESTIGATION
    )
    client.force_login(cast.teacher.user)
    for url in (
        reverse("attendance:lesson-register", args=[cast.lesson.pk]),
        reverse("elevakt:group", args=[cast.group.pk]),
    ):
        body = client.get(url).content.decode()
        assert 'class="adaptations"' in body, url
        assert "Extra tid vid prov" in body
        assert "Avslutad" not in body and "Stödsamtal" not in body


def test_support_plugs_into_the_layers_below_as_providers(case, cast):
    """Attendance and screening know support only through the providers it registered; taken
    away, the register shows no adaptation and a case no longer counts as action."""
    from fullfolj.attendance import hooks as attendance_hooks
    from fullfolj.screening import hooks as screening_hooks
    from fullfolj.support.queries import active_adaptations

    adaptation(case, TODAY + dt.timedelta(days=7))
    assert followups.pupils_acted_on in screening_hooks.providers()
    assert attendance_hooks.adaptations([cast.pupil.pk], TODAY) == {
        cast.pupil.pk: ["Extra tid vid prov"]
    }
    assert screening.pupils_with_action([cast.pupil.pk]) == {cast.pupil.pk}
    attendance_hooks.withdraw_adaptations(active_adaptations)
    screening_hooks.withdraw_actions(followups.pupils_acted_on)
    try:
        assert attendance_hooks.adaptations([cast.pupil.pk], TODAY) == {}
        assert screening.pupils_with_action([cast.pupil.pk]) == set()
    finally:
        attendance_hooks.provide_adaptations(active_adaptations)
        screening_hooks.provide_actions(followups.pupils_acted_on)
