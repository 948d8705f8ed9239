"""The pupil record (elevakt) is composed of sections, one per app.

A section is a read function and a template. The function, in its app's `queries.py`, takes the
pupil (already through the gate and logged) and the viewer, and returns what its template shows,
or None where the viewer is not to see it. Adding a section is one function, one template and
one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fullfolj.access.gate import Viewer
from fullfolj.attendance import patterns as attendance
from fullfolj.kasam import queries as kasam
from fullfolj.ladder import queries as ladder
from fullfolj.notices import queries as notices
from fullfolj.riskmodel import queries as riskmodel
from fullfolj.schools.models import Pupil
from fullfolj.screening import queries as screening
from fullfolj.support import queries as support


@dataclass(frozen=True)
class Section:
    template: str
    read: Callable[[Pupil, Viewer], Any]
    place: str  # "summary": a card beside the pupil's details; "main": below the charts


SECTIONS = (
    Section("screening/_pupil_flags.html", screening.for_pupil, "summary"),
    Section("riskmodel/_pupil_estimate.html", riskmodel.for_pupil, "summary"),
    Section("support/_pupil_support.html", support.for_pupil, "summary"),
    Section("attendance/_pupil_patterns.html", attendance.for_pupil, "main"),
    Section("ladder/_pupil_ladder.html", ladder.for_pupil, "main"),
    Section("notices/_pupil_notices.html", notices.for_pupil, "main"),
    Section("kasam/_pupil_kasam.html", kasam.for_pupil, "main"),
)


@dataclass(frozen=True)
class Shown:
    template: str
    data: Any


def for_pupil(pupil: Pupil, viewer: Viewer) -> dict[str, list[Shown]]:
    """Each place's sections with their data, leaving out those with nothing for this viewer."""
    placed: dict[str, list[Shown]] = {"summary": [], "main": []}
    for section in SECTIONS:
        data = section.read(pupil, viewer)
        if data is not None:
            placed[section.place].append(Shown(section.template, data))
    return placed
