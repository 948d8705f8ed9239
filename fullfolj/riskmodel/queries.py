"""Reads for the risk model: the organiser's history as model rows, and estimates for pages."""

from __future__ import annotations

from fullfolj.access.gate import Viewer, pupils_visible_to
from fullfolj.schools.models import STUDENT_HEALTH_ROLES, Organiser, Pupil, Role, School
from fullfolj.screening import engine as screening
from fullfolj.screening.evaluation import History
from fullfolj.screening.models import ScreeningRule
from fullfolj.screening.queries import organiser_history

from . import dataset
from .models import RiskEstimate, RiskModel

GENDER_WORDS = {"F": "flickor", "M": "pojkar"}

# Who sees an estimate: the pupil's mentor and the school's principal and student-health team.
# Not teachers by teaching alone, not the administration (no names), not the compulsory-school
# officer; never guardians or pupils (they have no staff login).
ESTIMATE_ROLES = frozenset({Role.MENTOR, Role.PRINCIPAL, *STUDENT_HEALTH_ROLES})


def rules_for(organiser: Organiser | int) -> list[screening.Rule]:
    """The organiser's active screening rules as the engine takes them."""
    rows = ScreeningRule.objects.for_organiser(organiser).active()
    rules = [row.to_engine() for row in rows]
    return rules or list(screening.default_rules())


def history_for(organiser: Organiser | int) -> History:
    return organiser_history(organiser)


def organiser_dataset(
    organiser: Organiser | int,
    *,
    horizon_weeks: int = dataset.HORIZON_WEEKS,
    every_weeks: int = dataset.EVERY_WEEKS,
    history: History | None = None,
) -> dataset.Dataset:
    """Model rows for the organiser's whole history (dates whose outcome is known)."""
    history = history or history_for(organiser)
    rows = dataset.build(
        history,
        dataset.model_dates(history, every_weeks=every_weeks),
        rules=rules_for(organiser),
        horizon_weeks=horizon_weeks,
    )
    # Audit groups in words for the report; still never inputs.
    names = {str(pk): name for pk, name in School.objects.values_list("pk", "name")}
    rows.audit["school"] = rows.audit["school"].map(lambda pk: names.get(pk, pk))
    rows.audit["gender"] = rows.audit["gender"].map(lambda g: GENDER_WORDS.get(g, g))
    return rows


def active_model(organiser_id: int) -> RiskModel | None:
    return RiskModel.objects.active().filter(organiser_id=organiser_id).first()


def visible_estimates(viewer: Viewer) -> dict[int, RiskEstimate]:
    """Every active-model estimate this viewer may see, by pupil id (one query)."""
    if not viewer.has(*ESTIMATE_ROLES):
        return {}
    visible = pupils_visible_to(viewer, roles=set(ESTIMATE_ROLES)).values("pk")
    estimates = RiskEstimate.objects.filter(model__is_active=True, pupil_id__in=visible)
    return {estimate.pupil_id: estimate for estimate in estimates.select_related("model")}


def for_pupil(pupil: Pupil, viewer: Viewer) -> RiskEstimate | None:
    """The pupil record's estimate section: the active model's estimate, for ESTIMATE_ROLES."""
    if not viewer.has(*ESTIMATE_ROLES):
        return None
    visible = pupils_visible_to(viewer, roles=set(ESTIMATE_ROLES)).filter(pk=pupil.pk)
    return (
        RiskEstimate.objects.filter(model__is_active=True, pupil_id__in=visible.values("pk"))
        .select_related("model")
        .first()
    )
