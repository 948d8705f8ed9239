"""The support actions: a ladder step for the student-health team opens or joins the case, the
timeline's clean slate, evaluations and the figures they start from."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from fullfolj.access import gate
from fullfolj.access.gate import Viewer
from fullfolj.ladder import actions as ladder
from fullfolj.ladder.models import LadderStep
from fullfolj.ladder.tests.conftest import make_step, set_days
from fullfolj.support import actions, queries
from fullfolj.support.models import Case, CaseEntry, Measure

TODAY = dt.date(2026, 3, 18)
FULL = 300


def _absent_every_day(pupil) -> None:
    days = [
        TODAY - dt.timedelta(days=n)
        for n in range(20)
        if (TODAY - dt.timedelta(days=n)).weekday() < 5
    ]
    set_days(pupil, [(day, FULL, FULL, 0) for day in days])


def test_a_ladder_step_for_the_student_health_team_opens_the_case(cast):
    LadderStep.objects.all().delete()
    make_step(
        1,
        {"kind": "consecutive_days", "threshold": 5},
        actor="student_health",
        name="Skyndsamt utreda frånvaron",
    )
    _absent_every_day(cast.pupil)
    ladder.evaluate_ladder(as_of=TODAY)
    case = Case.objects.get(pupil=cast.pupil)
    assert case.opened_from == Case.Source.LADDER and case.ladder_task is not None
    assert case.responsible == cast.mentor  # the pupil's mentor answers for it
    assert "Skyndsamt utreda frånvaron" in case.reason
    ladder.evaluate_ladder(as_of=TODAY)  # the same day again: nothing twice
    assert case.entries.filter(kind=CaseEntry.Kind.LADDER_STEP).count() == 1


def test_a_ladder_step_joins_the_case_already_open(cast, case):
    LadderStep.objects.all().delete()
    make_step(1, {"kind": "consecutive_days", "threshold": 5}, actor="student_health")
    _absent_every_day(cast.pupil)
    ladder.evaluate_ladder(as_of=TODAY)
    assert list(Case.objects.filter(pupil=cast.pupil)) == [case]
    joined = case.entries.get(kind=CaseEntry.Kind.LADDER_STEP)
    assert joined.ladder_task is not None and "Steg 1" in joined.text


def test_a_mentors_step_opens_no_case(cast):
    LadderStep.objects.all().delete()
    make_step(1, {"kind": "consecutive_days", "threshold": 5}, actor="mentor")
    _absent_every_day(cast.pupil)
    assert ladder.evaluate_ladder(as_of=TODAY)
    assert not Case.objects.exists()


def test_the_timeline_shows_this_and_last_school_year_and_the_rest_on_request(cast, case):
    for day in (dt.date(2023, 10, 2), dt.date(2024, 9, 2), dt.date(2026, 3, 2)):
        CaseEntry.objects.create(case=case, kind="note", occurred_on=day, text=f"Anteckning {day}")
    viewer = Viewer(cast.mentor)
    default = queries.timeline(case, viewer)
    texts = [item.text for item in default.items]
    assert "Anteckning 2026-03-02" in texts and "Anteckning 2024-09-02" in texts
    assert "Anteckning 2023-10-02" not in texts
    assert (default.since, default.older) == (dt.date(2024, 8, 18), 1)
    everything = queries.timeline(case, viewer, everything=True)
    assert everything.since is None and len(everything.items) == len(default.items) + 1


def test_the_evaluation_figures_compare_the_weeks_before_and_after_the_start(cast, measure):
    start = measure.start  # 2026-02-16
    before = [
        start - dt.timedelta(days=n)
        for n in range(1, 28)
        if (start - dt.timedelta(days=n)).weekday() < 5
    ]
    after = [
        start + dt.timedelta(days=n)
        for n in range(0, 28)
        if (start + dt.timedelta(days=n)).weekday() < 5
    ]
    set_days(
        cast.pupil,
        [(day, FULL, FULL // 5, FULL // 5) for day in before]
        + [(day, FULL, 0, 0) for day in after],
    )
    figures = queries.figures_around(measure)
    assert figures["before"]["total"] == 20.0 and figures["before"]["invalid"] == 20.0
    assert figures["after"]["total"] == 0.0
    assert figures["after"]["to"] == "2026-03-15"


def test_an_evaluation_that_carries_on_moves_the_follow_up(cast, measure):
    actions.evaluate(
        measure,
        judgement="unchanged",
        text="Ingen skillnad ännu.",
        evaluated_on=TODAY,
        figures={},
        by=cast.mentor,
        close=False,
        next_follow_up=dt.date(2026, 4, 15),
    )
    measure.refresh_from_db()
    assert measure.is_active and measure.follow_up_on == dt.date(2026, 4, 15)
    assert not Measure.objects.overdue(TODAY).exists()


def test_an_evaluation_in_the_future_is_refused(cast, measure):
    with pytest.raises(ValidationError) as caught:
        actions.evaluate(
            measure,
            judgement="better",
            text="Bättre.",
            evaluated_on=TODAY + dt.timedelta(days=1),
            figures={},
            by=cast.mentor,
            close=True,
        )
    assert "evaluated_on" in caught.value.message_dict


def test_the_register_sees_active_extra_adaptations_only(cast, measure, programme):
    assert queries.active_adaptations([cast.pupil.pk], TODAY) == {cast.pupil.pk: [measure.title]}
    assert queries.active_adaptations([cast.pupil.pk], dt.date(2026, 2, 1)) == {}


def test_a_second_case_edit_on_an_old_version_is_refused_with_the_change(cast, case):
    seen = actions.shown(case, actions.CASE_FIELDS)
    actions.update_case(
        case,
        version=case.version,
        seen=seen,
        status="paused",
        responsible=cast.mentor,
        participants=[],
        closed_reason="",
        by=cast.mentor,
    )
    with pytest.raises(actions.EditConflict) as caught:
        actions.update_case(
            case,
            version=case.version,
            seen=seen,
            status="active",
            responsible=cast.nurse,
            participants=[],
            closed_reason="",
            by=cast.nurse,
        )
    assert [(c.label, c.was, c.now) for c in caught.value.changes] == [("status", "ny", "vilande")]
    case.refresh_from_db()
    assert case.status == "paused" and case.responsible == cast.mentor


def test_an_adaptation_whose_period_has_ended_is_not_shown(cast, measure):
    Measure.objects.filter(pk=measure.pk).update(period_end=dt.date(2026, 3, 17))
    assert queries.active_adaptations([cast.pupil.pk], TODAY) == {}


def test_the_person_responsible_for_a_measure_joins_the_case_and_reads_it(cast, case):
    # The teacher teaches the pupil but is not on the case: teaching alone shows no case.
    assert not gate_cases(cast.teacher, case)
    actions.add_measure(
        case,
        fields={
            "kind": Measure.Kind.EXTRA_ADAPTATION,
            "title": "Förkortade uppgifter i matematik",
            "start": TODAY,
            "follow_up_on": TODAY + dt.timedelta(days=28),
            "responsible": cast.teacher,
        },
        by=cast.mentor,
    )
    assert cast.teacher in case.participants.all()
    assert gate_cases(cast.teacher, case)


def gate_cases(staff, case) -> bool:
    return gate.cases_visible_to(Viewer(staff), Case.objects.filter(pk=case.pk)).exists()
