"""A pupil with one row of every kind of data Fullfölj holds, each with a text to find."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from fullfolj.access.models import AccessLog
from fullfolj.compulsory.models import OversightCase, Step
from fullfolj.grades.models import Grade, GradeWarning
from fullfolj.handover.models import Handover, HandoverVersion
from fullfolj.kasam.models import Answer, PupilLogin, Questionnaire, Response
from fullfolj.ladder.models import LadderRecord, LadderStep, LadderTask
from fullfolj.notices.models import GuardianNotice
from fullfolj.records.models import Extract
from fullfolj.reports.models import Cohort
from fullfolj.riskmodel.models import RiskEstimate, RiskModel
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support.models import (
    AgreedAction,
    Case,
    CaseEntry,
    Evaluation,
    Mapping,
    Measure,
)

DAY = dt.date(2026, 3, 16)


def flag(cast: SimpleNamespace, pupil, as_of: dt.date, text: str) -> Flag:
    run = ScreeningRun.objects.create(organiser=cast.org, as_of=as_of, started_at=timezone.now())
    return Flag.objects.create(
        run=run,
        pupil=pupil,
        organiser=cast.org,
        school=cast.north,
        rule_code="invalid_4w",
        value=30,
        threshold=15,
        explanation=text,
    )


def held(cast: SimpleNamespace, pupil) -> SimpleNamespace:
    """One row of every kind for `pupil` (at Norrskolan), its texts named."""
    step = LadderStep.objects.filter(organiser=None).order_by("order").first()
    task = LadderTask.objects.create(
        pupil=pupil,
        step=step,
        school=cast.north,
        actor=step.actor,
        assignee=cast.mentor,
        opened_on=DAY,
        due=DAY + dt.timedelta(days=4),
        reason="Trappsteg-anledning",
    )
    LadderRecord.objects.create(
        task=task, kind="contact", date=DAY, text="Trappsteg-anteckning", by=cast.mentor
    )
    guardian = pupil.guardianships.first().guardian
    GuardianNotice.objects.create(
        pupil=pupil,
        guardian=guardian,
        date=DAY,
        channel="email",
        status="sent",
        send_after=timezone.now(),
        body="Meddelande-till-hemmet",
    )
    the_flag = flag(cast, pupil, DAY, "Flagga-förklaring")
    case = Case.objects.create(
        pupil=pupil, school=cast.north, responsible=cast.mentor, reason="Ärende-anledning"
    )
    CaseEntry.objects.create(
        case=case, kind="note", occurred_on=DAY, text="Elevhälsa-anteckning", health_restricted=True,
        written_by=cast.nurse,
    )  # fmt: skip
    minutes = CaseEntry.objects.create(
        case=case, kind="eht_minutes", occurred_on=DAY, text="EHT-protokoll", written_by=cast.nurse
    )
    AgreedAction.objects.create(entry=minutes, who=cast.mentor, what="Överenskommet-ring", due=DAY)
    Mapping.objects.create(case=case, teaching="Kartläggning-undervisning", written_by=cast.mentor)
    measure = Measure.objects.create(
        case=case,
        kind=Measure.Kind.ACTION_PROGRAMME,
        title="Åtgärdsprogram-titel",
        start=dt.date(2026, 3, 2),
        follow_up_on=dt.date(2026, 4, 13),
        responsible=cast.mentor,
    )
    Evaluation.objects.create(
        measure=measure, judgement="better", text="Utvärdering-text", evaluated_on=DAY
    )
    handover = Handover.objects.create(
        pupil=pupil,
        placement=pupil.placements.get(),
        sending_school=cast.north,
        receiving_school=cast.north,
    )
    HandoverVersion.objects.create(handover=handover, what_worked="Överlämning-fungerade")
    questionnaire = Questionnaire.objects.filter(stage="7-9").first()
    response = Response.objects.create(
        pupil=pupil, questionnaire=questionnaire, answered_on=DAY, setting="talk"
    )
    Answer.objects.create(response=response, question=questionnaire.questions.first(), value=4)
    oversight = OversightCase.objects.create(
        organiser=cast.org,
        kind="long_absence",
        personnummer=pupil.personnummer,
        pupil=pupil,
        opened_on=DAY,
        closing_note="Tillsyn-anteckning",
    )
    Step.objects.create(case=oversight, kind="guardians", due=DAY, note="Tillsyn-steg")
    Grade.objects.create(
        pupil=pupil, organiser=cast.org, subject=cast.maths, term=cast.autumn, school=cast.north,
        grade="E",
    )  # fmt: skip
    GradeWarning.objects.create(
        pupil=pupil, organiser=cast.org, subject=cast.maths, term=cast.spring, date=DAY
    )
    model = RiskModel.objects.create(
        organiser=cast.org, trained_at=timezone.now(), data_start=dt.date(2025, 9, 15),
        data_end=dt.date(2026, 1, 12), outcome="frånvaro", horizon_weeks=8,
        learner="logistic_regression", rows=100, pupils=60, positives=20, fitted=b"",
    )  # fmt: skip
    RiskEstimate.objects.create(
        model=model, pupil=pupil, as_of=DAY, probability=0.42, reasons=[{"text": "Risk-skäl"}]
    )
    cohort = Cohort.objects.create(name="Sparad-lista", organiser=cast.org, chosen_on=DAY)
    cohort.pupils.add(pupil)
    user = User.objects.create_user(username=f"elev-{pupil.pk}", password="x" * 16)
    PupilLogin.objects.create(user=user, pupil=pupil)
    Extract.objects.create(pupil=pupil, made_by=cast.principal, made_at=timezone.now(),
                           channel="page", file_format="pdf")  # fmt: skip
    AccessLog.objects.create(staff=cast.teacher, pupil=pupil, role="teacher", path="/elever/")
    return SimpleNamespace(case=case, flag=the_flag, task=task)


@pytest.fixture
def full(cast) -> SimpleNamespace:
    return held(cast, cast.pupil)
