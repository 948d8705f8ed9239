"""The organisation and people of the simulated municipality (or region).

Builds every small table (organisers, schools, calendar, pupils, guardians, staff, classes,
placements, mentorships, groups, teaching assignments) and the per-year arrays the weekly
attendance engine needs. Pure numpy/polars.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fullfolj.lib import personnummer

from . import names
from .parameters import Parameters
from .schema import make_frame
from .school_calendar import (
    Calendar,
    SchoolYear,
    build_calendar,
    build_school_years,
    epoch_day,
    from_epoch_day,
)
from .timetable import (
    PER_CLASS_PROFILES,
    PLAN,
    SUBJECT_INDEX,
    SUBJECTS,
    lesson_minutes,
    profiles_for,
)

OPEN_END = np.iinfo(np.int32).max  # an ongoing placement (end is null)
REGION_SHARES = (0.30, 0.12, 0.09, 0.08, 0.07, 0.06, 0.055, 0.05, 0.045, 0.04, 0.035, 0.03, 0.025)
ABSENCE_REASONS = (  # (code, name, is_valid); ids 1.. in this order
    ("SJUK", "Sjukdom", True),
    ("LEDIG", "Beviljad ledighet", True),
    ("TANDL", "Tandläkare/vård", True),
    ("OGIL", "Ogiltig frånvaro", False),
)
SICK, LEAVE, DENTIST, INVALID = 1, 2, 3, 4  # absence reason ids
SCHOOL_ROLES = ("principal", "special_educator", "special_teacher", "school_nurse", "counsellor",
                "psychologist")  # fmt: skip
VILLAGES = ("Bäckeby", "Ekhult", "Stensjö", "Lövnäs", "Kärrbacka", "Hällered", "Mossby",
            "Ängstorp", "Lindhult", "Sandnäs", "Björkered", "Holmsjö")  # fmt: skip


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


@dataclass
class YearLayout:
    """One school year: who is placed in which class, and each class's weekly timetable."""

    school_year: SchoolYear
    pupil_class: np.ndarray  # int32 (pupils,): global class index, -1 when not placed
    pupil_start: np.ndarray  # int32 epoch day of the placement's first day
    pupil_end: np.ndarray  # int32 epoch day of its last day (inclusive); OPEN_END if ongoing
    pupil_grade: np.ndarray  # int8, -1 when not placed
    class_offsets: np.ndarray  # CSR over global classes: members of class c are
    class_members: np.ndarray  # class_members[class_offsets[c]:class_offsets[c + 1]]
    timetable: dict[str, np.ndarray]  # one row per weekly lesson of each class this year


@dataclass
class World:
    """Everything the weekly engine needs, plus the small tables to yield."""

    params: Parameters
    calendar: Calendar
    organisation: Organisation
    tables: dict[str, pl.DataFrame]
    pupils: int
    pupil_gender: np.ndarray  # int8: 1 = male (odd ninth digit), 0 = female
    pupil_sva: np.ndarray  # bool: graded in Svenska som andraspråk
    class_school: np.ndarray  # int64 school index per global class
    class_grade: np.ndarray  # int8
    class_organiser: np.ndarray  # int64 organiser index per class
    subject_group: np.ndarray  # int64 (classes, subjects): group id, 0 when not taught
    subject_teacher: np.ndarray  # int64 (classes, subjects): staff id, 0 when not taught
    years: list[YearLayout] = field(default_factory=list)


# --- organisation -------------------------------------------------------------------------


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


# --- pupils and families ------------------------------------------------------------------


@dataclass
class _Families:
    origin: list[int] = field(default_factory=list)
    home: list[int] = field(default_factory=list)  # organiser index of the home municipality
    friskola: list[int] = field(default_factory=list)  # school index or -1
    catchment: list[int] = field(default_factory=list)  # F-6 school index or -1

    def add(
        self, count: int, org: Organisation, params: Parameters, rng: np.random.Generator
    ) -> np.ndarray:
        """New families: origin, home municipality and school route (friskola or catchment)."""
        shares = np.array([o.share for o in names.ORIGINS])
        origin = rng.choice(len(shares), size=count, p=shares / shares.sum())
        home_index = rng.choice(len(org.municipalities), size=count, p=org.municipality_share)
        home = np.array(org.municipalities)[home_index]
        independent = rng.random(count) < params.independent_share
        friskola = np.full(count, -1)
        catchment = np.full(count, -1)
        for i in np.flatnonzero(independent):
            local = [s for s in org.friskolor if org.school_municipality[s] == home[i]]
            pool = local if local and rng.random() < 0.75 else org.friskolor
            friskola[i] = pool[int(rng.integers(len(pool)))]
        for municipality, (schools, weights) in org.catchments.items():
            chosen = (home == municipality) & ~independent
            catchment[chosen] = rng.choice(
                schools, size=int(chosen.sum()), p=weights / weights.sum()
            )
        start = len(self.origin)
        self.origin += origin.tolist()
        self.home += home.tolist()
        self.friskola += friskola.tolist()
        self.catchment += catchment.tolist()
        return np.arange(start, start + count)


@dataclass
class _Enrolment:
    """Placements of one school year before classes are formed."""

    pupil: np.ndarray
    grade: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _family_sizes(count: int, rng: np.random.Generator) -> np.ndarray:
    """Family index per child: siblings in school (1: 55 %, 2: 33 %, 3: 12 %)."""
    sizes = rng.choice([1, 2, 3], size=count, p=[0.55, 0.33, 0.12])
    family = np.repeat(np.arange(count), sizes)[:count]
    return family[rng.permutation(count)]


def simulate_enrolment(
    params: Parameters, calendar: Calendar, org: Organisation, rng: np.random.Generator
) -> tuple[_Families, np.ndarray, np.ndarray, list[_Enrolment]]:
    """Who is enrolled in which grade each year: cohorts, moves in and out, year-9 leavers.

    Returns families, each pupil's family, each pupil's grade-0 year offset (for birth dates)
    and one enrolment per school year.
    """
    families = _Families()
    pupil_family: list[int] = []
    pupil_cohort: list[int] = []  # first_school_year + cohort = the autumn the pupil starts F

    def add_pupils(grades: np.ndarray, year: int, family: np.ndarray) -> np.ndarray:
        start = len(pupil_family)
        pupil_family.extend(family.tolist())
        pupil_cohort.extend((year - grades).tolist())
        return np.arange(start, start + len(grades))

    def new_pupils(grades: np.ndarray, year: int, with_siblings: bool) -> np.ndarray:
        count = len(grades)
        if with_siblings:
            local = _family_sizes(count, rng)
            first = families.add(int(local.max()) + 1, org, params, rng)
            return add_pupils(grades, year, first[local])
        return add_pupils(grades, year, families.add(count, org, params, rng))

    cohort_weights = 1 + rng.normal(0, 0.04, size=10)
    enrolments: list[_Enrolment] = []
    previous: _Enrolment | None = None
    for index in range(len(calendar.school_years)):
        is_last = index == len(calendar.school_years) - 1
        term_days = np.flatnonzero(calendar.school_day[0] & (calendar.year_index == index))
        days = term_days + calendar.first_day
        start_day, end_day = int(days[0]), int(days[-1])
        if previous is None:
            grades = rng.choice(10, size=params.pupils, p=cohort_weights / cohort_weights.sum())
            pupil = new_pupils(grades, index, with_siblings=True)
        else:
            stays = (previous.end == previous.end.max()) & (previous.grade < 9)
            stays &= rng.random(len(stays)) >= params.summer_move_out_rate
            pupil, grades = previous.pupil[stays], previous.grade[stays] + 1
            newcomers = round(params.pupils / 10 * rng.uniform(0.95, 1.05))
            siblings = round(newcomers * params.sibling_share)
            elder = rng.choice(pupil, size=siblings)
            f_pupils = np.concatenate(
                [
                    add_pupils(np.zeros(siblings, dtype=int), index, np.array(pupil_family)[elder]),
                    new_pupils(np.zeros(newcomers - siblings, dtype=int), index, False),
                ]
            )
            summer = round(len(pupil) * params.summer_move_in_rate)
            summer_grades = rng.integers(1, 10, size=summer)
            movers = new_pupils(summer_grades, index, False)
            pupil = np.concatenate([pupil, f_pupils, movers])
            grades = np.concatenate([grades, np.zeros(len(f_pupils), dtype=int), summer_grades])
        count = len(pupil)
        starts = np.full(count, start_day)
        ends = np.full(count, end_day if not is_last else OPEN_END)
        ends[grades == 9] = end_day  # year 9 leaves for upper secondary
        # Mid-year: some pupils move away (their placement ends on their last day) ...
        window = days[(days >= start_day + 14) & (days <= end_day - 21)]
        leaving = rng.choice(count, size=round(count * params.move_out_rate), replace=False)
        ends[leaving] = rng.choice(window, size=len(leaving))
        # ... and others move in (their placement starts on their first day).
        arriving = round(params.pupils * params.move_in_rate)
        arrival_grades = rng.integers(0, 10, size=arriving)
        arrivals = new_pupils(arrival_grades, index, False)
        arrival_ends = np.full(arriving, end_day if not is_last else OPEN_END)
        arrival_ends[arrival_grades == 9] = end_day
        enrolment = _Enrolment(
            np.concatenate([pupil, arrivals]),
            np.concatenate([grades, arrival_grades]).astype(np.int8),
            np.concatenate([starts, rng.choice(window, size=arriving)]).astype(np.int32),
            np.concatenate([ends, arrival_ends]).astype(np.int32),
        )
        enrolments.append(enrolment)
        previous = _Enrolment(
            enrolment.pupil,
            enrolment.grade,
            enrolment.start,
            np.where(enrolment.end == OPEN_END, end_day, enrolment.end),
        )
    return families, np.array(pupil_family), np.array(pupil_cohort), enrolments


# --- names and identities -----------------------------------------------------------------


def _pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _address(org: Organisation, municipality: int, rng: np.random.Generator) -> str:
    """A Swedish-style fictional address: street, number, postcode and town."""
    index = org.municipalities.index(municipality)
    town = names.MUNICIPALITIES[index] if rng.random() < 0.75 else _pick(VILLAGES, rng)
    postcode = f"{430 + 3 * index + int(rng.integers(0, 3))} {int(rng.integers(10, 99)):02d}"
    return f"{_pick(names.STREETS, rng)} {int(rng.integers(1, 80))}, {postcode} {town}"


def _phone(rng: np.random.Generator) -> str:
    digits = rng.integers(0, 10, size=7)
    prefix = _pick(("070", "072", "073", "076", "079"), rng)
    return (
        f"{prefix}-{''.join(map(str, digits[:3]))} {''.join(map(str, digits[3:5]))} "
        f"{''.join(map(str, digits[5:]))}"
    )


def _email(first: str, last: str, params: Parameters, rng: np.random.Generator) -> str | None:
    """A guardian's e-mail: some missing, a few malformed so bounce handling can be exercised."""
    draw = rng.random()
    if draw < params.email_missing_share:
        return None
    local = f"{names.ascii_fold(first)}.{names.ascii_fold(last)}"
    domain = _pick(names.EMAIL_DOMAINS, rng)
    if draw < params.email_missing_share + params.email_malformed_share:
        return _pick((f"{local}@", f"{local}.{domain}", f"{local}@{domain.replace('.', '')}"), rng)
    return f"{local}{int(rng.integers(1, 99)) if rng.random() < 0.3 else ''}@{domain}"


def _personnummer(
    birth_days: np.ndarray, gender: np.ndarray, coordination: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """Unique valid personnummer: the ninth digit's parity gives the legal gender."""
    taken: set[str] = set()
    result = []
    for day, male, is_coordination in zip(birth_days, gender, coordination, strict=True):
        while True:
            serial = int(rng.integers(0, 50)) * 10 + 2 * int(rng.integers(0, 5)) + int(male)
            value = personnummer.make(
                from_epoch_day(day), serial, coordination=bool(is_coordination)
            )
            if value not in taken:
                taken.add(value)
                result.append(value)
                break
    return result


# --- the world ----------------------------------------------------------------------------


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
    numbers = _personnummer(birth_days, gender, coordination, rng)
    family_surname = [_pick(names.ORIGINS[o].surnames, rng) for o in family_origin]
    family_address = [_address(org, int(h), rng) for h in family_home]
    first_names = []
    for family, male in zip(pupil_family, gender, strict=True):
        origin = names.ORIGINS[family_origin[family]]
        if family_origin[family] and rng.random() < 0.15:  # Swedish-sounding names are common
            origin = names.ORIGINS[0]
        first_names.append(_pick(origin.boys if male else origin.girls, rng))
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
            first = _pick(origin.women if female else origin.men, rng)
            last = (
                family_surname[family]
                if k == 0 or rng.random() < 0.65
                else _pick(origin.surnames, rng)
            )
            address = family_address[family]
            if k == 1 and rng.random() < 0.15:
                address = _address(org, int(family_home[family]), rng)
            g_first.append(first)
            g_last.append(last)
            g_email.append(_email(first, last, params, rng))
            g_phone.append(None if rng.random() < params.phone_missing_share else _phone(rng))
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
    _build_classes_and_staff(world, enrolments, families, pupil_family, rng)
    return world


def _open_ended(days: np.ndarray) -> pl.Series:
    """Epoch days with OPEN_END as null: an ongoing placement."""
    series = pl.Series("end", days, dtype=pl.Int32)
    return pl.select(pl.when(series != OPEN_END).then(series)).to_series()


# --- classes, staff, groups ---------------------------------------------------------------


class _StaffRegister:
    """Staff members with unique usernames and their roles."""

    def __init__(self, org: Organisation, rng: np.random.Generator) -> None:
        self.org, self.rng = org, rng
        self.first: list[str] = []
        self.last: list[str] = []
        self.username: list[str] = []
        self.email: list[str] = []
        self.roles: list[tuple[int, int | None, int, str]] = []  # staff, school, org, role
        self._usernames: set[str] = set()
        shares = np.array([o.share for o in names.ORIGINS])
        shares[0] += 0.10  # staff are somewhat more often of Swedish origin than pupils
        self._shares = shares / shares.sum()

    def hire(self, organiser: int) -> int:
        """A new staff member of `organiser`; returns the staff id."""
        origin = names.ORIGINS[int(self.rng.choice(len(self._shares), p=self._shares))]
        female = self.rng.random() < 0.7  # most school staff are women (Skolverket)
        first = _pick(origin.women if female else origin.men, self.rng)
        last = _pick(origin.surnames, self.rng)
        base = f"{names.ascii_fold(first)}.{names.ascii_fold(last)}"
        username, suffix = base, 2
        while username in self._usernames:
            username, suffix = f"{base}{suffix}", suffix + 1
        self._usernames.add(username)
        self.first.append(first)
        self.last.append(last)
        self.username.append(username)
        self.email.append(f"{username}@{self.org.organiser_domain[organiser]}")
        return len(self.first)

    def role(self, staff: int, school: int | None, organiser: int, role: str) -> None:
        self.roles.append((staff, school, organiser, role))


def _build_classes_and_staff(
    world: World,
    enrolments: list[_Enrolment],
    families: _Families,
    pupil_family: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Classes per year, placements, teachers per subject, mentors, groups and timetables."""
    params, org, calendar = world.params, world.organisation, world.calendar
    staff = _StaffRegister(org, rng)
    for organiser, kind in enumerate(org.organiser_kind):
        staff.role(staff.hire(organiser), None, organiser, "administration")
        doctor = staff.hire(organiser)  # one doctor serves every school of the organiser
        for school in (s for s, o in enumerate(org.school_organiser) if o == organiser):
            staff.role(doctor, school, organiser, "school_doctor")
        if kind == "municipality":
            staff.role(staff.hire(organiser), None, organiser, "attendance_officer")
    for school, organiser in enumerate(org.school_organiser):
        for role in SCHOOL_ROLES:
            staff.role(staff.hire(organiser), school, organiser, role)
        if org.school_grades[school][1] >= 7:
            staff.role(staff.hire(organiser), school, organiser, "study_counsellor")

    friskola = np.array(families.friskola)[pupil_family]
    catchment = np.array(families.catchment)[pupil_family]
    feeder = np.full(len(org.school_name), -1)
    for f6, upper in org.feeder.items():
        feeder[f6] = upper
    class_school: list[int] = []
    class_grade: list[int] = []
    class_year: list[int] = []
    class_name: list[str] = []
    teacher_pool: dict[tuple[int, str], list[int]] = {}
    mentors_of_class: list[tuple[int, int]] = []
    subject_teacher_rows: list[np.ndarray] = []
    letter_of = np.full(world.pupils, -1)
    placement_rows: list[tuple[np.ndarray, ...]] = []
    is_teacher: set[int] = set()
    teacher_school: dict[int, int] = {}
    is_mentor: set[int] = set()

    for year_index, enrolment in enumerate(enrolments):
        grade = enrolment.grade.astype(np.int64)
        school = np.where(
            friskola[enrolment.pupil] >= 0,
            friskola[enrolment.pupil],
            np.where(grade <= 6, catchment[enrolment.pupil], feeder[catchment[enrolment.pupil]]),
        )
        pupil_class = np.full(len(enrolment.pupil), -1)
        year_start = enrolment.start.min()
        loads: dict[int, int] = {}
        mentor_load: dict[int, int] = {}
        order = np.lexsort((grade, school))
        keys = school[order] * 10 + grade[order]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        for chunk in np.split(order, bounds):
            s, g = int(school[chunk[0]]), int(grade[chunk[0]])
            at_start = chunk[enrolment.start[chunk] == year_start]
            later = chunk[enrolment.start[chunk] != year_start]
            size = max(len(at_start), 1)
            count = max(1, round(size / params.class_size), -(-size // 28))  # at most ~27
            # Keep last year's class together where possible (letter), then shuffle the rest.
            previous = letter_of[enrolment.pupil[at_start]]
            tie = rng.random(len(at_start))
            sorted_start = at_start[np.lexsort((tie, np.where(previous < 0, 99, previous)))]
            first_class = len(class_school)
            for k, members in enumerate(np.array_split(sorted_start, count)):
                pupil_class[members] = first_class + k
            sizes = [len(m) for m in np.array_split(sorted_start, count)]
            for p in later[np.argsort(enrolment.start[later], kind="stable")]:
                k = int(np.argmin(sizes))
                pupil_class[p] = first_class + k
                sizes[k] += 1
            organiser = org.school_organiser[s]
            for k in range(count):
                class_school.append(s)
                class_grade.append(g)
                class_year.append(year_index)
                letter = chr(ord("A") + k)
                class_name.append(f"F{letter}" if g == 0 else f"{g}{letter}")
                teachers = np.zeros(len(SUBJECTS), dtype=np.int64)
                for profile, codes in profiles_for(g).items():
                    taught = [c for c in codes if c in PLAN[g][1]]
                    if not taught:
                        continue
                    load = sum(PLAN[g][1][c] for c in taught)
                    pool = teacher_pool.setdefault((s, profile), [])
                    capacity = (
                        load if profile in PER_CLASS_PROFILES else (params.teacher_weekly_lessons)
                    )
                    free = [t for t in pool if loads.get(t, 0) + load <= capacity]
                    if free:
                        teacher = min(free, key=lambda t: loads.get(t, 0))
                    else:
                        teacher = staff.hire(organiser)
                        pool.append(teacher)
                        teacher_school[teacher] = s
                    loads[teacher] = loads.get(teacher, 0) + load
                    is_teacher.add(teacher)
                    for c in taught:
                        teachers[SUBJECT_INDEX[c]] = teacher
                subject_teacher_rows.append(teachers)
                candidates = sorted(
                    {int(t) for t in teachers if t}, key=lambda t: (mentor_load.get(t, 0), t)
                )
                pair = (candidates[0], candidates[1 % len(candidates)])
                for t in pair:
                    mentor_load[t] = mentor_load.get(t, 0) + 1
                    is_mentor.add(t)
                mentors_of_class.append(pair)
        placed = pupil_class >= 0
        letter_of[:] = -1
        letter_of[enrolment.pupil[placed]] = [
            ord(class_name[c][-1]) - ord("A") for c in pupil_class[placed]
        ]
        placement_rows.append(
            (enrolment.pupil, school, pupil_class, enrolment.start, enrolment.end, grade)
        )

    for teacher in sorted(is_teacher):
        school = teacher_school[teacher]
        staff.role(teacher, school, org.school_organiser[school], "teacher")
        if teacher in is_mentor:
            staff.role(teacher, school, org.school_organiser[school], "mentor")

    world.class_school = np.array(class_school, dtype=np.int64)
    world.class_grade = np.array(class_grade, dtype=np.int8)
    world.class_organiser = np.array(org.school_organiser, dtype=np.int64)[world.class_school]
    world.subject_teacher = np.vstack(subject_teacher_rows)
    classes = len(class_school)
    tables = world.tables
    tables["staff"] = make_frame("staff", {
        "id": np.arange(1, len(staff.first) + 1), "first_name": staff.first,
        "last_name": staff.last, "email": staff.email, "username": staff.username,
    })  # fmt: skip
    roles = staff.roles
    tables["staff_roles"] = make_frame("staff_roles", {
        "id": np.arange(1, len(roles) + 1), "staff_id": [r[0] for r in roles],
        "school_id": [None if r[1] is None else r[1] + 1 for r in roles],
        "organiser_id": [r[2] + 1 for r in roles], "role": [r[3] for r in roles],
    })  # fmt: skip
    year_ids = [calendar.school_years[y].id for y in class_year]
    tables["classes"] = make_frame("classes", {
        "id": np.arange(1, classes + 1), "school_id": world.class_school + 1,
        "school_year_id": year_ids, "name": class_name, "grade": world.class_grade,
    })  # fmt: skip

    # Groups: one teaching group per class and subject on its timetable.
    taught = world.subject_teacher > 0
    group_class, group_subject = np.nonzero(taught)  # row-major: by class, then subject
    group_ids = np.arange(1, len(group_class) + 1)
    world.subject_group = np.zeros_like(world.subject_teacher)
    world.subject_group[group_class, group_subject] = group_ids
    subject_codes = np.array([c for c, _ in SUBJECTS])
    tables["groups"] = make_frame("groups", {
        "id": group_ids, "school_id": world.class_school[group_class] + 1,
        "school_year_id": np.array(year_ids)[group_class],
        "name": np.char.add(np.char.add(np.array(class_name)[group_class], " "),
                            subject_codes[group_subject]),
        "class_id": group_class + 1,
    })  # fmt: skip
    tables["teaching_assignments"] = make_frame("teaching_assignments", {
        "id": group_ids, "staff_id": world.subject_teacher[group_class, group_subject],
        "group_id": group_ids, "subject_id": group_subject + 1,
    })  # fmt: skip

    # Placements, mentorships and group members share the placement's dates.
    pupil = np.concatenate([r[0] for r in placement_rows])
    school = np.concatenate([r[1] for r in placement_rows])
    klass = np.concatenate([r[2] for r in placement_rows])
    start = np.concatenate([r[3] for r in placement_rows])
    end = np.concatenate([r[4] for r in placement_rows])
    order = np.lexsort((start, pupil))
    pupil, school, klass, start, end = (a[order] for a in (pupil, school, klass, start, end))
    end_values = _open_ended(end)
    tables["placements"] = make_frame("placements", {
        "id": np.arange(1, len(pupil) + 1), "pupil_id": pupil + 1, "school_id": school + 1,
        "class_id": klass + 1, "start": start, "end": end_values,
    })  # fmt: skip
    mentor_pairs = np.array(mentors_of_class)
    # Alternate mentors within each class, in the order pupils joined it.
    rank = np.zeros(len(pupil), dtype=np.int64)
    by_class = np.lexsort((pupil, start, klass))
    first_of_class = np.r_[0, np.flatnonzero(np.diff(klass[by_class])) + 1]
    positions = np.arange(len(by_class)) - np.repeat(
        first_of_class, np.diff(np.r_[first_of_class, len(by_class)])
    )
    rank[by_class] = positions
    tables["mentorships"] = make_frame("mentorships", {
        "id": np.arange(1, len(pupil) + 1), "pupil_id": pupil + 1,
        "staff_id": mentor_pairs[klass, rank % 2], "start": start, "end": end_values,
    })  # fmt: skip
    groups_per_class = taught.sum(axis=1)
    first_group = np.r_[0, np.cumsum(groups_per_class)[:-1]]
    repeats = groups_per_class[klass]
    member_group = (
        np.repeat(first_group[klass], repeats)
        + np.arange(repeats.sum())
        - np.repeat(np.cumsum(repeats) - repeats, repeats)
        + 1
    )
    member_end = np.repeat(end, repeats)
    tables["group_members"] = make_frame("group_members", {
        "id": np.arange(1, len(member_group) + 1), "group_id": member_group,
        "pupil_id": np.repeat(pupil, repeats) + 1, "start": np.repeat(start, repeats),
        "end": _open_ended(member_end),
    })  # fmt: skip

    # Per-year arrays for the weekly engine.
    for year_index, (y_pupil, _school, y_class, y_start, y_end, y_grade) in enumerate(
        placement_rows
    ):
        layout_class = np.full(world.pupils, -1, dtype=np.int32)
        layout_start = np.zeros(world.pupils, dtype=np.int32)
        layout_end = np.full(world.pupils, -1, dtype=np.int32)
        layout_grade = np.full(world.pupils, -1, dtype=np.int8)
        layout_class[y_pupil] = y_class
        layout_start[y_pupil] = y_start
        layout_end[y_pupil] = y_end
        layout_grade[y_pupil] = y_grade
        members = np.flatnonzero(layout_class >= 0)
        members = members[np.argsort(layout_class[members], kind="stable")]
        offsets = np.r_[0, np.cumsum(np.bincount(layout_class[members], minlength=classes))]
        world.years.append(
            YearLayout(
                calendar.school_years[year_index],
                layout_class,
                layout_start,
                layout_end,
                layout_grade,
                offsets.astype(np.int64),
                members.astype(np.int32),
                _timetables(world, [c for c in range(classes) if class_year[c] == year_index], rng),
            )
        )


def _timetables(
    world: World, classes: list[int], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """A weekly timetable per class: subjects spread over the days, times with breaks/lunch.

    Lessons are placed greedily, slot by slot: the first remaining lesson whose teacher is free
    then (and, if possible, whose subject is not already on that day) takes the slot, so
    teachers are rarely double-booked.
    """
    columns = ("class", "weekday", "slot", "slots", "subject", "group", "teacher", "start",
               "minutes")  # fmt: skip
    rows: dict[str, list[int]] = {k: [] for k in columns}
    busy: dict[int, np.ndarray] = {}  # teacher → (weekday, 5-minute step of the day)
    for c in classes:
        grade = int(world.class_grade[c])
        slots_per_day, counts = PLAN[grade]
        week = [code for code, count in counts.items() for _ in range(count)]
        remaining = [week[i] for i in rng.permutation(len(week))]
        day_start = 8 * 60 + int(rng.choice([0, 10, 15, 20, 30]))
        for weekday, slots in enumerate(slots_per_day):
            clock, had_lunch = day_start, False
            today: set[str] = set()
            for slot in range(slots):
                best = None
                for rank, code in enumerate(remaining):
                    teacher = int(world.subject_teacher[c, SUBJECT_INDEX[code]])
                    steps = busy.setdefault(teacher, np.zeros((5, 288), dtype=bool))
                    span = slice(clock // 5, (clock + lesson_minutes(grade, code)) // 5)
                    if not steps[weekday, span].any():
                        if code not in today:
                            best = rank
                            break
                        if best is None:
                            best = rank
                code = remaining.pop(best if best is not None else 0)
                today.add(code)
                subject = SUBJECT_INDEX[code]
                minutes = lesson_minutes(grade, code)
                teacher = int(world.subject_teacher[c, subject])
                busy[teacher][weekday, clock // 5 : (clock + minutes) // 5] = True
                for key, value in (
                    ("class", c), ("weekday", weekday), ("slot", slot), ("slots", slots),
                    ("subject", subject), ("group", int(world.subject_group[c, subject])),
                    ("teacher", teacher), ("start", clock), ("minutes", minutes),
                ):  # fmt: skip
                    rows[key].append(value)
                clock += minutes
                if not had_lunch and clock >= 11 * 60:
                    clock, had_lunch = clock + 40, True  # lunch
                else:
                    clock += 10 if grade >= 4 else 15  # break (rast)
    dtypes = {"minutes": np.int16, "slot": np.int8, "slots": np.int8, "weekday": np.int8}
    return {k: np.array(v, dtype=dtypes.get(k, np.int64)) for k, v in rows.items()}
