"""Who sees the model's estimate: on the pupil page and beside the flags on the riskzon list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.tests.test_routes import PUPIL_PAGE, ROLES
from fullfolj.lib import clock
from fullfolj.riskmodel import actions, engine
from fullfolj.riskmodel.models import RiskEstimate
from fullfolj.riskmodel.tests.test_engine import pupils
from fullfolj.riskmodel.tests.test_product import stored_model
from fullfolj.screening.models import Flag, ScreeningRun

pytestmark = pytest.mark.django_db

# The pupil's mentor, the school's principal and student-health team; nobody else.
SEES_ESTIMATE = {"mentor", "principal", "nurse", "health_two", "doctor"}
SCHOOL_LIST = {"principal", "nurse", "health_two", "doctor"}
HEADING = "Riskmodellens uppskattning"


@pytest.fixture(scope="module")
def small_fit() -> engine.FittedModel:
    X, y, _ = pupils(120, seed=0)
    return engine.fit_model(X, y, seed=0, learners=["logistic_regression"], inner_folds=3)


@pytest.fixture
def estimated(cast, small_fit):
    """A switched-on model with a hand-made estimate for Alva."""
    model = stored_model(cast, small_fit)
    model.evaluation, model.evaluated_at = {"model": {}}, clock.now()
    model.save()
    actions.show_evaluation(model, by=cast.admin.user)
    actions.switch_on(model, by=cast.admin.user)
    RiskEstimate.objects.create(
        model=model,
        pupil=cast.pupil,
        as_of=clock.today(),
        probability=0.37,
        reasons=[
            {
                "feature": "invalid_4w",
                "rise": 0.2,
                "text": "Ogiltig frånvaro 100 % de senaste fyra veckorna (vanligt: 0 %)",
            }
        ],
    )
    return model


@pytest.mark.parametrize("who", ROLES)
def test_pupil_page_shows_the_estimate_to_mentor_principal_and_health_team(
    client, cast, estimated, who
):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk]))
    body = response.content.decode()
    if who in PUPIL_PAGE["pupil"]:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
        assert cast.pupil.last_name not in body
    shown = HEADING in body
    assert shown == (who in SEES_ESTIMATE)
    if shown:
        assert "Uppskattad risk 37 %" in body
        assert "uppskattning" in body.lower()
        assert "visas aldrig för vårdnadshavare eller elever" in body
        assert "Ogiltig frånvaro 100 % de senaste fyra veckorna" in body


def test_no_estimate_is_shown_once_the_model_is_switched_off(client, cast, estimated):
    actions.switch_off(estimated, by=cast.admin.user)
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    assert HEADING not in body


def test_the_estimate_of_another_pupil_is_not_shown(client, cast, estimated):
    client.force_login(cast.other_mentor.user)
    body = client.get(reverse("elevakt:pupil", args=[cast.other_pupil.pk])).content.decode()
    assert HEADING not in body  # Bilal has no estimate; Alva's must not appear on his page
    assert "37 %" not in body


FLAG_TEXT = "Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)"


def flag_alva(cast) -> None:
    """A finished screening run that flagged Alva (made by hand: the rules are not tested here)."""
    run = ScreeningRun.objects.create(
        organiser=cast.org,
        as_of=clock.today(),
        started_at=clock.now(),
        finished_at=clock.now(),
        pupils=3,
        flagged_pupils=1,
        flags=1,
    )
    Flag.objects.create(
        run=run,
        pupil=cast.pupil,
        organiser=cast.org,
        school=cast.north,
        rule_code="invalid_4w",
        value=100,
        threshold=15,
        explanation=FLAG_TEXT,
    )


@pytest.mark.parametrize("who", ROLES)
def test_riskzon_list_shows_the_estimate_beside_the_flags(client, cast, estimated, who):
    flag_alva(cast)
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("elevakt:school-riskzon", args=[cast.north.pk]))
    body = response.content.decode()
    if who in SCHOOL_LIST:
        assert response.status_code == 200
        assert FLAG_TEXT in body
        assert "riskmodellen: 37 %" in body
        assert "Uppskattning" in body
    else:
        assert response.status_code in (302, 404)
        assert "riskmodellen" not in body
        assert cast.pupil.last_name not in body


def test_riskzon_list_reads_the_estimates_in_one_query(
    client, cast, estimated, django_assert_max_num_queries
):
    flag_alva(cast)
    client.force_login(cast.principal.user)
    url = reverse("elevakt:school-riskzon", args=[cast.north.pk])
    client.get(url)
    with django_assert_max_num_queries(40):
        body = client.get(url).content.decode()
    assert "riskmodellen: 37 %" in body
