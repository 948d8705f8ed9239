"""Pupils and their families: who is enrolled in which grade each year (cohorts, moves in and
out, year-9 leavers), and the fictional names, addresses and identities they carry."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fullfolj.lib import personnummer

from . import names
from .organisation import Organisation
from .parameters import Parameters
from .school_calendar import Calendar, from_epoch_day
from .world import OPEN_END

VILLAGES = ("Bäckeby", "Ekhult", "Stensjö", "Lövnäs", "Kärrbacka", "Hällered", "Mossby",
            "Ängstorp", "Lindhult", "Sandnäs", "Björkered", "Holmsjö")  # fmt: skip


@dataclass
class Families:
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
class Enrolment:
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
) -> tuple[Families, np.ndarray, np.ndarray, list[Enrolment]]:
    """Who is enrolled in which grade each year: cohorts, moves in and out, year-9 leavers.

    Returns families, each pupil's family, each pupil's grade-0 year offset (for birth dates)
    and one enrolment per school year.
    """
    families = Families()
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
    enrolments: list[Enrolment] = []
    previous: Enrolment | None = None
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
        enrolment = Enrolment(
            np.concatenate([pupil, arrivals]),
            np.concatenate([grades, arrival_grades]).astype(np.int8),
            np.concatenate([starts, rng.choice(window, size=arriving)]).astype(np.int32),
            np.concatenate([ends, arrival_ends]).astype(np.int32),
        )
        enrolments.append(enrolment)
        previous = Enrolment(
            enrolment.pupil,
            enrolment.grade,
            enrolment.start,
            np.where(enrolment.end == OPEN_END, end_day, enrolment.end),
        )
    return families, np.array(pupil_family), np.array(pupil_cohort), enrolments


# --- names and identities -----------------------------------------------------------------


def pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def street_address(org: Organisation, municipality: int, rng: np.random.Generator) -> str:
    """A Swedish-style fictional address: street, number, postcode and town."""
    index = org.municipalities.index(municipality)
    town = names.MUNICIPALITIES[index] if rng.random() < 0.75 else pick(VILLAGES, rng)
    postcode = f"{430 + 3 * index + int(rng.integers(0, 3))} {int(rng.integers(10, 99)):02d}"
    return f"{pick(names.STREETS, rng)} {int(rng.integers(1, 80))}, {postcode} {town}"


def phone_number(rng: np.random.Generator) -> str:
    digits = rng.integers(0, 10, size=7)
    prefix = pick(("070", "072", "073", "076", "079"), rng)
    return (
        f"{prefix}-{''.join(map(str, digits[:3]))} {''.join(map(str, digits[3:5]))} "
        f"{''.join(map(str, digits[5:]))}"
    )


def guardian_email(
    first: str, last: str, params: Parameters, rng: np.random.Generator
) -> str | None:
    """A guardian's e-mail: some missing, a few malformed so bounce handling can be exercised."""
    draw = rng.random()
    if draw < params.email_missing_share:
        return None
    local = f"{names.ascii_fold(first)}.{names.ascii_fold(last)}"
    domain = pick(names.EMAIL_DOMAINS, rng)
    if draw < params.email_missing_share + params.email_malformed_share:
        return pick((f"{local}@", f"{local}.{domain}", f"{local}@{domain.replace('.', '')}"), rng)
    return f"{local}{int(rng.integers(1, 99)) if rng.random() < 0.3 else ''}@{domain}"


def unique_personnummer(
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
