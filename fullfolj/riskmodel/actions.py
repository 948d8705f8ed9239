"""Writes for the risk model: train, evaluate, show the evaluation, switch on and off, score.

Issue 6: a municipality switches the model on only after an evaluation on held-out history has
been run (`fullfolj model evaluate`) and shown in the admin; anything else is refused with a
message saying what to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from fullfolj.lib import clock
from fullfolj.schools.models import Organiser
from fullfolj.screening.evaluation import History

from . import dataset, queries, reasons
from .models import RiskEstimate, RiskModel

if TYPE_CHECKING:  # engine and holdout pull in scikit-learn: imported where they are used
    from . import engine, holdout


class RiskModelRefused(Exception):
    """The action is not allowed now; the message says why and what to do (Swedish)."""


def train_model(
    organiser: Organiser,
    *,
    seed: int = 0,
    learners: Sequence[str] | None = None,
    horizon_weeks: int = dataset.HORIZON_WEEKS,
    history: History | None = None,
) -> RiskModel:
    """Fit on all of the organiser's history with a known outcome; store it switched off.

    The new model also scores every pupil at the latest day with attendance, so its estimates
    are ready when the administration switches it on. `learners`: default every candidate.
    """
    from . import engine

    history = history or queries.history_for(organiser)
    rows = queries.organiser_dataset(organiser, horizon_weeks=horizon_weeks, history=history)
    if len(set(rows.y)) < 2:
        raise RiskModelRefused(
            "Historiken har bara ett utfall (" + rows.outcome + "): en modell kan inte tränas."
        )
    fitted = engine.fit_model(
        rows.X, rows.y, seed=seed, learners=learners or tuple(engine.LEARNERS), groups=rows.pupil_id
    )
    with transaction.atomic():
        model = RiskModel.objects.create(
            organiser=organiser,
            trained_at=timezone.now(),
            data_start=min(rows.date),
            data_end=max(rows.date),
            outcome=rows.outcome,
            horizon_weeks=horizon_weeks,
            learner=fitted.learner,
            rows=len(rows),
            pupils=len(set(rows.pupil_id)),
            positives=int(rows.y.sum()),
            features=list(rows.X.columns),
            training_metrics={
                "inner_cv_accuracy": fitted.candidate_accuracy,
                "inner_cv_brier": fitted.candidate_brier,
                "members": fitted.members,
                "seed": seed,
            },
            fitted=RiskModel.dump(fitted),
        )
        score_pupils(model, history=history, fitted=fitted)
    return model


@transaction.atomic
def record_evaluation(model: RiskModel, result: holdout.HoldoutResult) -> RiskModel:
    """Store a held-out evaluation on the model; it has to be shown again before switching on."""
    model.evaluation = result.as_dict()
    model.evaluated_at = timezone.now()
    model.evaluation_shown_at = None
    model.evaluation_shown_to = None
    model.save(
        update_fields=["evaluation", "evaluated_at", "evaluation_shown_at", "evaluation_shown_to"]
    )
    return model


def evaluate_organiser(
    organiser: Organiser,
    *,
    seed: int = 0,
    learners: Sequence[str] | None = None,
    horizon_weeks: int = dataset.HORIZON_WEEKS,
) -> tuple[holdout.HoldoutResult, RiskModel | None]:
    """The held-out comparison with the rule screen, stored on the organiser's newest model."""
    from . import engine, holdout

    rows = queries.organiser_dataset(organiser, horizon_weeks=horizon_weeks)
    try:
        result = holdout.evaluate(rows, seed=seed, learners=learners or tuple(engine.LEARNERS))
    except ValueError as error:
        raise RiskModelRefused(str(error)) from None
    model = RiskModel.objects.filter(organiser=organiser, horizon_weeks=horizon_weeks).first()
    if model is not None:
        record_evaluation(model, result)
    return result, model


@transaction.atomic
def show_evaluation(model: RiskModel, *, by: Any) -> None:
    """Note that `by` has had the evaluation in front of them (the admin's model page)."""
    if model.evaluated_at is None:
        return
    model.evaluation_shown_at = timezone.now()
    model.evaluation_shown_to = by
    model.save(update_fields=["evaluation_shown_at", "evaluation_shown_to"])


@transaction.atomic
def switch_on(model: RiskModel, *, by: Any) -> RiskModel:
    """Switch the model on for its organiser (and off any other); refused without evaluation."""
    model.refresh_from_db()
    if model.evaluated_at is None:
        raise RiskModelRefused(
            f"Modellen {model} kan inte slås på: ingen utvärdering har körts. Kör "
            "”fullfolj model evaluate” och läs utvärderingen på modellens sida först."
        )
    if model.evaluation_shown_at is None:
        raise RiskModelRefused(
            f"Modellen {model} kan inte slås på: utvärderingen har inte visats. Öppna modellens "
            "sida och läs utvärderingen först."
        )
    RiskModel.objects.filter(organiser_id=model.organiser_id, is_active=True).exclude(
        pk=model.pk
    ).update(is_active=False)
    model.is_active = True
    model.activated_at = timezone.now()
    model.activated_by = by
    model.save(update_fields=["is_active", "activated_at", "activated_by"])
    return model


@transaction.atomic
def switch_off(model: RiskModel, *, by: Any) -> RiskModel:
    model.is_active = False
    model.save(update_fields=["is_active"])
    return model


@transaction.atomic
def score_pupils(
    model: RiskModel,
    *,
    as_of: dt.date | None = None,
    history: History | None = None,
    fitted: engine.FittedModel | None = None,
) -> int:
    """Replace the model's estimates with ones at `as_of` (default: the latest school day)."""
    from . import engine

    history = history or queries.history_for(model.organiser_id)
    fitted = fitted or model.load()
    day = as_of or _latest_school_day(history)
    indicators = dataset.indicators_at(history, day) if day is not None else None
    model.estimates.all().delete()
    if day is None or indicators is None or not indicators.height:
        return 0
    rows = dataset.features(indicators)
    X = rows[model.features]
    probability = fitted.predict_proba(X)
    rises = engine.explain_many(fitted, X, top=3)
    RiskEstimate.objects.bulk_create(
        RiskEstimate(
            model=model,
            pupil_id=int(pupil_id),
            as_of=day,
            probability=float(np.clip(p, 0, 1)),
            reasons=reasons.reasons(rise, X.iloc[i].to_dict(), fitted.reference),
        )
        for i, (pupil_id, p, rise) in enumerate(
            zip(rows["pupil_id"], probability, rises, strict=True)
        )
    )
    return len(rows)


def _latest_school_day(history: History) -> dt.date | None:
    """The latest day with attendance up to today."""
    today = clock.today()
    days = history.days.filter(history.days["date"] <= today)["date"]
    return days.max() if len(days) else None  # type: ignore[return-value]
