"""The stored model: training, the refusals before switching on, the admin, and the command."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from fullfolj.riskmodel import actions, dataset, engine, holdout
from fullfolj.riskmodel.models import RiskEstimate, RiskModel
from fullfolj.riskmodel.tests.synthetic import history
from fullfolj.screening.engine import default_rules
from tests import factories as f

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 18)


@pytest.fixture(scope="module")
def fitted() -> tuple[engine.FittedModel, holdout.HoldoutResult]:
    """One small fit and one held-out evaluation, shared (pure: no database)."""
    h = history(list(range(1, 61)), seed=4, until=TODAY)
    rows = dataset.build(h, dataset.model_dates(h, every_weeks=2), rules=default_rules())
    model = engine.fit_model(
        rows.X, rows.y, seed=0, learners=["logistic_regression"], groups=rows.pupil_id
    )
    return model, holdout.evaluate(rows, seed=0, learners=["logistic_regression"])


def cast_history(cast, extra: int = 0):
    pupils = [cast.pupil, cast.other_pupil, cast.protected]
    pupils += [f.pupil(cast.org, "Extra", f"Elev{i}") for i in range(extra)]
    return history([p.pk for p in pupils], seed=5, school_ids=[cast.north.pk], until=TODAY)


def stored_model(cast, fitted_model: engine.FittedModel, **fields) -> RiskModel:
    return RiskModel.objects.create(
        organiser=cast.org,
        trained_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        data_start=dt.date(2025, 9, 15),
        data_end=dt.date(2026, 1, 12),
        outcome="frånvaro över 20 %",
        horizon_weeks=8,
        learner=fitted_model.learner,
        rows=100,
        pupils=60,
        positives=20,
        features=list(dataset.FEATURES),
        fitted=RiskModel.dump(fitted_model),
        **fields,
    )


@pytest.fixture
def switched_on(cast, fitted):
    """An evaluated, shown and switched-on model with estimates for the cast's pupils."""
    model = stored_model(cast, fitted[0])
    actions.record_evaluation(model, fitted[1])
    actions.show_evaluation(model, by=cast.admin.user)
    actions.switch_on(model, by=cast.admin.user)
    assert actions.score_pupils(model, history=cast_history(cast)) == 3
    return model


def test_training_stores_a_switched_off_model_with_estimates(cast):
    model = actions.train_model(
        cast.org, history=cast_history(cast, extra=37), learners=["logistic_regression"]
    )
    assert not model.is_active
    assert model.rows > 100 and model.pupils == 40
    assert model.data_start < model.data_end <= TODAY
    assert "gender" not in model.features and "school_id" not in model.features
    assert model.load().learner == "logistic_regression"
    assert model.training_metrics["members"] == ["logistic_regression"]
    estimate = RiskEstimate.objects.get(model=model, pupil=cast.pupil)
    assert 0 <= estimate.probability <= 1
    assert estimate.as_of <= TODAY
    assert all(reason["text"] and reason["rise"] >= 0 for reason in estimate.reasons)


def test_switching_on_without_an_evaluation_is_refused(cast, fitted):
    model = stored_model(cast, fitted[0])
    with pytest.raises(actions.RiskModelRefused, match="ingen utvärdering har körts"):
        actions.switch_on(model, by=cast.admin.user)
    model.refresh_from_db()
    assert not model.is_active


def test_switching_on_before_the_evaluation_was_shown_is_refused(cast, fitted):
    model = actions.record_evaluation(stored_model(cast, fitted[0]), fitted[1])
    with pytest.raises(actions.RiskModelRefused, match="utvärderingen har inte visats"):
        actions.switch_on(model, by=cast.admin.user)
    actions.show_evaluation(model, by=cast.admin.user)
    actions.switch_on(model, by=cast.admin.user)
    model.refresh_from_db()
    assert model.is_active and model.activated_by == cast.admin.user


def test_a_new_evaluation_must_be_shown_again(cast, switched_on, fitted):
    other = actions.record_evaluation(stored_model(cast, fitted[0]), fitted[1])
    actions.show_evaluation(other, by=cast.admin.user)
    actions.record_evaluation(other, fitted[1])
    with pytest.raises(actions.RiskModelRefused, match="inte visats"):
        actions.switch_on(other, by=cast.admin.user)
    actions.show_evaluation(other, by=cast.admin.user)
    actions.switch_on(other, by=cast.admin.user)
    switched_on.refresh_from_db()
    assert not switched_on.is_active  # one active model per organiser


def test_the_database_refuses_an_active_model_without_a_shown_evaluation(cast, fitted):
    with pytest.raises(IntegrityError), transaction.atomic():
        stored_model(cast, fitted[0], is_active=True)


def test_the_stored_evaluation_holds_fairness_figures(cast, switched_on):
    switched_on.refresh_from_db()
    assert set(switched_on.fairness) == {"gender", "school"}
    for who in ("model", "rules"):
        groups = switched_on.fairness["gender"][who]
        assert {row["group"] for row in groups} == {"F", "M"}
        assert {"flag_rate", "recall", "precision", "n"} <= set(groups[0])
    assert 0 <= switched_on.evaluation["model"]["roc_auc"] <= 1


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.se", "pw")


def test_admin_refuses_switching_on_until_the_evaluation_page_was_opened(
    client, cast, fitted, superuser
):
    model = actions.record_evaluation(stored_model(cast, fitted[0]), fitted[1])
    client.force_login(superuser)
    changelist = reverse("admin:riskmodel_riskmodel_changelist")
    post = {"action": "switch_on", "_selected_action": [model.pk]}
    response = client.post(changelist, post, follow=True)
    assert "utvärderingen har inte visats" in response.content.decode()
    model.refresh_from_db()
    assert not model.is_active

    page = client.get(reverse("admin:riskmodel_riskmodel_change", args=[model.pk]))
    body = page.content.decode()
    assert "Modellen bredvid regelscreeningen" in body  # Swedish, from our catalogue
    assert "Per kön" in body and "Regelscreening, största skillnad" in body
    response = client.post(changelist, post, follow=True)
    assert "är påslagen" in response.content.decode()
    model.refresh_from_db()
    assert model.is_active and model.evaluation_shown_to == superuser


def test_admin_page_of_an_unevaluated_model_says_what_to_run(client, cast, fitted, superuser):
    model = stored_model(cast, fitted[0])
    client.force_login(superuser)
    body = client.get(reverse("admin:riskmodel_riskmodel_change", args=[model.pk])).content
    assert "Kör ”fullfolj model evaluate” först" in body.decode()
    model.refresh_from_db()
    assert model.evaluation_shown_at is None


# --- The command ----------------------------------------------------------------------------


def test_model_evaluate_csv_prints_metrics_last(tmp_path):
    rng = np.random.default_rng(0)
    absence = rng.normal(0, 1, 120)
    frame = pd.DataFrame(
        {
            "absence": absence.round(2),
            "club": rng.choice(["chess", "choir"], 120),
            "sex": rng.choice(["F", "M"], 120),
            "G3": np.where(rng.random(120) < 1 / (1 + np.exp(-2 * absence)), 5, 15),
        }
    )
    path = tmp_path / "history.csv"
    frame.to_csv(path, sep=";", index=False)
    out = io.StringIO()
    call_command(
        "model",
        "evaluate",
        "--csv",
        str(path),
        "--target",
        "G3",
        "--positive",
        "<10",
        "--audit",
        "sex",
        "--folds",
        "3",
        "--repeats",
        "2",
        "--learner",
        "logistic_regression",
        "--learner",
        "sparse_logistic_regression",
        stdout=out,
    )
    tail = out.getvalue().rstrip().split("\n\n")[-1].splitlines()
    metrics = dict(line.split(": ", 1) for line in tail)
    for name in ("roc_auc", "accuracy", "precision_at_k", "recall_at_k", "brier"):
        assert 0 <= float(metrics[name]) <= 1
    assert metrics["repeats"] == "2" and metrics["inputs"] == "2"
    assert set(metrics["learner_folds"].replace("=", ",").split(",")[::2]) <= {
        "logistic_regression",
        "sparse_logistic_regression",
        "average",
    }
    assert metrics["member_folds"]


@pytest.mark.parametrize(
    ("text", "target", "positive", "message"),
    [
        ("absence;G3\n1;12\n2;4\n", "G4", "<10", "target column 'G4' not found"),
        ("absence;G3\n1;12\nmany;4\n3;8\n", "G3", "<10", "column 'absence', line 3"),
        ("absence;G3\n1;12\n2;12\n", "G3", "<10", "single outcome"),
        ("absence;R\n1;Graduate\n2;Enrolled\n", "R", "Dropout", "'Dropout' never occurs"),
    ],
)
def test_model_evaluate_csv_refuses_bad_files_by_name(tmp_path, text, target, positive, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CommandError, match=message) as refusal:
        call_command(
            "model",
            "evaluate",
            "--csv",
            str(path),
            "--target",
            target,
            "--positive",
            positive,
            stdout=io.StringIO(),
        )
    assert refusal.value.returncode == 2


@pytest.mark.parametrize("action", ["evaluate", "train"])
def test_model_on_too_short_a_history_is_refused_clearly(cast, action):
    with pytest.raises(CommandError, match="Historiken räcker inte"):
        call_command("model", action, "--organiser", str(cast.org.pk), stdout=io.StringIO())
    assert not RiskModel.objects.exists()
