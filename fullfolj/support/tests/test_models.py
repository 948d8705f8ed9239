"""The rows hold their invariants: bad dates and missing fields are refused naming the field."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fullfolj.support.models import Case, Evaluation, Measure

START = dt.date(2026, 3, 2)


@pytest.fixture
def case(cast: SimpleNamespace) -> Case:
    return Case.objects.create(pupil=cast.pupil, school=cast.north, responsible=cast.mentor)


def measure(case: Case, **fields: object) -> Measure:
    values: dict[str, object] = {
        "case": case,
        "kind": Measure.Kind.EXTRA_ADAPTATION,
        "title": "Lugn plats vid prov",
        "start": START,
        "responsible": case.responsible,
        "follow_up_on": START + dt.timedelta(weeks=4),
    }
    values.update(fields)
    return Measure(**values)


def errors_of(row: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        row.save()  # type: ignore[attr-defined]
    return caught.value.message_dict


def test_one_open_case_per_pupil(case: Case, cast: SimpleNamespace) -> None:
    with pytest.raises(ValidationError):
        Case.objects.create(pupil=cast.pupil, school=cast.north, responsible=cast.nurse)
    with pytest.raises(IntegrityError), transaction.atomic():  # and the table holds it too
        Case.objects.bulk_create(
            [Case(pupil=cast.pupil, school=cast.north, responsible=cast.nurse)]
        )


def test_a_closed_case_leaves_room_for_a_new_one_and_says_why(
    case: Case, cast: SimpleNamespace
) -> None:
    case.status = Case.Status.CLOSED
    assert "closed_reason" in errors_of(case)
    case.closed_reason = "Närvaron är tillbaka."
    case.closed_at = case.opened_at
    case.save()
    again = Case.objects.create(pupil=cast.pupil, school=cast.north, responsible=cast.nurse)
    assert list(Case.objects.open()) == [again]


def test_follow_up_before_start_is_refused_on_its_field(case: Case) -> None:
    row = measure(case, follow_up_on=START - dt.timedelta(days=1))
    assert list(errors_of(row)) == ["follow_up_on"]


def test_an_action_programme_names_who_is_responsible(case: Case) -> None:
    row = measure(case, kind=Measure.Kind.ACTION_PROGRAMME, responsible=None)
    assert list(errors_of(row)) == ["responsible"]


def test_a_decision_needs_its_date(case: Case) -> None:
    row = measure(case, kind=Measure.Kind.ACTION_PROGRAMME, decision=Measure.Decision.DECIDED)
    assert list(errors_of(row)) == ["decided_on"]


def test_only_an_action_programme_can_be_not_drawn_up(case: Case) -> None:
    row = measure(
        case,
        kind=Measure.Kind.ADAPTED_STUDY_PATH,
        decision=Measure.Decision.NOT_DRAWN_UP,
        decided_on=START,
    )
    assert list(errors_of(row)) == ["decision"]


def test_an_extra_adaptation_has_no_principal_decision(case: Case) -> None:
    row = measure(case, decision=Measure.Decision.DECIDED, decided_on=START)
    assert list(errors_of(row)) == ["decision"]


def test_overdue_measures_are_active_ones_past_their_follow_up(case: Case) -> None:
    due = measure(case, follow_up_on=dt.date(2026, 3, 17))
    due.save()
    later = measure(case, follow_up_on=dt.date(2026, 3, 18))
    later.save()
    assert list(Measure.objects.overdue(dt.date(2026, 3, 18))) == [due]
    assert due.is_overdue_on(dt.date(2026, 3, 18))
    assert not later.is_overdue_on(dt.date(2026, 3, 18))


def test_an_evaluation_needs_a_judgement_and_not_before_the_start(case: Case) -> None:
    row = measure(case)
    row.save()
    evaluation = Evaluation(measure=row, text="Bättre", evaluated_on=START - dt.timedelta(days=1))
    assert set(errors_of(evaluation)) == {"judgement", "evaluated_on"}
