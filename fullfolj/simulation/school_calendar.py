"""The school calendar: school years, terms, holidays and study days per organiser.

Swedish practice (Skolförordningen 3 kap. 3 §: at least 178 school days, autumn and spring term):
HT from a Monday in mid/late August to just before Christmas, VT from about 8 January to mid-June.
Höstlov is week 44 nearly everywhere; sportlov is week 7, 8 or 9 depending on the region;
påsklov is the week after Easter in most municipalities, the week before in some; public
holidays (Långfredagen, Första maj, Kristi himmelsfärd, Nationaldagen) and a few study days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def epoch_day(date: dt.date) -> int:
    """Days since 1970-01-01: how the engine handles dates in numpy."""
    return (date - EPOCH).days


def from_epoch_day(day: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(day))


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lo = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lo) // 451
    month, day = divmod(h + lo - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def iso_week_monday(year: int, week: int) -> dt.date:
    """The Monday of ISO week `week` of `year`."""
    return dt.date.fromisocalendar(year, week, 1)


@dataclass(frozen=True)
class Term:
    """One term (termin): HT or VT."""

    id: int
    school_year_id: int
    kind: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class SchoolYear:
    """One school year (läsår), from the first day of HT to the last day of VT."""

    id: int
    name: str
    start: dt.date
    end: dt.date
    terms: tuple[Term, Term]


def build_school_years(first_year: int, years: int) -> list[SchoolYear]:
    """School years from `first_year`/`first_year + 1` on, with their two terms."""
    result = []
    for index in range(years):
        year = first_year + index
        august = dt.date(year, 8, 15)
        ht_start = august + dt.timedelta(days=(7 - august.weekday()) % 7)  # Monday ≥ 15 Aug
        ht_end = dt.date(year, 12, 20)
        while ht_end.weekday() >= 5:
            ht_end -= dt.timedelta(days=1)
        vt_start = dt.date(year + 1, 1, 8)
        while vt_start.weekday() >= 5:
            vt_start += dt.timedelta(days=1)
        vt_end = dt.date(year + 1, 6, 14)
        while vt_end.weekday() != 4:  # the last Friday on or before 14 June
            vt_end -= dt.timedelta(days=1)
        year_id = index + 1
        terms = (
            Term(2 * index + 1, year_id, "HT", ht_start, ht_end),
            Term(2 * index + 2, year_id, "VT", vt_start, vt_end),
        )
        name = f"{year}/{(year + 1) % 100:02d}"
        result.append(SchoolYear(year_id, name, ht_start, vt_end, terms))
    return result


def _weekdays(start: dt.date, count: int) -> list[dt.date]:
    return [start + dt.timedelta(days=offset) for offset in range(count)]


def organiser_days_off(
    school_year: SchoolYear, rng: np.random.Generator, sportlov_week: int
) -> list[tuple[dt.date, str, str]]:
    """Holidays and study days of one organiser in one school year: (date, kind, name)."""
    ht, vt = school_year.terms
    autumn, spring = ht.start.year, vt.start.year
    days: list[tuple[dt.date, str, str]] = []
    days += [(d, "holiday", "Höstlov") for d in _weekdays(iso_week_monday(autumn, 44), 5)]
    days += [
        (d, "holiday", "Sportlov") for d in _weekdays(iso_week_monday(spring, sportlov_week), 5)
    ]
    easter = easter_sunday(spring)
    days.append((easter - dt.timedelta(days=2), "holiday", "Långfredagen"))
    if rng.random() < 0.7:  # påsklov the week after Easter, Annandag påsk included
        days += [(d, "holiday", "Påsklov") for d in _weekdays(easter + dt.timedelta(days=1), 5)]
    else:
        days += [(d, "holiday", "Påsklov") for d in _weekdays(easter - dt.timedelta(days=6), 4)]
        days.append((easter + dt.timedelta(days=1), "holiday", "Annandag påsk"))
    days.append((dt.date(spring, 5, 1), "holiday", "Första maj"))
    ascension = easter + dt.timedelta(days=39)
    days.append((ascension, "holiday", "Kristi himmelsfärd"))
    days.append((ascension + dt.timedelta(days=1), "holiday", "Lovdag"))  # the klämdag
    days.append((dt.date(spring, 6, 6), "holiday", "Nationaldagen"))
    taken = {d for d, _, _ in days}
    # Four study days a year, in weeks without holidays, on a weekday the organiser picks.
    for year, weeks in (
        (autumn, (38, 41)),
        (autumn, (46, 48)),
        (spring, (4, 5)),
        (spring, (11, 13)),
    ):
        for _attempt in range(10):
            week = int(rng.integers(weeks[0], weeks[1] + 1))
            day = iso_week_monday(year, week) + dt.timedelta(days=int(rng.integers(0, 5)))
            if day not in taken:
                days.append((day, "study_day", "Studiedag"))
                taken.add(day)
                break
    in_term = [
        (d, kind, name)
        for d, kind, name in days
        if d.weekday() < 5 and any(t.start <= d <= t.end for t in school_year.terms)
    ]
    unique: dict[dt.date, tuple[dt.date, str, str]] = {}
    for item in in_term:
        unique.setdefault(item[0], item)
    return sorted(unique.values())


@dataclass
class Calendar:
    """School days per organiser as arrays indexed by day number - `first_day`."""

    school_years: list[SchoolYear]
    first_day: int  # epoch day of the Monday of the first term's first week
    school_day: np.ndarray  # bool (organisers, days): a school day for that organiser
    near_break: np.ndarray  # bool (organisers, days): school day next to a break
    term_id: np.ndarray  # int64 (days): term id, 0 outside terms
    year_index: np.ndarray  # int64 (days): index into school_years, -1 outside terms
    days_off: list[tuple[int, dt.date, str, str]]  # (organiser index, date, kind, name)
    weeks: list[int]  # epoch day of each Monday with a school day for some organiser

    @property
    def days(self) -> int:
        return int(self.school_day.shape[1])

    def first_school_day_from(self, organiser: int, day: int) -> int:
        """The organiser's first school day on or after epoch day `day` (or -1)."""
        index = max(day - self.first_day, 0)
        later = np.flatnonzero(self.school_day[organiser, index:])
        return int(later[0]) + index + self.first_day if later.size else -1


def build_calendar(
    school_years: list[SchoolYear],
    organisers: int,
    rng: np.random.Generator,
    sportlov_weeks: list[int],
) -> Calendar:
    """Holidays per organiser and the resulting school-day matrix."""
    first = school_years[0].start
    first_day = epoch_day(first - dt.timedelta(days=first.weekday()))
    last_day = epoch_day(school_years[-1].end)
    days = last_day - first_day + 1
    term_id = np.zeros(days, dtype=np.int64)
    year_index = np.full(days, -1, dtype=np.int64)
    weekday = (np.arange(days) + first_day + 3) % 7  # 1970-01-01 was a Thursday
    for index, school_year in enumerate(school_years):
        for term in school_year.terms:
            lo, hi = epoch_day(term.start) - first_day, epoch_day(term.end) - first_day
            term_id[lo : hi + 1] = term.id
            year_index[lo : hi + 1] = index
    base = (term_id > 0) & (weekday < 5)
    school_day = np.repeat(base[None, :], organisers, axis=0)
    days_off = []
    for organiser in range(organisers):
        for school_year in school_years:
            for date, kind, name in organiser_days_off(school_year, rng, sportlov_weeks[organiser]):
                days_off.append((organiser, date, kind, name))
                school_day[organiser, epoch_day(date) - first_day] = False
    # A school day is "near a break" when the weekday before or after it is not a school day.
    weekday_rows = np.flatnonzero(weekday < 5)
    near_break = np.zeros_like(school_day)
    on_weekdays = school_day[:, weekday_rows]
    before = np.concatenate([np.zeros((organisers, 1), bool), on_weekdays[:, :-1]], axis=1)
    after = np.concatenate([on_weekdays[:, 1:], np.zeros((organisers, 1), bool)], axis=1)
    near_break[:, weekday_rows] = on_weekdays & ~(before & after)
    mondays = np.arange(0, days, 7)
    weeks = [
        int(first_day + monday) for monday in mondays if school_day[:, monday : monday + 7].any()
    ]
    return Calendar(
        school_years, first_day, school_day, near_break, term_id, year_index, days_off, weeks
    )
