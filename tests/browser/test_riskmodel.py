"""The risk model's estimate on the pupil page, in a real browser, with the axe check."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.lib import clock
from fullfolj.riskmodel import actions, engine
from fullfolj.riskmodel.models import RiskEstimate
from fullfolj.riskmodel.tests.test_engine import pupils
from fullfolj.riskmodel.tests.test_product import stored_model
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_mentor_sees_the_estimate_marked_as_an_estimate(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    cast = live_cast
    X, y, _ = pupils(120, seed=0)
    fitted = engine.fit_model(X, y, seed=0, learners=["logistic_regression"], inner_folds=3)
    model = stored_model(cast, fitted)
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
    login(page, live_server, "mentor", "pw-mentor")
    page.goto(live_server.url + reverse("elevakt:pupil", args=[cast.pupil.pk]))
    section = page.locator("section[aria-labelledby=risk-estimate-heading]")
    assert section.locator("h2").inner_text()
    assert "37" in section.locator("strong").inner_text()
    assert section.locator("li").count() == 1
    assert_accessible(page)
