"""Who else counts as acting on a flagged pupil.

The riskzon lists and the home card count a flagged pupil as acted on when someone acts: an
open absence-ladder task, and whatever the apps above screening provide (support: an open case
or a measure still running). A provider, registered from its app's AppConfig.ready(), turns
pupil ids into a query of single pupil ids, which screening unites with its own into one query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

# Pupil ids -> a query of the ids (one column) among them that someone acts on.
ActionProvider = Callable[[list[int]], QuerySet[Any]]
_providers: list[ActionProvider] = []


def provide_actions(provider: ActionProvider) -> None:
    """Count `provider`'s pupils as acted on from now on (once, however often called)."""
    if provider not in _providers:
        _providers.append(provider)


def withdraw_actions(provider: ActionProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def providers() -> tuple[ActionProvider, ...]:
    return tuple(_providers)
