"""Organisers and schools of the simulated municipality (or region of 13)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import names
from .parameters import Parameters

REGION_SHARES = (0.30, 0.12, 0.09, 0.08, 0.07, 0.06, 0.055, 0.05, 0.045, 0.04, 0.035, 0.03, 0.025)


@dataclass
class Organisation:
    """Organisers and schools, as parallel lists indexed from 0 (ids are index + 1)."""

    organiser_name: list[str]
    organiser_kind: list[str]
    organiser_code: list[str]
    organiser_domain: list[str]
    municipalities: list[int]  # organiser indices of the municipalities
    municipality_share: np.ndarray  # share of pupils living in each municipality
    school_organiser: list[int]
    school_municipality: list[int]  # organiser index of the municipality it is located in
    school_name: list[str]
    school_grades: list[tuple[int, int]]
    school_unit_code: list[str]
    feeder: dict[int, int]  # F-6 school → the 7-9 school its pupils go on to
    catchments: dict[int, tuple[list[int], np.ndarray]]  # municipality → F-6 schools, weights
    friskolor: list[int]
    sportlov_weeks: list[int]


def build_organisation(params: Parameters, rng: np.random.Generator) -> Organisation:
    """Organisers and schools: one municipality and one friskola, or a region of 13."""
    independent_count = 4 if params.is_region else 1
    municipality_count = len(names.MUNICIPALITIES) if params.is_region else 1
    shares = np.array(REGION_SHARES if params.is_region else (1.0,), dtype=float)
    shares = shares[:municipality_count] / shares[:municipality_count].sum()
    org = Organisation([], [], [], [], [], shares, [], [], [], [], [], {}, {}, [], [])
    for index in range(municipality_count):
        town = names.MUNICIPALITIES[index]
        org.municipalities.append(len(org.organiser_name))
        org.organiser_name.append(f"{town} kommun")
        org.organiser_kind.append("municipality")
        org.organiser_code.append(f"99{index + 1:02d}")  # fictional: no real code starts 99
        org.organiser_domain.append(f"{names.ascii_fold(town)}.se")
    independents = []
    for index in range(independent_count):
        name, _stem = names.INDEPENDENT_ORGANISERS[index]
        independents.append(len(org.organiser_name))
        org.organiser_name.append(name)
        org.organiser_kind.append("independent")
        org.organiser_code.append(org.organiser_code[index % municipality_count])
        org.organiser_domain.append(f"{names.ascii_fold(_stem)}.se")
    # Sportlov: neighbouring municipalities mostly share a week (weeks 7-9 by region).
    org.sportlov_weeks = [int(w) for w in rng.choice([7, 8, 8, 9], size=len(org.organiser_name))]
    unit_codes = 10_000_000 + rng.choice(90_000_000, size=2000, replace=False)
    stems = list(names.SCHOOL_NAME_STEMS)

    def add_school(organiser: int, municipality: int, name: str, grades: tuple[int, int]) -> int:
        org.school_organiser.append(organiser)
        org.school_municipality.append(municipality)
        org.school_name.append(name)
        org.school_grades.append(grades)
        org.school_unit_code.append(str(int(unit_codes[len(org.school_name) - 1])))
        return len(org.school_name) - 1

    def school_name(stem: str, used: set[str]) -> str:
        base = stem if stem.endswith("skolan") else f"{stem}s skola"
        name, number = base, 2
        while name in used:
            name, number = f"{base} {number}", number + 1
        used.add(name)
        return name

    municipal_share = 1.0 - params.independent_share
    for index, municipality in enumerate(org.municipalities):
        pupils = params.pupils * shares[index] * municipal_share
        f6_count = max(1, round(pupils * 0.7 / params.f6_school_size))
        upper_count = max(1, round(pupils * 0.3 / params.school_79_size))
        order = rng.permutation(len(stems))
        used: set[str] = set()
        upper = [
            add_school(
                municipality,
                municipality,
                school_name(stems[order[-1 - i % len(stems)]], used),
                (7, 9),
            )
            for i in range(upper_count)
        ]
        f6 = [
            add_school(municipality, municipality,
                       school_name(stems[order[i % len(stems)]], used), (0, 6))
            for i in range(f6_count)
        ]  # fmt: skip
        for i, school in enumerate(f6):
            org.feeder[school] = upper[i % upper_count]
        org.catchments[municipality] = (f6, rng.uniform(0.6, 1.4, size=f6_count))
    friskola_count = (
        max(1, round(params.pupils * params.independent_share / params.friskola_size))
        if params.is_region
        else 1
    )
    located = rng.choice(org.municipalities, size=friskola_count, p=shares)
    for i in range(friskola_count):
        organiser = independents[i % independent_count]
        stem = names.INDEPENDENT_ORGANISERS[i % independent_count][1]
        town = names.MUNICIPALITIES[org.municipalities.index(int(located[i]))]
        name = f"{stem} {town}" if params.is_region else stem
        org.friskolor.append(add_school(organiser, int(located[i]), name, (0, 9)))
    return org
