"""The organisation and people of the simulated municipality (or region).

Builds every small table (organisers, schools, calendar, pupils, guardians, staff, classes,
placements, mentorships, groups, teaching assignments) and the per-year arrays the weekly
attendance engine needs. Pure numpy/polars. The parts: `organisation` (organisers and schools),
`people` (enrolment, families, identities), `staffing` (classes, staff, groups, timetables) and
`world` (what the weekly engine reads).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from . import names
from .organisation import build_organisation
from .parameters import Parameters
from .people import (
    guardian_email,
    phone_number,
    pick,
    simulate_enrolment,
    street_address,
    unique_personnummer,
)
from .schema import make_frame
from .school_calendar import build_calendar, build_school_years, epoch_day
from .staffing import build_classes_and_staff
from .timetable import SUBJECTS
from .world import ABSENCE_REASONS, World


def build_world(params: Parameters) -> World:
    """Organisation, calendar, people, classes and timetables for the whole run."""
    rng = np.random.default_rng([params.seed, 1])
    org = build_organisation(params, rng)
    school_years = build_school_years(params.first_school_year, params.years)
    calendar = build_calendar(school_years, len(org.organiser_name), rng, org.sportlov_weeks)
    families, pupil_family, pupil_cohort, enrolments = simulate_enrolment(
        params, calendar, org, np.random.default_rng([params.seed, 2])
    )
    rng = np.random.default_rng([params.seed, 3])
    pupils = len(pupil_family)
    tables: dict[str, pl.DataFrame] = {}
    tables["organisers"] = make_frame("organisers", {
        "id": np.arange(1, len(org.organiser_name) + 1), "name": org.organiser_name,
        "kind": org.organiser_kind, "municipality_code": org.organiser_code,
    })  # fmt: skip
    tables["schools"] = make_frame("schools", {
        "id": np.arange(1, len(org.school_name) + 1),
        "organiser_id": np.array(org.school_organiser) + 1, "name": org.school_name,
        "unit_code": org.school_unit_code,
        "grade_from": [g[0] for g in org.school_grades],
        "grade_to": [g[1] for g in org.school_grades],
    })  # fmt: skip
    tables["school_years"] = make_frame("school_years", {
        "id": [y.id for y in school_years], "name": [y.name for y in school_years],
        "start": [y.start for y in school_years], "end": [y.end for y in school_years],
    })  # fmt: skip
    terms = [t for y in school_years for t in y.terms]
    tables["terms"] = make_frame("terms", {
        "id": [t.id for t in terms], "school_year_id": [t.school_year_id for t in terms],
        "kind": [t.kind for t in terms], "start": [t.start for t in terms],
        "end": [t.end for t in terms],
    })  # fmt: skip
    off = calendar.days_off
    tables["days_off"] = make_frame("days_off", {
        "id": np.arange(1, len(off) + 1), "organiser_id": [o + 1 for o, _, _, _ in off],
        "date": [d for _, d, _, _ in off], "kind": [k for _, _, k, _ in off],
        "name": [n for _, _, _, n in off],
    })  # fmt: skip
    tables["subjects"] = make_frame("subjects", {
        "id": np.arange(1, len(SUBJECTS) + 1), "code": [c for c, _ in SUBJECTS],
        "name": [n for _, n in SUBJECTS],
    })  # fmt: skip
    tables["absence_reasons"] = make_frame("absence_reasons", {
        "id": np.arange(1, len(ABSENCE_REASONS) + 1), "code": [r[0] for r in ABSENCE_REASONS],
        "name": [r[1] for r in ABSENCE_REASONS], "is_valid": [r[2] for r in ABSENCE_REASONS],
    })  # fmt: skip

    # Pupils: identity, names, family.
    family_count = len(families.origin)
    family_origin = np.array(families.origin)
    family_home = np.array(families.home)
    gender = rng.integers(0, 2, size=pupils).astype(np.int8)
    birth_year = params.first_school_year + pupil_cohort - 6
    birth_days = np.array([epoch_day(dt.date(int(y), 1, 1)) for y in birth_year]) + rng.integers(
        0, 365, size=pupils
    )
    newly_arrived = np.zeros(pupils, dtype=bool)
    for enrolment in enrolments:
        late = enrolment.start > enrolment.start.min()
        newly_arrived[enrolment.pupil[late]] = True
    foreign = family_origin[pupil_family] > 0
    coordination_pool = np.flatnonzero(newly_arrived & foreign)
    coordination = np.zeros(pupils, dtype=bool)
    wanted = max(1, round(pupils * params.coordination_share))
    if len(coordination_pool):
        coordination[
            rng.choice(coordination_pool, size=min(wanted, len(coordination_pool)), replace=False)
        ] = True
    numbers = unique_personnummer(birth_days, gender, coordination, rng)
    family_surname = [pick(names.ORIGINS[o].surnames, rng) for o in family_origin]
    family_address = [street_address(org, int(h), rng) for h in family_home]
    first_names = []
    for family, male in zip(pupil_family, gender, strict=True):
        origin = names.ORIGINS[family_origin[family]]
        if family_origin[family] and rng.random() < 0.15:  # Swedish-sounding names are common
            origin = names.ORIGINS[0]
        first_names.append(pick(origin.boys if male else origin.girls, rng))
    # Protected identity is a family matter: whole families, until the share is reached.
    protected_family = np.zeros(family_count, dtype=bool)
    target = max(3, round(pupils * params.protected_share))
    children = np.bincount(pupil_family, minlength=family_count)
    covered = 0
    for family in rng.permutation(family_count):
        if covered >= target:
            break
        if children[family]:
            protected_family[family] = True
            covered += children[family]
    pupil_sva = (foreign & (rng.random(pupils) < params.sva_share / max(foreign.mean(), 1e-9))) | (
        newly_arrived & foreign
    )
    tables["pupils"] = make_frame("pupils", {
        "id": np.arange(1, pupils + 1), "personnummer": numbers, "first_name": first_names,
        "last_name": [family_surname[f] for f in pupil_family],
        "legal_gender": np.where(gender == 1, "M", "F"), "birth_date": birth_days,
        "protected_identity": protected_family[pupil_family],
        "address": [family_address[f] for f in pupil_family],
        "municipality_of_residence_id": family_home[pupil_family] + 1,
    })  # fmt: skip

    # Guardians: most families two, some one; separated parents may live apart.
    g_first, g_last, g_email, g_phone, g_address = [], [], [], [], []
    family_guardians: list[list[int]] = []
    for family in range(family_count):
        origin = names.ORIGINS[family_origin[family]]
        count = 1 if rng.random() < params.single_guardian_share else 2
        ids = []
        for k in range(count):
            female = (k == 0) == (rng.random() < 0.8)
            first = pick(origin.women if female else origin.men, rng)
            last = (
                family_surname[family]
                if k == 0 or rng.random() < 0.65
                else pick(origin.surnames, rng)
            )
            address = family_address[family]
            if k == 1 and rng.random() < 0.15:
                address = street_address(org, int(family_home[family]), rng)
            g_first.append(first)
            g_last.append(last)
            g_email.append(guardian_email(first, last, params, rng))
            g_phone.append(None if rng.random() < params.phone_missing_share else phone_number(rng))
            g_address.append(address)
            ids.append(len(g_first))
        family_guardians.append(ids)
    tables["guardians"] = make_frame("guardians", {
        "id": np.arange(1, len(g_first) + 1), "first_name": g_first, "last_name": g_last,
        "email": g_email, "phone": g_phone, "address": g_address,
    })  # fmt: skip
    ship_pupil = [p + 1 for p in range(pupils) for _ in family_guardians[pupil_family[p]]]
    ship_guardian = [g for p in range(pupils) for g in family_guardians[pupil_family[p]]]
    tables["guardianships"] = make_frame("guardianships", {
        "id": np.arange(1, len(ship_pupil) + 1), "pupil_id": ship_pupil,
        "guardian_id": ship_guardian, "relation": ["vårdnadshavare"] * len(ship_pupil),
    })  # fmt: skip

    world = World(
        params,
        calendar,
        org,
        tables,
        pupils,
        gender,
        pupil_sva,
        np.zeros(0, np.int64),
        np.zeros(0, np.int8),
        np.zeros(0, np.int64),
        np.zeros((0, len(SUBJECTS)), np.int64),
        np.zeros((0, len(SUBJECTS)), np.int64),
    )
    build_classes_and_staff(world, enrolments, families, pupil_family, rng)
    return world
