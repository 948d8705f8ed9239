"""Screening indicators, rules and flags for every pupil at an as-of date (Polars, no Django).

The input is the per-pupil, per-day attendance aggregate the product keeps in step with the
lesson register (`attendance_pupilday`: pupil_id, organiser_id, date, lessons,
scheduled_minutes, absent_minutes, valid_minutes, invalid_minutes, unknown_minutes,
late_minutes, late_count), never the lesson rows (issue 5, "Speed"). The attendance
indicators are one pass over that frame in (pupil, date) order: the dates are cut at every
window boundary, each pupil's rows in a segment are summed with `np.add.reduceat` (contiguous,
so no hashing or sorting) and a window adds up its segments; the longest whole-day run comes
from the row numbers of the whole-day rows. Nothing loops over pupils or rows in Python.
A window counts calendar days or school days (`Window.school`: the dates with lessons in the
aggregate, so "the last 20 school days" reaches back over a holiday); either way it is a span of
dates by the time it is summed.

Optional inputs, each a frame with the columns named in `compute_indicators`:

- `subject_weeks`, the second kept aggregate this module proposes (`attendance_pupilsubjectweek`):
  pupil_id, subject_id, week (the ISO week's Monday), scheduled_minutes, absent_minutes,
  invalid_minutes; kept up to date in the same transaction as `attendance_pupilday`, so the
  subject concentration needs no lesson scan either (one row per pupil, subject and week: about
  three times the rows of the daily aggregate in a term);
- `grades` (pupil_id, subject_code, term_id, grade "A".."F" or "-", term_end),
- `warnings` (pupil_id, subject_code, date): mid-term "risk för F",
- `placements` (pupil_id, school_id, start, end; optional grade): the pupil's school and year
  (årskurs) at the as-of date and changes of school;
- `support` (pupil_id, start, end): support or action in place for the pupil from `start` to
  `end` (null: still open), e.g. an open absence-ladder task until cases and measures exist.

Every threshold is compared in integer arithmetic (DOMAIN.md "Attendance"; issue 5 "Speed"): an
indicator's value is a fraction `num / den` of two integer columns and a rule's threshold a
decimal `p / q`, so `value >= threshold` is `num * q >= p * den`. Minutes stay integers and no
engine differs from another by rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

import numpy as np
import polars as pl

from fullfolj.attendance.columnar import DAY_COLUMNS

# --- Windows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A span of calendar days ending `offset` days before the as-of date; `days=None`: the term.

    `Window(28)` is the 28 days up to and including the as-of date ("de senaste fyra veckorna"),
    `Window(28, 28)` the 28 days before those. With `school=True` both are counted in school
    days (days with lessons in the kept aggregate): `Window(20, school=True)` is the last 20
    school days, reaching back over a holiday, so the first weeks of a term still compare a
    pupil's recent days with their own normal (`school_day_bounds`).
    """

    days: int | None
    offset: int = 0
    school: bool = False

    @property
    def key(self) -> str:
        """The column prefix of this window in the indicators frame: term, 28d, 28d_28, 20s."""
        if self.days is None:
            return "term"
        unit = "s" if self.school else "d"
        return f"{self.days}{unit}" if not self.offset else f"{self.days}{unit}_{self.offset}"

    @classmethod
    def from_key(cls, key: str) -> Window:
        """The window named by `key` (the inverse of `Window.key`)."""
        if key == "term":
            return TERM
        days, _, offset = key.partition("_")
        if (
            days[-1:] not in ("d", "s")
            or not days[:-1].isdigit()
            or (offset and not offset.isdigit())
        ):
            raise ValueError(
                f"Okänt fönster {key!r}: ange term, 28d, 28d_28 eller skoldagar som 20s, 120s_20."
            )
        return cls(int(days[:-1]), int(offset or 0), school=days.endswith("s"))

    def bounds(
        self, as_of: dt.date, term_start: dt.date, school_days: np.ndarray | None = None
    ) -> tuple[dt.date, dt.date]:
        """First and last date of the window (inclusive); a school-day window needs the school
        days (`school_days_of`: epoch days, ascending) up to `as_of`."""
        if self.days is None:
            return term_start, as_of
        if self.school:
            if school_days is None:
                raise ValueError(f"Fönstret {self.key} räknas i skoldagar: ange skoldagarna.")
            start, end = school_day_bounds(self, _epoch(as_of), school_days)
            return _date(start), _date(end)
        end = as_of - dt.timedelta(days=self.offset)
        return end - dt.timedelta(days=self.days - 1), end

    @property
    def before(self) -> Window:
        """The window of the same length just before this one (for a trend)."""
        if self.days is None:
            raise ValueError("En trend behöver ett fönster i dagar, inte terminen.")
        return Window(self.days, self.offset + self.days, self.school)

    @property
    def reach(self) -> int:
        """School days back from the as-of date that a school-day window reaches (0 else)."""
        return (self.days or 0) + self.offset if self.school else 0

    def label(self) -> str:
        """Swedish, as it reads after a figure: "de senaste fyra veckorna", "denna termin"."""
        if self.days is None:
            return "denna termin"
        span = _span(self.days, self.school)
        if not self.offset:
            return f"{_SENASTE[span[0]]} {span[1]}"
        later = _span(self.offset, self.school)
        return f"{_DEFINITE[span[0]]} {span[1]} före {_SENASTE[later[0]]} {later[1]}"


def school_day_bounds(window: Window, as_of: int, school_days: np.ndarray) -> tuple[int, int]:
    """First and last epoch day of a school-day window at `as_of` (epoch day).

    The window holds the `days` school days that end `offset` school days before the last one
    up to `as_of`; it starts on its first school day and ends the day before the next window's
    first school day (or on `as_of`), so consecutive windows meet without a gap. With fewer
    school days it starts on the first there is; one that holds none is the day before the first.
    """
    days = window.days or 0
    known = school_days[: np.searchsorted(school_days, as_of, side="right")]
    last = len(known) - window.offset  # index just after the window's last school day
    if last <= 0:
        empty = int(known[0]) - 1 if len(known) else as_of - window.offset
        return empty, empty
    end = as_of if window.offset == 0 else int(known[last]) - 1
    return int(known[max(last - days, 0)]), end


def school_days_of(days: pl.DataFrame | pl.LazyFrame, as_of: dt.date) -> np.ndarray:
    """The school days up to `as_of` in a pupil-day frame: the dates with scheduled lessons,
    as ascending epoch days (the calendar a school-day window counts in)."""
    dates = (
        days.lazy()
        .filter((pl.col("date") <= as_of) & (pl.col("scheduled_minutes") > 0))
        .select(pl.col("date").unique().sort())
        .collect()
    )
    return dates["date"].to_physical().to_numpy().astype(np.int64)


def school_day_reach(windows: Iterable[Window]) -> int:
    """How many school days back the school-day windows reach (0: none is counted so)."""
    return max((w.reach for w in windows), default=0)


_NUMBER_WORDS = (
    "",
    "en",
    "två",
    "tre",
    "fyra",
    "fem",
    "sex",
    "sju",
    "åtta",
    "nio",
    "tio",
    "elva",
    "tolv",
)
_SENASTE = {"one": "den senaste", "many": "de senaste"}
_DEFINITE = {"one": "den", "many": "de"}


def _span(days: int, school: bool = False) -> tuple[str, str]:
    """("one"|"many", "veckan" / "fyra veckorna" / "10 dagarna" / "20 skoldagarna")."""
    if school:
        return ("one", "skoldagen") if days == 1 else ("many", f"{days} skoldagarna")
    if days % 7 == 0:
        weeks = days // 7
        if weeks == 1:
            return "one", "veckan"
        word = _NUMBER_WORDS[weeks] if weeks < len(_NUMBER_WORDS) else str(weeks)
        return "many", f"{word} veckorna"
    if days == 1:
        return "one", "dagen"
    return "many", f"{days} dagarna"


TERM = Window(None)
LAST_4W = Window(28)
PREV_4W = LAST_4W.before
DEFAULT_WINDOWS: tuple[Window, ...] = (TERM, LAST_4W, PREV_4W)
MAX_WINDOW_DAYS = 366


class NoSchoolDaysError(ValueError):
    """A screening date with no school days to screen (issue 5, "Bad input")."""


# --- Grade rules --------------------------------------------------------------------------


def _default_points() -> dict[str, Decimal]:
    return {
        "A": Decimal(20),
        "B": Decimal("17.5"),
        "C": Decimal(15),
        "D": Decimal("12.5"),
        "E": Decimal(10),
        "F": Decimal(0),
        "-": Decimal(0),
    }


def _default_programmes() -> dict[str, frozenset[str]]:
    return {
        "ES": frozenset(),  # estetiska programmet: no subjects beyond the twelve
        "EK/HU/SA": frozenset({"GE", "HI", "RE", "SH"}),
        "NA/TE": frozenset({"BI", "FY", "KE"}),
    }


@dataclass(frozen=True)
class GradeRules:
    """Meritvärde and eligibility (gymnasiebehörighet), configurable per municipality.

    Defaults from DOMAIN.md "Grades and eligibility" (Skollagen 15 kap., gymnasieförordningen):
    points A 20 … E 10, F and "–" 0; meritvärde = the 16 best subjects plus a modern language as
    a 17th if it raises the sum (max 340); vocational programmes need Swedish or SVA, English,
    mathematics and 5 more passed subjects (8 in all); preparatory programmes those 3 and 9 more
    (12), the programme's own subjects among them.
    """

    points: Mapping[str, Decimal] = field(default_factory=_default_points)
    passing: frozenset[str] = frozenset("ABCDE")
    best_count: int = 16
    seventeenth: frozenset[str] = frozenset({"M2"})  # counted as a 17th if it raises the sum
    swedish: frozenset[str] = frozenset({"SV", "SVA"})  # one of them must be passed
    core: frozenset[str] = frozenset({"EN", "MA"})  # each must be passed
    vocational_passed: int = 8
    preparatory_passed: int = 12
    preparatory_programmes: Mapping[str, frozenset[str]] = field(
        default_factory=_default_programmes
    )

    def __post_init__(self) -> None:
        for grade, points in self.points.items():
            if (Decimal(points) * 10) % 1 or points < 0:
                raise ValueError(f"Poäng för {grade} måste vara ≥ 0 med högst en decimal.")
        if not self.passing <= set(self.points):
            raise ValueError("Varje godkänt betyg behöver poäng.")

    @property
    def points_x10(self) -> dict[str, int]:
        """Points in tenths, so sums stay integers (17.5 → 175)."""
        return {grade: int(Decimal(p) * 10) for grade, p in self.points.items()}

    @property
    def max_merit_x10(self) -> int:
        top = max(self.points_x10.values())
        return top * (self.best_count + (1 if self.seventeenth else 0))


# --- Indicators ---------------------------------------------------------------------------

Unit = Literal["percent", "pp", "count", "points", "bool", "score"]


@dataclass(frozen=True)
class Indicator:
    """One screening indicator: its unit, the range a threshold may take, and its Swedish text."""

    name: str
    unit: Unit
    low: Decimal
    high: Decimal
    windowed: bool
    text: str  # Swedish explanation; {value} {window} {threshold} {detail} are filled in


def _indicator(
    name: str, unit: Unit, low: float, high: float, windowed: bool, text: str
) -> Indicator:
    return Indicator(name, unit, Decimal(str(low)), Decimal(str(high)), windowed, text)


INDICATORS: dict[str, Indicator] = {i.name: i for i in (
    _indicator("absence_total", "percent", 0, 100, True, "Frånvaro {value} {window}"),
    _indicator("absence_valid", "percent", 0, 100, True, "Giltig frånvaro {value} {window}"),
    _indicator("absence_invalid", "percent", 0, 100, True, "Ogiltig frånvaro {value} {window}"),
    _indicator("absence_unknown", "percent", 0, 100, True,
               "Ej bedömd frånvaro {value} {window}"),
    _indicator("absence_trend", "pp", -100, 100, True, "Frånvaron {change} {window} jämfört "
               "med {before}"),
    _indicator("invalid_trend", "pp", -100, 100, True, "Den ogiltiga frånvaron {change} "
               "{window} jämfört med {before}"),
    _indicator("whole_day_run", "count", 0, 200, True,
               "Frånvarande hela dagen {value} skoldagar i rad {window}"),
    _indicator("whole_days", "count", 0, 200, True,
               "Frånvarande hela dagen {value} skoldagar {window}"),
    _indicator("skip_days", "count", 0, 200, True,
               "Ogiltigt frånvarande från enstaka lektioner {value} skoldagar {window}"),
    _indicator("skipped_lessons", "count", 0, 2000, True,
               "Ogiltigt frånvarande från omkring {value} lektioner {window}, utöver hela dagar"),
    _indicator("late_count", "count", 0, 1000, True, "Sen ankomst {value} gånger {window}"),
    _indicator("irregular_days", "count", 0, 200, True,
               "Ogiltig frånvaro eller sen ankomst {value} skoldagar {window}"),
    _indicator("irregular_share", "percent", 0, 100, True,
               "Ogiltig frånvaro eller sen ankomst {value} av skoldagarna {window}"),
    _indicator("irregular_trend", "pp", -100, 100, True, "Andelen skoldagar med ogiltig "
               "frånvaro eller sen ankomst {change} {window} jämfört med {before}"),
    _indicator("late_skip_trend", "score", 0, 100, True, "{detail} {window}, mot elevens egen "
               "nivå under {before}: avvikelse {value}"),
    _indicator("weekday_concentration", "percent", 0, 100, True,
               "{value} av frånvaron på {detail} {window}"),
    _indicator("subject_concentration", "pp", -100, 100, True,
               "Frånvaron i {detail} är {value} högre än i alla ämnen {window}"),
    _indicator("f_grades", "count", 0, 30, False, "{value} betyg F eller – i senaste betygen"),
    _indicator("f_warnings", "count", 0, 30, False, "Varning om F i {value} ämnen denna termin"),
    _indicator("failing_subjects", "count", 0, 30, False,
               "F, – eller varning om F i {value} ämnen"),
    _indicator("passed_subjects", "count", 0, 30, False,
               "Godkänd i {value} ämnen i senaste betygen"),
    _indicator("vocational_eligible", "bool", 0, 1, False,
               "{eligible} till yrkesprogram enligt senaste betygen"),
    _indicator("preparatory_eligible", "bool", 0, 1, False,
               "{eligible} till högskoleförberedande program enligt senaste betygen"),
    _indicator("merit_value", "points", 0, 340, False, "Meritvärde {value}"),
    _indicator("school_changes", "count", 0, 50, False,
               "Bytt skola {value} gånger de senaste 12 månaderna"),
    _indicator("support_in_place", "count", 0, 50, False,
               "{value} pågående stöd eller åtgärder"),
)}  # fmt: skip

WEEKDAYS_SV = ("måndagar", "tisdagar", "onsdagar", "torsdagar", "fredagar")
_SUM_NAMES = {  # aggregate column -> indicator figure
    "scheduled_minutes": "scheduled",
    "absent_minutes": "absent",
    "valid_minutes": "valid",
    "invalid_minutes": "invalid",
    "unknown_minutes": "unknown",
    "late_minutes": "late_minutes",
    "late_count": "late_count",
}
_EPOCH = dt.date(1970, 1, 1)


def _epoch(day: dt.date) -> int:
    """Days since 1970-01-01: Polars' physical value of a Date."""
    return (day - _EPOCH).days


def _date(epoch: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=epoch)


_ABSENCE_COLUMN = {
    "absence_total": "absent",
    "absence_valid": "valid",
    "absence_invalid": "invalid",
    "absence_unknown": "unknown",
}


def windows_for(rules: Iterable[Rule]) -> tuple[Window, ...]:
    """The windows `compute_indicators` needs for `rules` (and the defaults)."""
    needed = list(DEFAULT_WINDOWS)
    for rule in rules:
        for condition in (rule, *rule.also):
            if condition.window is not None:
                needed.append(condition.window)
            if condition.indicator.endswith("_trend") and condition.window is not None:
                needed.append(condition.baseline or condition.window.before)
    return tuple(dict.fromkeys(needed))


def compute_indicators(
    days: pl.DataFrame | pl.LazyFrame | None,
    *,
    as_of: dt.date,
    term_start: dt.date,
    windows: Sequence[Window] = DEFAULT_WINDOWS,
    subject_weeks: pl.DataFrame | pl.LazyFrame | None = None,
    grades: pl.DataFrame | pl.LazyFrame | None = None,
    warnings: pl.DataFrame | pl.LazyFrame | None = None,
    placements: pl.DataFrame | pl.LazyFrame | None = None,
    grade_rules: GradeRules | None = None,
    min_subject_minutes: int = 120,
    support: pl.DataFrame | pl.LazyFrame | None = None,
    attendance: pl.DataFrame | None = None,
    school_days: np.ndarray | None = None,
) -> pl.DataFrame:
    """Every indicator for every pupil at `as_of`, one row per pupil (issue 5, "Indicators").

    `attendance`, instead of `days` (then None): the attendance sums kept from one school day
    to the next by `screening.nightly.NightlyIndicators` for these windows. School-day windows
    count in `school_days` (epoch days, ascending; default: the dates of `days`).

    Pupils are those placed at `as_of` when `placements` is given, else those with a school day
    in any window. Per window `w` (prefix `w.key`): `_days`, `_scheduled`, `_absent`, `_valid`,
    `_invalid`, `_unknown` (minutes), `_late_count`, `_late_minutes`, `_whole_days`,
    `_longest_run` (consecutive school days wholly absent: absent >= scheduled > 0; a run counts
    the pupil's days present in the aggregate, so weekends and holidays neither count nor break
    it), `_weekday_top` (1 = Monday) and `_weekday_absent` (absent minutes on that weekday), and
    with `subject_weeks` `_subject_id`, `_subject_num`, `_subject_den` (the subject whose
    absence rate most exceeds the pupil's rate in all subjects, in percentage points as
    num/den; whole ISO weeks that ended by `as_of` and overlap the window; subjects with fewer
    than `min_subject_minutes` scheduled are left out).

    Grades give `has_grades`, `f_grades` (F or "–" in the latest term with grades, term_end <=
    as_of), `passed_subjects`, `merit_x10` (meritvärde in tenths), `vocational_eligible` and
    `preparatory_eligible`; warnings `f_warnings` (subjects warned since `term_start`) and with
    grades `failing_subjects` (subjects with either); placements `school_id`, `grade` (if the
    frame has it) and `school_changes` (placements starting in the 365 days up to `as_of` at a
    different school from the pupil's previous placement); support `support_in_place` (rows
    open at `as_of`: start <= as_of and end null or after it).

    Raises NoSchoolDaysError when the term up to `as_of` has no school days in the last 28 days.
    """
    if as_of < term_start:
        raise NoSchoolDaysError(f"Screeningdagen {as_of} ligger före terminens start {term_start}.")
    windows = list(dict.fromkeys([*windows, LAST_4W]))
    for window in windows:
        _check_window(window)
    if school_days is None and school_day_reach(windows):
        if days is None:
            raise ValueError("compute_indicators: school-day windows need the school days.")
        school_days = school_days_of(days, as_of)
    bounds = {w.key: w.bounds(as_of, term_start, school_days) for w in windows}
    if attendance is None:
        if days is None:
            raise ValueError("compute_indicators needs the days or their attendance sums.")
        attendance = _attendance_sums(days, bounds)
    recent_start = max(term_start, as_of - dt.timedelta(days=27))
    if not attendance.height or not attendance.filter(pl.col("recent_days") > 0).height:
        raise NoSchoolDaysError(
            f"Inga skoldagar mellan {recent_start} och {as_of}: screeningen behöver närvaro "
            "från terminens senaste fyra veckor (välj en dag under terminen)."
        )
    frame = attendance.drop("recent_days")

    if placements is not None:
        placed = _placements(placements.lazy(), as_of).collect()
        frame = placed.join(frame, on="pupil_id", how="left").with_columns(
            pl.col(c).fill_null(0)
            for c in frame.columns
            if c != "pupil_id" and not c.endswith("_weekday_top")
        )
    if subject_weeks is not None:
        for window in windows:
            start, end = bounds[window.key]
            frame = frame.join(
                _subject_concentration(
                    subject_weeks.lazy(), window.key, start, end, as_of, min_subject_minutes
                ).collect(),
                on="pupil_id",
                how="left",
            )
    rules = grade_rules or GradeRules()
    if grades is not None:
        frame = frame.join(
            _grade_indicators(grades.lazy(), as_of, rules).collect(), on="pupil_id", how="left"
        )
        frame = frame.with_columns(pl.col("has_grades").fill_null(False))
    empty = pl.lit([], pl.List(pl.Utf8))
    if warnings is not None:
        warned = (
            warnings.lazy()
            .filter(pl.col("date").is_between(term_start, as_of))
            .group_by(pl.col("pupil_id").cast(pl.Int64))
            .agg(
                f_warnings=pl.col("subject_code").n_unique().cast(pl.Int64),
                warned_subjects=pl.col("subject_code").unique(),
            )
            .collect()
        )
        frame = frame.join(warned, on="pupil_id", how="left").with_columns(
            pl.col("f_warnings").fill_null(0)
        )
    if support is not None:
        open_now = (
            support.lazy()
            .filter(
                (pl.col("start") <= as_of) & (pl.col("end").is_null() | (pl.col("end") > as_of))
            )
            .group_by(pl.col("pupil_id").cast(pl.Int64))
            .agg(support_in_place=pl.len().cast(pl.Int64))
            .collect()
        )
        frame = frame.join(open_now, on="pupil_id", how="left").with_columns(
            pl.col("support_in_place").fill_null(0)
        )
    lists = [
        pl.col(c).fill_null(empty)
        for c in ("failed_subjects", "warned_subjects")
        if c in frame.columns
    ]
    if lists:
        frame = frame.with_columns(
            failing_subjects=pl.concat_list(*lists, empty).list.unique().list.len().cast(pl.Int64)
        ).drop("failed_subjects", "warned_subjects", strict=False)
    return frame.sort("pupil_id")


def _check_window(window: Window) -> None:
    if window.days is not None and not 0 < window.days <= MAX_WINDOW_DAYS:
        raise ValueError(f"Fönstret måste vara 1–{MAX_WINDOW_DAYS} dagar, inte {window.days}.")
    if window.offset < 0:
        raise ValueError("Ett fönster kan inte sluta efter screeningdagen.")


def _attendance_sums(
    days: pl.DataFrame | pl.LazyFrame, bounds: Mapping[str, tuple[dt.date, dt.date]]
) -> pl.DataFrame:
    """Per pupil and window: the summed minutes, day counts, weekday peak and longest run.

    One Polars pass filters the school days and packs each day's figures (`_packed`); the
    dates are cut at every window boundary and, the rows being in (pupil, date) order, each
    pupil's rows in one segment are contiguous and summed once with `np.add.reduceat`; a window
    adds up its segments. No hash grouping, no Python loop over pupils.
    """
    spans = {key: (_epoch(start), _epoch(end) + 1) for key, (start, end) in bounds.items()}
    cuts = np.unique([edge for span in spans.values() for edge in span])
    first, last = _date(int(cuts[0])), _date(int(cuts[-1]) - 1)
    stats = _day_stats(days.lazy())
    school_days = days.lazy()
    if not (stats["first"] >= first and stats["last"] <= last and stats["scheduled"] > 0):
        # Filtering copies every column: skipped when the caller read just the dates needed,
        # and done once here rather than in each of the three passes below.
        school_days = (
            school_days.filter(
                pl.col("date").is_between(first, last) & (pl.col("scheduled_minutes") > 0)
            )
            .collect()
            .lazy()
        )
        stats = _day_stats(school_days)
    lanes = _LANES if stats["low"] >= 0 and stats["high"] <= MAX_DAY_FIGURE else 1
    base = school_days.select("pupil_id", "date", "absent_minutes", "scheduled_minutes").collect()
    pupil, epoch = base["pupil_id"].to_numpy(), base["date"].to_physical().to_numpy()
    same = pupil[1:] == pupil[:-1]
    if np.any(pupil[1:] < pupil[:-1]) or np.any(same & (epoch[1:] < epoch[:-1])):
        # The product reads PupilDay in (pupil, date) order (its unique index): a fallback.
        school_days = school_days.sort("pupil_id", "date")
        base = base.sort("pupil_id", "date")
        pupil, epoch = base["pupil_id"].to_numpy(), base["date"].to_physical().to_numpy()
    whole = base["absent_minutes"].to_numpy() >= base["scheduled_minutes"].to_numpy()
    # Every row lies inside the cuts: a lookup table by day is cheaper than a binary search.
    segment_of_day = np.repeat(np.arange(len(cuts) - 1, dtype=np.int16), np.diff(cuts))
    segment = segment_of_day[epoch - cuts[0]]
    change = (pupil[1:] != pupil[:-1]) | (segment[1:] != segment[:-1])
    starts = np.flatnonzero(np.concatenate(([True], change))) if len(pupil) else epoch[:0]
    lengths = np.diff(np.concatenate((starts, [len(pupil)])))
    if len(lengths) and lengths.max() > 367:  # a pupil with two rows a day
        lanes = 1
    summed = _segment_sums(school_days, starts, lanes)
    summed["days"] = lengths
    group_pupil, group_segment = pupil[starts], segment[starts]
    new_pupil = np.concatenate(([True], group_pupil[1:] != group_pupil[:-1]))[: len(starts)]
    pupils, row = group_pupil[new_pupil], np.cumsum(new_pupil) - 1
    grid: dict[str, np.ndarray] = {}  # figure -> (segments, pupils)
    for name, values in summed.items():
        grid[name] = np.zeros((len(cuts) - 1, len(pupils)), np.int64)
        grid[name][group_segment, row] = values

    out: dict[str, np.ndarray] = {"pupil_id": pupils.astype(np.int64)}
    whole_rows = np.flatnonzero(whole)
    for key, (start, end) in spans.items():
        a, b = np.searchsorted(cuts, start), np.searchsorted(cuts, end)
        window = {name: values[a:b].sum(axis=0) for name, values in grid.items()}
        counted = segment[whole_rows]
        rows = whole_rows[(counted >= a) & (counted < b)]
        out.update(window_columns(key, window, _longest_runs(rows, pupil[rows], pupils)))
    recent = spans[LAST_4W.key]
    first_recent = max(recent[0], spans.get(TERM.key, recent)[0])
    a, b = np.searchsorted(cuts, first_recent), np.searchsorted(cuts, recent[1])
    out["recent_days"] = grid["days"][a:b].sum(axis=0)
    return attendance_frame(out, list(spans))


WINDOW_SUMS = (
    "days", *_SUM_NAMES.values(), "whole_days", "skip_days", "skipped_lessons", "irregular_days"
)


def window_columns(
    key: str, window: Mapping[str, np.ndarray], longest_run: np.ndarray
) -> dict[str, np.ndarray]:
    """One window's columns of the indicators frame from its per-pupil sums (`days`, the
    figures of `day_figures`) and longest whole-day runs. Shared with `screening.nightly`."""
    out = {f"{key}_{name}": window[name] for name in WINDOW_SUMS}
    by_day = [window[f"wd{d}"] for d in range(1, 6)]
    best = np.maximum.reduce(by_day)
    top = np.zeros(len(best), np.int8)
    for weekday in range(5, 0, -1):  # the first weekday wins a tie, as argmax would pick it
        top[by_day[weekday - 1] == best] = weekday
    out[f"{key}_weekday_top"] = np.where(best > 0, top, 0).astype(np.int8)
    out[f"{key}_weekday_absent"] = best
    out[f"{key}_longest_run"] = longest_run
    return out


def attendance_frame(columns: Mapping[str, np.ndarray], keys: Iterable[str]) -> pl.DataFrame:
    """The attendance part of the indicators frame; a weekday peak of 0 (no absence) is null."""
    no_peak = [pl.col(f"{key}_weekday_top").replace(0, None) for key in keys]
    return pl.DataFrame(dict(columns)).with_columns(no_peak)


_LANE = 21  # bits per packed figure: 367 days of at most MAX_DAY_FIGURE stay under 2**21
_LANES = 3  # figures per int64
MAX_DAY_FIGURE = 1440  # minutes in a day; PupilDay's figures for one pupil and day stay below


def day_figures() -> dict[str, pl.Expr]:
    """Each figure summed per window, as a non-negative integer per pupil day (over PupilDay's
    columns and `date`; a window's `days` is its count of rows)."""
    whole = pl.col("absent_minutes") >= pl.col("scheduled_minutes")
    invalid_day = pl.col("invalid_minutes") > 0
    weekday = (pl.col("date").to_physical() + 3) % 7  # 0 = Monday: day 0 was a Thursday
    invalid, lessons = pl.col("invalid_minutes").cast(pl.Int64), pl.col("lessons").cast(pl.Int64)
    scheduled = pl.col("scheduled_minutes").cast(pl.Int64)
    # PupilDay keeps minutes, not lessons: invalid minutes in the day's average lesson length,
    # rounded half up, and at least one lesson where any was missed.
    lessons_missed = pl.max_horizontal(
        (2 * invalid * lessons + scheduled) // (2 * scheduled.clip(lower_bound=1)), 1
    )
    return {
        **{figure: pl.col(column) for column, figure in _SUM_NAMES.items()},
        "whole_days": whole,
        "skip_days": invalid_day & ~whole,
        "skipped_lessons": pl.when(invalid_day & ~whole).then(lessons_missed).otherwise(0),
        "irregular_days": invalid_day | (pl.col("late_count") > 0),
        **{
            f"wd{d + 1}": pl.when(weekday == d).then(pl.col("absent_minutes")).otherwise(0)
            for d in range(5)
        },
    }


def _day_stats(days: pl.LazyFrame) -> dict[str, object]:
    """First and last date, least scheduled minutes and the range of every day figure."""
    stats = days.select(
        first=pl.col("date").min(),
        last=pl.col("date").max(),
        scheduled=pl.col("scheduled_minutes").min(),
        low=pl.min_horizontal(pl.col(list(DAY_COLUMNS)).min()),
        high=pl.max_horizontal(pl.col(list(DAY_COLUMNS)).max()),
    ).collect()
    if stats["first"][0] is None:  # no rows: nothing can overflow
        return {"first": dt.date.max, "last": dt.date.min, "scheduled": 1, "low": 0, "high": 0}
    return stats.row(0, named=True)


def _segment_sums(
    school_days: pl.LazyFrame, starts: np.ndarray, lanes: int
) -> dict[str, np.ndarray]:
    """Each figure of `day_figures` summed over the rows from each start to the next.

    `lanes` figures share one int64 in 21-bit lanes, so one `reduceat` pass sums three of them
    (a pass costs about the same whatever it carries); Polars builds the packed columns in
    parallel.
    """
    figures = day_figures()
    names = list(figures)
    groups = [names[i : i + lanes] for i in range(0, len(names), lanes)]
    packed = school_days.select(
        pl.sum_horizontal(
            figures[name].cast(pl.Int64) * (1 << (_LANE * lane)) for lane, name in enumerate(group)
        ).alias(f"packed{i}")
        for i, group in enumerate(groups)
    ).collect()
    result: dict[str, np.ndarray] = {}
    mask = (1 << _LANE) - 1
    for group, column in zip(groups, packed.iter_columns(), strict=True):
        total = _reduce_chunks(column, starts)
        for lane, name in enumerate(group):
            result[name] = total if lanes == 1 else (total >> (_LANE * lane)) & mask
    return result


def _reduce_chunks(column: pl.Series, starts: np.ndarray) -> np.ndarray:
    """`np.add.reduceat(column, starts)` chunk by chunk: Polars hands its result over in many
    chunks, and joining them first would copy the column."""
    total = np.zeros(len(starts), np.int64)
    offset = 0
    for chunk in column.get_chunks():
        values = chunk.to_numpy()
        end = offset + len(values)
        if len(values):
            first = int(np.searchsorted(starts, offset, side="right")) - 1  # holds row `offset`
            last = int(np.searchsorted(starts, end))
            local = np.concatenate(([offset], starts[first + 1 : last])) - offset
            total[first:last] += np.add.reduceat(values, local)
        offset = end
    return total


def _longest_runs(rows: np.ndarray, owners: np.ndarray, pupils: np.ndarray) -> np.ndarray:
    """Longest run of consecutive school days wholly absent, for each of `pupils` (sorted).

    `rows` are the row numbers (in (pupil, date) order) of the whole days that count and
    `owners` their pupils: consecutive row numbers of one pupil are the pupil's consecutive
    school days, so weekends and days without lessons neither count nor break a run.
    """
    best = np.zeros(len(pupils), np.int64)
    if not len(rows):
        return best
    breaks = (rows[1:] != rows[:-1] + 1) | (owners[1:] != owners[:-1])
    starts = np.flatnonzero(np.concatenate(([True], breaks)))
    lengths = np.diff(np.concatenate((starts, [len(rows)])))
    run_owner = owners[starts]
    first = np.flatnonzero(np.concatenate(([True], run_owner[1:] != run_owner[:-1])))
    best[np.searchsorted(pupils, run_owner[first])] = np.maximum.reduceat(lengths, first)
    return best


def _placements(placements: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Pupils placed at `as_of`: school, grade (if given) and changes of school in 12 months."""
    has_grade = "grade" in placements.collect_schema().names()
    ordered = placements.with_columns(pl.col("pupil_id").cast(pl.Int64)).sort("pupil_id", "start")
    changes = (
        ordered.filter(pl.col("start") <= as_of)
        .with_columns(previous=pl.col("school_id").shift(1).over("pupil_id"))
        .filter(pl.col("start") > as_of - dt.timedelta(days=365))
        .group_by("pupil_id")
        .agg(
            school_changes=(
                pl.col("previous").is_not_null() & (pl.col("previous") != pl.col("school_id"))
            )
            .sum()
            .cast(pl.Int64)
        )
    )
    current = (
        ordered.filter(
            (pl.col("start") <= as_of) & (pl.col("end").is_null() | (pl.col("end") >= as_of))
        )
        .group_by("pupil_id")
        .agg(pl.col("school_id").last(), *([pl.col("grade").last()] if has_grade else []))
    )
    return current.join(changes, on="pupil_id", how="left").with_columns(
        pl.col("school_changes").fill_null(0)
    )


def _subject_concentration(
    subject_weeks: pl.LazyFrame,
    key: str,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    min_minutes: int,
) -> pl.LazyFrame:
    """The subject whose absence rate most exceeds the pupil's rate in all subjects (pp)."""
    weeks = subject_weeks.filter(
        pl.col("week").is_between(
            start - dt.timedelta(days=6), min(end, as_of) - dt.timedelta(days=6)
        )
    ).with_columns(pl.col("pupil_id").cast(pl.Int64))
    per_subject = weeks.group_by("pupil_id", "subject_id").agg(
        s=pl.col("scheduled_minutes").cast(pl.Int64).sum(),
        a=pl.col("absent_minutes").cast(pl.Int64).sum(),
    )
    totals = per_subject.group_by("pupil_id").agg(S=pl.col("s").sum(), A=pl.col("a").sum())
    scored = (
        per_subject.join(totals, on="pupil_id")
        .filter(pl.col("s") >= min_minutes)
        .with_columns(
            num=100 * (pl.col("a") * pl.col("S") - pl.col("A") * pl.col("s")),
            den=pl.col("s") * pl.col("S"),
        )
        .with_columns(order=pl.col("num") / pl.col("den"))
        .sort("pupil_id", "order", "subject_id", descending=[False, True, False])
        .group_by("pupil_id", maintain_order=True)
        .first()
    )
    return scored.select(
        "pupil_id",
        pl.col("subject_id").alias(f"{key}_subject_id"),
        pl.col("num").alias(f"{key}_subject_num"),
        pl.col("den").alias(f"{key}_subject_den"),
    )


def _grade_indicators(grades: pl.LazyFrame, as_of: dt.date, rules: GradeRules) -> pl.LazyFrame:
    """F count, passed subjects, meritvärde and eligibility from each pupil's latest grades."""
    points = rules.points_x10
    known = grades.select(pl.col("grade").unique()).collect().to_series().to_list()
    unknown = sorted(set(known) - set(points) - {None})
    if unknown:
        raise ValueError(f"Okända betyg {unknown}: kända är {sorted(points)}.")
    swedish_as = next(iter(sorted(rules.swedish)))  # SV and SVA count as one subject
    latest = (
        grades.filter(pl.col("term_end") <= as_of)
        .with_columns(pl.col("pupil_id").cast(pl.Int64))
        .filter(pl.col("term_end") == pl.col("term_end").max().over("pupil_id"))
        .with_columns(
            points=pl.col("grade").replace_strict(points, default=0, return_dtype=pl.Int64),
            passed=pl.col("grade").is_in(list(rules.passing)),
            subject=pl.when(pl.col("subject_code").is_in(list(rules.swedish)))
            .then(pl.lit(swedish_as))
            .otherwise(pl.col("subject_code")),
            extra=pl.col("subject_code").is_in(list(rules.seventeenth)),
        )
    )

    def passed(codes: Iterable[str]) -> pl.Expr:
        return (pl.col("passed") & pl.col("subject_code").is_in(list(codes))).any()

    programme_ok = [
        pl.all_horizontal([passed([code]) for code in sorted(required)] or [pl.lit(True)])
        for required in rules.preparatory_programmes.values()
    ]
    per_pupil = latest.group_by("pupil_id").agg(
        has_grades=pl.lit(True),
        f_grades=(~pl.col("passed")).sum().cast(pl.Int64),
        failed_subjects=pl.col("subject_code").filter(~pl.col("passed")).unique(),
        passed_subjects=pl.col("subject").filter(pl.col("passed")).n_unique().cast(pl.Int64),
        core_ok=pl.all_horizontal(passed(rules.swedish), *[passed([c]) for c in rules.core]),
        programme_ok=pl.any_horizontal(programme_ok) if programme_ok else pl.lit(True),
        best=pl.col("points")
        .filter(~pl.col("extra"))
        .sort(descending=True)
        .head(rules.best_count)
        .sum(),
        seventeenth=pl.col("points").filter(pl.col("extra")).max(),
    )
    return per_pupil.select(
        "pupil_id",
        "has_grades",
        "f_grades",
        "failed_subjects",
        "passed_subjects",
        merit_x10=(pl.col("best") + pl.col("seventeenth").fill_null(0).clip(lower_bound=0)).cast(
            pl.Int64
        ),
        vocational_eligible=(
            pl.col("core_ok") & (pl.col("passed_subjects") >= rules.vocational_passed)
        ),
        preparatory_eligible=(
            pl.col("core_ok")
            & pl.col("programme_ok")
            & (pl.col("passed_subjects") >= rules.preparatory_passed)
        ),
    )


def indicator_fraction(
    indicator: str,
    window: Window | None,
    columns: Sequence[str] = (),
    baseline: Window | None = None,
) -> tuple[pl.Expr, pl.Expr]:
    """The indicator's value as integer (numerator, denominator) expressions over the frame.

    The denominator is null or 0 where the value is undefined (no school days, no grades);
    such pupils are never flagged. A trend compares `window` with `baseline` (default: the
    window of the same length just before it).
    """
    key = window.key if window is not None else ""
    one = pl.lit(1, pl.Int64)
    if indicator in _ABSENCE_COLUMN:
        return 100 * pl.col(f"{key}_{_ABSENCE_COLUMN[indicator]}"), pl.col(f"{key}_scheduled")
    if indicator in ("absence_trend", "invalid_trend"):
        if window is None:
            raise ValueError(f"{indicator} behöver ett fönster.")
        before = (baseline or window.before).key
        part = "absent" if indicator == "absence_trend" else "invalid"
        a1, s1 = pl.col(f"{key}_{part}"), pl.col(f"{key}_scheduled")
        a0, s0 = pl.col(f"{before}_{part}"), pl.col(f"{before}_scheduled")
        return 100 * (a1 * s0 - a0 * s1), s1 * s0
    if indicator == "whole_day_run":
        return pl.col(f"{key}_longest_run"), one
    if indicator in ("whole_days", "skip_days", "skipped_lessons", "late_count", "irregular_days"):
        return pl.col(f"{key}_{indicator}"), one
    if indicator == "irregular_share":
        return 100 * pl.col(f"{key}_irregular_days"), pl.col(f"{key}_days")
    if indicator == "irregular_trend":
        if window is None:
            raise ValueError(f"{indicator} behöver ett fönster.")
        before = (baseline or window.before).key
        d1, n1 = pl.col(f"{key}_irregular_days"), pl.col(f"{key}_days")
        d0, n0 = pl.col(f"{before}_irregular_days"), pl.col(f"{before}_days")
        return 100 * (d1 * n0 - d0 * n1), n1 * n0
    if indicator == "late_skip_trend":
        if window is None:
            raise ValueError(f"{indicator} behöver ett fönster.")
        before = (baseline or window.before).key
        enough = (pl.col(f"{before}_days") >= RISE_MIN_BASELINE_DAYS) & (
            pl.col(f"{key}_days") > 0
        )
        return late_skip_score(key, before), pl.when(enough).then(pl.lit(100, pl.Int64))
    if indicator == "weekday_concentration":
        return 100 * pl.col(f"{key}_weekday_absent"), pl.col(f"{key}_absent")
    if indicator == "subject_concentration":
        return pl.col(f"{key}_subject_num"), pl.col(f"{key}_subject_den")
    grade_den = pl.when(pl.col("has_grades")).then(one) if "has_grades" in columns else one
    if indicator in ("f_grades", "passed_subjects"):
        return pl.col(indicator), grade_den
    if indicator in ("vocational_eligible", "preparatory_eligible"):
        return pl.col(indicator).cast(pl.Int64), grade_den
    if indicator == "merit_value":
        return pl.col("merit_x10"), grade_den * 10
    if indicator in ("f_warnings", "failing_subjects", "school_changes", "support_in_place"):
        return pl.col(indicator), one
    raise ValueError(f"Okänd indikator {indicator!r}.")


RISE_FIGURES = ("late_count", "skipped_lessons")  # two signs of a pupil drifting away
RISE_PRIOR_DAYS = 20  # a baseline starts as one event in 20 days, so a short history is not news
RISE_MIN_BASELINE_DAYS = 20  # school days in the baseline before the pupil is compared at all


def _expected(figure: str, key: str, before: str) -> pl.Expr:
    """The count of `figure` in window `key` expected at the pupil's own rate in `before`."""
    rate = (pl.col(f"{before}_{figure}") + 1) / (pl.col(f"{before}_days") + RISE_PRIOR_DAYS)
    return rate * pl.col(f"{key}_days")


def late_skip_score(key: str, before: str) -> pl.Expr:
    """How far late arrivals and skipped lessons in `key` lie above the pupil's own rate in
    `before`, in hundredths: the sum of the two Poisson z-scores (count - expected) / sqrt(expected).

    Escalating absence raises both at once while ordinary weeks vary one at a time, so the sum
    separates them better than either count or a shared level (DOMAIN.md "Attendance": patterns
    against the pupil's own history). The float sum is floored to hundredths once, so every
    comparison after that is in integers.
    """
    z = []
    for figure in RISE_FIGURES:
        expected = _expected(figure, key, before)
        z.append((pl.col(f"{key}_{figure}") - expected) / expected.sqrt())
    score = (100 * (z[0] + z[1]) + 0.5).floor()
    return pl.when(pl.col(f"{key}_days") > 0).then(score).cast(pl.Int64)


def _detail(indicator: str, window: Window | None, baseline: Window | None = None) -> pl.Expr:
    key = window.key if window is not None else ""
    if indicator == "late_skip_trend" and window is not None:
        before = (baseline or window.before).key
        parts: list[pl.Expr] = []
        for figure in RISE_FIGURES:  # "count,expected x 10" per figure
            tenths = (10 * _expected(figure, key, before) + 0.5).floor().cast(pl.Int64)
            parts += [pl.col(f"{key}_{figure}").cast(pl.Utf8), tenths.cast(pl.Utf8)]
        return pl.concat_str(parts, separator=",")
    if indicator == "weekday_concentration":
        return pl.col(f"{key}_weekday_top").cast(pl.Utf8)
    if indicator == "subject_concentration":
        return pl.col(f"{key}_subject_id").cast(pl.Utf8)
    return pl.lit(None, pl.Utf8)


# --- Rules --------------------------------------------------------------------------------

Comparison = Literal[">=", ">", "<=", "<"]
COMPARISONS: tuple[str, ...] = (">=", ">", "<=", "<")
GRADE_YEARS = range(0, 10)  # 0 = förskoleklass


class RuleError(ValueError):
    """A rule that cannot be saved; `field` names the offending field (for a form)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Condition:
    """One comparison of an indicator with a threshold, over a window where the indicator has one.

    Trends compare `window` with `baseline` (default: the same length just before it).
    Invalid conditions raise RuleError when made (issue 5, "Bad input").
    """

    indicator: str
    comparison: Comparison
    threshold: Decimal | int | str
    window: Window | None = None
    baseline: Window | None = None

    def __post_init__(self) -> None:
        spec = INDICATORS.get(self.indicator)
        if spec is None:
            raise RuleError(
                "indicator",
                f"Okänd indikator {self.indicator!r}; kända är {', '.join(sorted(INDICATORS))}.",
            )
        if self.comparison not in COMPARISONS:
            raise RuleError(
                "comparison",
                f"Okänd jämförelse {self.comparison!r}; använd {', '.join(COMPARISONS)}.",
            )
        threshold = _decimal(self.threshold, "threshold")
        if not spec.low <= threshold <= spec.high:
            raise RuleError(
                "threshold",
                f"Gränsen {_number(threshold)} ligger utanför "
                f"{_number(spec.low)}–{_number(spec.high)} för {self.indicator}.",
            )
        if spec.unit in ("count", "bool") and threshold % 1:
            raise RuleError(
                "threshold", f"Gränsen för {self.indicator} är ett antal och måste vara ett heltal."
            )
        object.__setattr__(self, "threshold", threshold)
        if spec.windowed and self.window is None:
            raise RuleError("window", f"{self.indicator} behöver ett fönster.")
        if not spec.windowed and self.window is not None:
            raise RuleError("window", f"{self.indicator} har inget fönster.")
        for name, window in (("window", self.window), ("baseline", self.baseline)):
            if window is None:
                continue
            if window.days is not None and window.days <= 0:
                raise RuleError(name, "Fönstret är tomt: ange minst en dag.")
            if window.days is not None and window.days > MAX_WINDOW_DAYS:
                raise RuleError(name, f"Fönstret får vara högst {MAX_WINDOW_DAYS} dagar.")
            if window.offset < 0:
                raise RuleError(name, "Ett fönster kan inte sluta efter screeningdagen.")
        is_trend = self.indicator.endswith("_trend")
        if is_trend and self.window is not None and self.window.days is None:
            raise RuleError("window", "En trend jämför två fönster i dagar, inte terminen.")
        if self.baseline is not None and not is_trend:
            raise RuleError("baseline", "Bara en trend har en jämförelseperiod.")
        if (
            self.baseline is not None
            and self.window is not None
            and self.baseline.school != self.window.school
        ):
            raise RuleError(
                "baseline", "Jämförelseperioden räknas som fönstret: båda i dagar eller i skoldagar."
            )
        if (
            self.baseline is not None
            and self.window is not None
            and (
                self.baseline.days is None
                or self.window.days is None
                or self.baseline.offset < self.window.offset + self.window.days
            )
        ):
            raise RuleError("baseline", "Jämförelseperioden måste ligga före fönstret.")

    @property
    def key(self) -> str:
        return self.window.key if self.window is not None else ""


@dataclass(frozen=True)
class Rule(Condition):
    """A screening rule (screeningregel): a condition, the grade years it applies to, and
    optionally more conditions that must also hold (`also`), e.g. a rising trend only at 5 %
    absence or more. An empty `grade_years` means every year (0 = förskoleklass).
    """

    id: str = ""
    grade_years: tuple[int, ...] = ()
    also: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.id:
            raise RuleError("id", "Regeln behöver ett namn.")
        bad_years = [y for y in self.grade_years if y not in GRADE_YEARS]
        if bad_years:
            raise RuleError("grade_years", f"Årskurs {bad_years} finns inte (0–9).")


def rule(
    rule_id: str,
    indicator: str,
    comparison: Comparison,
    threshold: Decimal | int | str,
    window: Window | None = None,
    **options: object,
) -> Rule:
    """A rule with its id first: `rule("invalid_4w", "absence_invalid", ">=", 5, LAST_4W)`."""
    return Rule(
        indicator,
        comparison,
        threshold,
        window,
        id=rule_id,  # type: ignore[arg-type]
        **options,
    )


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise RuleError(name, f"Ange {name} som heltal eller decimaltal, inte {value!r}.")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise RuleError(name, f"{value!r} är inget tal.") from None
    if not number.is_finite():
        raise RuleError(name, f"{value!r} är inget ändligt tal.")
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise RuleError(name, "Högst två decimaler.")
    return number


def _compare(num: pl.Expr, den: pl.Expr, comparison: str, threshold: Decimal) -> pl.Expr:
    """`num / den <op> threshold` in integers (den > 0), null where den is 0 or null."""
    p, q = threshold.as_integer_ratio()
    left, right = num * q, den * p
    result = {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}[
        comparison
    ]
    return pl.when(den > 0).then(result)


BASELINE_12W = Window(84, 28)  # the twelve weeks before the last four
BASELINE_24W = Window(168, 28)  # the 24 weeks before the last four
LAST_20SD = Window(20, school=True)  # the last 20 school days: about four weeks in term
BASELINE_120SD = Window(120, 20, school=True)  # the 120 school days before: a pupil's own normal


def default_rules() -> tuple[Rule, ...]:
    """The rules a municipality starts from (the migrations ship the same rows).

    `rising_late_skip` is the early warning: late arrivals and skipped lessons in the last 20
    school days together far above the pupil's own rate in the 120 school days before
    (`late_skip_score`), the pattern that comes before whole days of truancy (DOMAIN.md
    "Attendance": patterns and a rising trend matter as much as levels). Counting in school
    days keeps four weeks of school in the window after a holiday, where a calendar window
    held a day or two and a single late arrival on the first day of term was "news"; counting
    skipped lessons rather than days with one keeps a pupil who skips a lesson a day apart from
    one who skips half of them. Measured on the demo (seed 1) and two more simulated
    municipalities (seeds 2, 3), screening every school day as the daily job does: recall
    0.821, 0.870, 0.900 at precision 0.659, 0.637, 0.676 and a median warning of 4.9, 5.1, 4.6
    weeks, against 0.782, 0.870, 0.863 at 0.447, 0.487, 0.549 for the same score over 28 and
    168 calendar days and skip days (the rule of 2026-12-02). Rules read only attendance: the
    simulator's ground truth is read by the evaluation, never by a rule. A plain level rule
    ("15 % invalid in four weeks") is left to the absence ladder, which acts on levels every
    day; a municipality may add one here. The grade rules (DOMAIN.md "Grades and eligibility")
    catch the other road to leaving school without eligibility.
    """
    return (
        rule(
            "rising_late_skip", "late_skip_trend", ">=", "7.5", LAST_20SD, baseline=BASELINE_120SD
        ),
        rule("failing", "failing_subjects", ">=", 3, grade_years=(7, 8, 9)),
        rule("not_eligible", "vocational_eligible", "<", 1, grade_years=(9,)),
    )


ATTENDANCE_INDICATORS = frozenset(
    name for name, spec in INDICATORS.items() if spec.windowed
)


def reads_attendance(one: Rule) -> bool:
    """Whether every condition of the rule reads attendance (the early-warning rules)."""
    return all(c.indicator in ATTENDANCE_INDICATORS for c in (one, *one.also))


def screen(indicators: pl.DataFrame, rules: Iterable[Rule]) -> pl.DataFrame:
    """Flags: one row per pupil and rule that fires (pupil_id, rule_id, value, threshold, …).

    `value` is the figure as a float for display; `value_num / value_den` is exact and is what
    was compared. `detail` names the weekday (1–5) or subject id for concentration rules;
    `also` holds the figures of the rule's further conditions. Rules whose input was not given
    (no grades, no subject aggregate) fire for nobody.
    """
    columns = indicators.columns
    parts: list[pl.LazyFrame] = []
    for one in rules:
        if not all(_has_inputs(c, columns) for c in (one, *one.also)):
            continue
        if one.grade_years and "grade" not in columns:
            raise ValueError(
                f"Regeln {one.id} gäller vissa årskurser: indikatorerna behöver "
                "placeringar med årskurs."
            )
        missing = [w.key for w in windows_for([one]) if f"{w.key}_scheduled" not in columns]
        if missing:
            raise ValueError(
                f"Regeln {one.id} behöver fönstren {missing}: beräkna "
                "indikatorerna med windows_for(regler)."
            )
        num, den = indicator_fraction(one.indicator, one.window, columns, one.baseline)
        fires = _compare(num, den, one.comparison, Decimal(one.threshold))
        also = []
        for condition in one.also:
            n, d = indicator_fraction(
                condition.indicator, condition.window, columns, condition.baseline
            )
            fires = fires & _compare(n, d, condition.comparison, Decimal(condition.threshold))
            also.append(
                pl.struct(
                    indicator=pl.lit(condition.indicator),
                    window=pl.lit(condition.key),
                    baseline=pl.lit(condition.baseline.key if condition.baseline else ""),
                    comparison=pl.lit(condition.comparison),
                    threshold=pl.lit(str(condition.threshold)),
                    value_num=n.cast(pl.Int64),
                    value_den=d.cast(pl.Int64),
                    detail=_detail(condition.indicator, condition.window, condition.baseline),
                )
            )
        if one.grade_years:
            fires = fires & pl.col("grade").is_in(list(one.grade_years))
        parts.append(
            indicators.lazy()
            .filter(fires.fill_null(False))
            .select(
                pl.col("pupil_id").cast(pl.Int64),
                rule_id=pl.lit(one.id),
                indicator=pl.lit(one.indicator),
                window=pl.lit(one.key),
                baseline=pl.lit(one.baseline.key if one.baseline else ""),
                comparison=pl.lit(one.comparison),
                value_num=num.cast(pl.Int64),
                value_den=den.cast(pl.Int64),
                value=(num / den).cast(pl.Float64),
                threshold=pl.lit(str(one.threshold)),
                detail=_detail(one.indicator, one.window, one.baseline),
                also=pl.concat_list(also) if also else pl.lit([], pl.List(_CONDITION_TYPE)),
            )
            .cast(FLAG_SCHEMA)  # type: ignore[arg-type]
        )
    if not parts:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    return pl.concat(pl.collect_all(parts))


def _has_inputs(condition: Condition, columns: Sequence[str]) -> bool:
    """Whether the indicators frame holds what `condition` reads (grades etc. are optional)."""
    needs = {
        "f_grades": "has_grades",
        "passed_subjects": "has_grades",
        "vocational_eligible": "has_grades",
        "preparatory_eligible": "has_grades",
        "merit_value": "has_grades",
        "f_warnings": "f_warnings",
        "failing_subjects": "failing_subjects",
        "school_changes": "school_changes",
        "support_in_place": "support_in_place",
    }
    if condition.indicator == "subject_concentration":
        return f"{condition.key}_subject_num" in columns
    return needs.get(condition.indicator, "pupil_id") in columns


_CONDITION_TYPE = pl.Struct(
    {
        "indicator": pl.Utf8(),
        "window": pl.Utf8(),
        "baseline": pl.Utf8(),
        "comparison": pl.Utf8(),
        "threshold": pl.Utf8(),
        "value_num": pl.Int64(),
        "value_den": pl.Int64(),
        "detail": pl.Utf8(),
    }
)
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "pupil_id": pl.Int64(),
    "rule_id": pl.Utf8(),
    "indicator": pl.Utf8(),
    "window": pl.Utf8(),
    "baseline": pl.Utf8(),
    "comparison": pl.Utf8(),
    "value_num": pl.Int64(),
    "value_den": pl.Int64(),
    "value": pl.Float64(),
    "threshold": pl.Utf8(),
    "detail": pl.Utf8(),
    "also": pl.List(_CONDITION_TYPE),
}


# --- Descriptions -------------------------------------------------------------------------

INDICATOR_NAMES_SV: dict[str, str] = {
    "absence_total": "Frånvaro",
    "absence_valid": "Giltig frånvaro",
    "absence_invalid": "Ogiltig frånvaro",
    "absence_unknown": "Ej bedömd frånvaro",
    "absence_trend": "Frånvarons ökning",
    "invalid_trend": "Den ogiltiga frånvarons ökning",
    "whole_day_run": "Hela dagar frånvarande i rad",
    "whole_days": "Hela dagar frånvarande",
    "skip_days": "Dagar med ogiltig frånvaro från enstaka lektioner",
    "skipped_lessons": "Lektioner med ogiltig frånvaro, utöver hela dagar (omkring)",
    "late_count": "Sena ankomster",
    "irregular_days": "Skoldagar med ogiltig frånvaro eller sen ankomst",
    "irregular_share": "Andel skoldagar med ogiltig frånvaro eller sen ankomst",
    "irregular_trend": "Ökningen av andelen skoldagar med ogiltig frånvaro eller sen ankomst",
    "late_skip_trend": "Avvikelse i sen ankomst och ogiltig frånvaro från enstaka lektioner mot "
                       "elevens egen nivå",
    "weekday_concentration": "Andel av frånvaron på en och samma veckodag",
    "subject_concentration": "Frånvaron i ett ämne jämfört med alla ämnen",
    "f_grades": "Betyg F eller – i senaste betygen",
    "f_warnings": "Ämnen med varning om F denna termin",
    "failing_subjects": "Ämnen med F, – eller varning om F",
    "passed_subjects": "Godkända ämnen i senaste betygen",
    "vocational_eligible": "Behörig till yrkesprogram",
    "preparatory_eligible": "Behörig till högskoleförberedande program",
    "merit_value": "Meritvärde",
    "school_changes": "Skolbyten de senaste 12 månaderna",
    "support_in_place": "Pågående stöd eller åtgärder",
}
_COMPARISONS_SV = {">=": "minst", ">": "över", "<=": "högst", "<": "under"}


def describe(condition: Condition) -> str:
    """A rule or condition in Swedish, for the rule pages: "Ogiltig frånvaro minst 15 % de
    senaste fyra veckorna", with further conditions after "och" and the grade years last."""
    spec = INDICATORS[condition.indicator]
    name = INDICATOR_NAMES_SV[condition.indicator]
    threshold = Decimal(condition.threshold)
    if spec.unit == "bool":
        wanted = _COMPARE[condition.comparison](Fraction(1), Fraction(threshold))
        text = name if wanted else f"Inte {name[0].lower()}{name[1:]}"
    else:
        text = f"{name} {_COMPARISONS_SV[condition.comparison]} {_with_unit(threshold, spec.unit)}"
    if condition.window is not None:
        text += f" {condition.window.label()}"
        if condition.indicator.endswith("_trend"):
            text += f" jämfört med {_before(condition.window, condition.baseline)}"
    if isinstance(condition, Rule):
        for more in condition.also:
            extra = describe(more)
            text += f" och {extra[0].lower()}{extra[1:]}"
        if condition.grade_years:
            text += f" (årskurs {_years(condition.grade_years)})"
    return text


_COMPARE = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def _years(years: Sequence[int]) -> str:
    """7, 8, 9 → "7–9"; 0 reads "F" (förskoleklass)."""
    ordered = sorted(set(years))
    label = {0: "F"}
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{label.get(ordered[0], str(ordered[0]))}–{ordered[-1]}"
    return ", ".join(label.get(y, str(y)) for y in ordered)


# --- Explanations -------------------------------------------------------------------------


def explain(flag: Mapping[str, object], subject_names: Mapping[int, str] | None = None) -> str:
    """The flag in Swedish with its figures and thresholds (issue 5, "Rules").

    "Ogiltig frånvaro 14 % de senaste fyra veckorna (gräns 10 %)"; further conditions follow
    after "och". A figure is rounded to whole units unless that would seem to contradict the
    comparison (9,6 % against a limit of < 10 %).
    """
    parts = [_explain_one(flag, subject_names)]
    for condition in flag.get("also") or ():  # type: ignore[attr-defined]
        text = _explain_one(condition, subject_names)
        parts.append(text[0].lower() + text[1:])
    return " och ".join(parts)


def _explain_one(flag: Mapping[str, object], names: Mapping[int, str] | None) -> str:
    spec = INDICATORS[str(flag["indicator"])]
    window = Window.from_key(str(flag["window"])) if flag.get("window") else None
    baseline = Window.from_key(str(flag["baseline"])) if flag.get("baseline") else None
    threshold = Decimal(str(flag["threshold"]))
    comparison = str(flag["comparison"])
    exact = Fraction(int(flag["value_num"]), int(flag["value_den"]))  # type: ignore[call-overload]
    shown = _shown(exact, comparison, threshold, first_places=1 if spec.unit == "points" else 0)
    values = {
        "value": _with_unit(shown, spec.unit),
        "window": window.label() if window else "",
        "before": _before(window, baseline) if window and window.days else "",
        "change": _change(shown),
        "eligible": "Behörig" if exact >= 1 else "Inte behörig",
        "detail": _detail_text(spec.name, flag.get("detail"), names),
    }
    text = spec.text.format(**values).strip()
    text = text[0].upper() + text[1:]
    if spec.unit == "bool":
        return text
    bound = _with_unit(threshold, spec.unit)
    if spec.name == "weekday_concentration":
        bound += ", väntat 20 %"
    return f"{text} (gräns {bound})"


def _with_unit(value: Decimal, unit: Unit) -> str:
    if unit == "percent":
        return f"{_number(value)} %"
    if unit == "pp":
        return f"{_number(value)} procentenhet" + ("" if abs(value) == 1 else "er")
    return _number(value)


def _shown(
    exact: Fraction,
    comparison: str,
    threshold: Decimal,
    first_places: int = 0,
) -> Decimal:
    """The exact value rounded to 0, 1 or 2 decimals: the fewest that keep the comparison true.

    Meritvärde starts at one decimal (17,5-point grades): `first_places`.
    """

    def holds(value: Fraction | Decimal) -> bool:
        v, t = Fraction(value), Fraction(threshold)
        return {">=": v >= t, ">": v > t, "<=": v <= t, "<": v < t}[comparison]

    truth = holds(exact)
    decimal = Decimal(exact.numerator) / Decimal(exact.denominator)
    for places in range(first_places, 3):
        rounded = decimal.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if holds(rounded) == truth:
            return rounded
    return rounded


def _number(value: Decimal | int) -> str:
    """Swedish style: decimal comma, a real minus sign, no trailing zeros."""
    number = Decimal(value)
    text = f"{number.normalize():f}" if number % 1 else f"{number.to_integral_value():f}"
    return text.replace("-", "−").replace(".", ",")


def _before(window: Window, baseline: Window | None) -> str:
    """What a trend compares with: "de fyra veckorna dessförinnan"."""
    if baseline is None or baseline == window.before:
        count, span = _span(window.days or 0, window.school)
        return f"{_DEFINITE[count]} {span} dessförinnan"
    if baseline.school == window.school and baseline.offset == window.offset + (window.days or 0):
        count, span = _span(baseline.days or 0, baseline.school)
        return f"{_DEFINITE[count]} {span} dessförinnan"
    return baseline.label()


def _change(value: Decimal) -> str:
    if value > 0:
        return f"ökade med {_with_unit(value, 'pp')}"
    if value < 0:
        return f"minskade med {_with_unit(-value, 'pp')}"
    return "var oförändrad"


def _detail_text(indicator: str, detail: object, names: Mapping[int, str] | None) -> str:
    if detail is None:
        return ""
    if indicator == "weekday_concentration":
        return WEEKDAYS_SV[int(str(detail)) - 1]
    if indicator == "late_skip_trend":
        late, late_e, skip, skip_e = (int(x) for x in str(detail).split(","))
        return (
            f"Sen ankomst {late} {'gång' if late == 1 else 'gånger'} "
            f"(väntat {_number(Decimal(late_e) / 10)}) och ogiltig frånvaro från omkring "
            f"{skip} {'lektion' if skip == 1 else 'lektioner'} utöver hela dagar "
            f"(väntat {_number(Decimal(skip_e) / 10)})"
        )
    subject = int(str(detail))
    return (names or {}).get(subject, f"ämne {subject}")
