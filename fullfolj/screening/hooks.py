"""Who else counts as acting on a flagged pupil.

The riskzon lists and the home card count a flagged pupil as acted on when someone acts: an
open absence-ladder task, and whatever the apps above screening provide (support: an open case
or a measure still running). A provider, registered from its app's AppConfig.ready(), turns
pupil ids into a query of single pupil ids, which screening unites with its own into one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl
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


# Organiser id and the last day -> the pupils' dialogue answers up to that day, one row per
# answer and dimension: pupil_id, date, dimension, mean_x100 (the mean on the scale, in
# hundredths). The KASAM app provides it; without a provider the indicator has no value.
DialogueProvider = Callable[[int, dt.date | None], pl.DataFrame]
_dialogue: list[DialogueProvider] = []


def provide_dialogue(provider: DialogueProvider) -> None:
    """Let the screening read the KASAM answers (`kasam_fall`) from now on (once)."""
    if provider not in _dialogue:
        _dialogue.append(provider)


def dialogue(organiser_id: int, end: dt.date | None) -> pl.DataFrame | None:
    """The dialogue answers of the registered provider, or None without one."""
    return _dialogue[0](organiser_id, end) if _dialogue else None
