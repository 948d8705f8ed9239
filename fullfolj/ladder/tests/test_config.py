"""The municipality's ladder: the shipped default, and bad configuration refused at save."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from fullfolj.ladder import defaults
from fullfolj.ladder.models import Actor, LadderStep, LadderTrigger
from fullfolj.ladder.tests.conftest import make_step

RATE = {"kind": "rate", "window_days": 28, "threshold": 5}


@pytest.fixture(autouse=True)
def _english():
    """The messages are asserted in English here; test_translations checks the Swedish."""
    with translation.override("en"):
        yield


def test_the_typical_ladder_of_domain_md_ships_by_default(db):
    steps = list(LadderStep.objects.filter(organiser=None).order_by("order"))
    assert [s.order for s in steps] == [1, 2, 3, 4, 5]
    assert [s.actor for s in steps] == [
        Actor.MENTOR,
        Actor.MENTOR,
        Actor.STUDENT_HEALTH,
        Actor.PRINCIPAL,
        Actor.PRINCIPAL,
    ]
    investigate = steps[2]
    assert "Skyndsamt utreda" in investigate.name
    kinds = set(investigate.triggers.values_list("kind", flat=True))
    assert kinds == {"no_improvement", "consecutive_days"}  # after the meeting, or long absence
    assert all(s.triggers.exists() and s.deadline_days > 0 for s in steps)
    for step in steps:  # the shipped ladder passes its own validation
        step.full_clean()
        for trigger in step.triggers.all():
            trigger.full_clean()
    assert defaults.install() == 0  # not twice


def test_install_makes_the_default_ladder_when_there_is_none(db):
    LadderStep.objects.all().delete()
    assert defaults.install() == len(defaults.DEFAULT_LADDER)
    assert LadderStep.objects.count() == 5


def test_the_shipped_ladder_leaves_a_day_ill_alone_and_investigates_long_absence(cast):
    """Calibration: one day ill in eight weeks opens nothing; a week in bed is the mentor's
    call, not a meeting or an investigation; two school weeks absent in a row are investigated.
    """
    from fullfolj.ladder import actions
    from fullfolj.ladder.tests.conftest import TODAY, school_days, set_days

    weeks = school_days(TODAY, 40)  # eight weeks up to today
    ill = {weeks[20]}
    bed = set(weeks[20:25])
    away = set(weeks[30:])

    def rows(absent: set) -> list[tuple]:
        return [(day, 300, 300 if day in absent else 0, 0) for day in weeks]

    set_days(cast.pupil, rows(ill))
    set_days(cast.other_pupil, rows(bed))
    set_days(cast.protected, rows(away))
    opened = {
        t.pupil_id: LadderStep.objects.get(pk=t.step_id).order
        for t in actions.evaluate_ladder(as_of=TODAY)
    }
    assert cast.pupil.pk not in opened
    assert opened[cast.other_pupil.pk] == 1
    assert opened[cast.protected.pk] == 3


def test_the_first_shipped_triggers_are_recalibrated_unless_edited(db):
    from django.apps import apps

    LadderStep.objects.all().delete()
    for order, triggers in defaults.FIRST_TRIGGERS.items():
        step = LadderStep.objects.create(order=order, name=f"Steg {order}", actor=Actor.MENTOR)
        for kind, window, threshold, invalid_only, weeks in triggers:
            LadderTrigger.objects.create(
                step=step,
                kind=kind,
                window_days=window,
                threshold=threshold,
                invalid_only=invalid_only,
                weeks_after_previous=weeks or 3,
            )
    edited = LadderStep.objects.get(order=2).triggers.get(kind="rate")
    edited.threshold = 12
    edited.save()
    assert defaults.recalibrate(apps) == 2
    first = LadderStep.objects.get(order=1).triggers.get(kind="rate")
    assert (first.window_days, float(first.threshold)) == (56, 10.0)
    assert float(LadderStep.objects.get(order=2).triggers.get(kind="rate").threshold) == 12.0
    assert not LadderStep.objects.get(order=3).triggers.filter(kind="rate").exists()


@pytest.mark.usefixtures("empty_ladder")
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"threshold": 0}, "threshold", "above zero"),
        ({"threshold": 120}, "threshold", "at most 100"),
        ({"kind": "invalid_days", "threshold": 2.5}, "threshold", "whole number"),
        ({"kind": "invalid_days", "threshold": 20, "window_days": 14}, "threshold", "(14)"),
        ({"kind": "consecutive_days", "threshold": 80}, "threshold", "60"),
        ({"window_days": 0}, "window_days", "1–366"),
        ({"window_days": 400}, "window_days", "1–366"),
    ],
)
def test_bad_triggers_are_refused_with_the_reason(fields, field, message):
    step = make_step(1)
    with pytest.raises(ValidationError) as refused:
        LadderTrigger.objects.create(step=step, **(RATE | fields))
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])
    assert not LadderTrigger.objects.exists()


@pytest.mark.usefixtures("empty_ladder")
def test_no_improvement_on_the_first_step_is_refused():
    step = make_step(1)
    with pytest.raises(ValidationError) as refused:
        LadderTrigger.objects.create(
            step=step, kind="no_improvement", window_days=28, threshold=10, weeks_after_previous=3
        )
    assert "step 1 is the first" in refused.value.message_dict["kind"][0]


@pytest.mark.usefixtures("empty_ladder")
def test_no_improvement_cannot_wait_longer_than_the_previous_step_lasts():
    make_step(1, RATE, repeat=20)
    second = make_step(2)
    with pytest.raises(ValidationError) as refused:
        LadderTrigger.objects.create(
            step=second, kind="no_improvement", window_days=28, threshold=10, weeks_after_previous=3
        )
    assert "stays current 20 days" in refused.value.message_dict["weeks_after_previous"][0]


@pytest.mark.usefixtures("empty_ladder")
def test_shortening_a_step_below_the_next_steps_wait_is_refused():
    first = make_step(1, RATE, repeat=30)
    make_step(
        2, {"kind": "no_improvement", "window_days": 28, "threshold": 10, "weeks_after_previous": 4}
    )
    first.repeat_after_days = 21
    with pytest.raises(ValidationError) as refused:
        first.save()
    assert "at least 28 days" in refused.value.message_dict["repeat_after_days"][0]
    first.refresh_from_db()
    assert first.repeat_after_days == 30


@pytest.mark.usefixtures("empty_ladder")
def test_two_steps_with_the_same_number_are_refused(cast):
    make_step(1, RATE, name="Ring hem")
    with pytest.raises(ValidationError) as refused:
        make_step(1, RATE)
    assert "“Ring hem”" in refused.value.message_dict["order"][0]
    make_step(1, RATE, organiser=cast.org)  # another ladder may have its own step 1


@pytest.mark.usefixtures("empty_ladder")
@pytest.mark.parametrize("field", ["deadline_days", "repeat_after_days"])
def test_a_deadline_of_zero_days_is_refused(field):
    with pytest.raises(ValidationError) as refused:
        LadderStep.objects.create(order=1, name="Steg", actor="mentor", **{field: 0})
    assert field in refused.value.message_dict


def _admin_post(step: LadderStep | None, triggers: list[dict], **fields) -> dict:
    data = {
        "order": 1,
        "name": "Ring hem",
        "actor": "mentor",
        "deadline_days": 3,
        "repeat_after_days": 30,
        "is_active": "on",
        "description": "",
        "organiser": "",
        **fields,
    }
    prefix = "triggers"
    data |= {
        f"{prefix}-TOTAL_FORMS": len(triggers),
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 1,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, trigger in enumerate(triggers):
        full = {"window_days": 28, "weeks_after_previous": 3} | trigger
        data |= {f"{prefix}-{i}-{k}": v for k, v in full.items()}
    return data


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.se", "pw-root")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.usefixtures("empty_ladder")
def test_the_admin_saves_a_step_with_its_triggers(superuser_client):
    response = superuser_client.post(
        reverse("admin:ladder_ladderstep_add"),
        _admin_post(
            None, [{"kind": "rate", "threshold": "5"}, {"kind": "invalid_days", "threshold": "2"}]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    step = LadderStep.objects.get()
    assert sorted(step.triggers.values_list("kind", flat=True)) == ["invalid_days", "rate"]


@pytest.mark.usefixtures("empty_ladder")
@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        ([], "at least one trigger"),
        ([{"kind": "rate", "threshold": "150"}], "at most 100"),
        ([{"kind": "no_improvement", "threshold": "10"}], "is the first"),
    ],
)
def test_the_admin_refuses_bad_configuration_with_the_reason(superuser_client, triggers, message):
    response = superuser_client.post(
        reverse("admin:ladder_ladderstep_add"), _admin_post(None, triggers)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LadderStep.objects.exists()


def test_the_admin_shows_the_shipped_ladder_and_keeps_tasks_read_only(superuser_client, cast):
    step = LadderStep.objects.get(organiser=None, order=3)
    assert superuser_client.get(reverse("admin:ladder_ladderstep_changelist")).status_code == 200
    page = superuser_client.get(reverse("admin:ladder_ladderstep_change", args=[step.pk]))
    assert page.status_code == 200
    assert "Skyndsamt utreda" in page.content.decode()
    assert superuser_client.get(reverse("admin:ladder_laddertask_add")).status_code == 403
