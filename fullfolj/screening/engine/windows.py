"""Screening windows: spans of calendar or school days ending at the as-of date, and their labels.

A window counts calendar days or school days (`Window.school`: the dates with lessons in the
aggregate, so "the last 20 school days" reaches back over a holiday); either way it is a span of
dates by the time it is summed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.utils.translation import gettext, npgettext, pgettext, pgettext_lazy


@dataclass(frozen=True)
class Window:
    """A span of calendar days ending `offset` days before the as-of date; `days=None`: the term.

    `Window(28)` is the 28 days up to and including the as-of date ("the last four weeks"),
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
                gettext(
                    "Unknown window %(key)s: give term, 28d, 28d_28 or school days as 20s, 120s_20."
                )
                % {"key": repr(key)}
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
                raise ValueError(
                    gettext("The window %(key)s counts school days: give the school days.")
                    % {"key": self.key}
                )
            first, last = school_day_bounds(self, _epoch(as_of), school_days)
            return _date(first), _date(last)
        end = as_of - dt.timedelta(days=self.offset)
        return end - dt.timedelta(days=self.days - 1), end

    @property
    def before(self) -> Window:
        """The window of the same length just before this one (for a trend)."""
        if self.days is None:
            raise ValueError(gettext("A trend needs a window in days, not the term."))
        return Window(self.days, self.offset + self.days, self.school)

    @property
    def reach(self) -> int:
        """School days back from the as-of date that a school-day window reaches (0 else)."""
        return (self.days or 0) + self.offset if self.school else 0

    def label(self) -> str:
        """As it reads after a figure: "the last four weeks", "this term"."""
        if self.days is None:
            return pgettext("window", "this term")
        if not self.offset:
            return _last_span(self.days, self.school)
        return pgettext("window", "%(span)s before %(later)s") % {
            "span": _definite_span(self.days, self.school),
            "later": _last_span(self.offset, self.school),
        }


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


# Weeks are counted in words up to twelve ("the last four weeks"), days in figures.
_NUMBER_WORDS = (
    "",
    "",
    pgettext_lazy("number of weeks", "two"),
    pgettext_lazy("number of weeks", "three"),
    pgettext_lazy("number of weeks", "four"),
    pgettext_lazy("number of weeks", "five"),
    pgettext_lazy("number of weeks", "six"),
    pgettext_lazy("number of weeks", "seven"),
    pgettext_lazy("number of weeks", "eight"),
    pgettext_lazy("number of weeks", "nine"),
    pgettext_lazy("number of weeks", "ten"),
    pgettext_lazy("number of weeks", "eleven"),
    pgettext_lazy("number of weeks", "twelve"),
)


def _weeks(weeks: int) -> str:
    return str(_NUMBER_WORDS[weeks]) if weeks < len(_NUMBER_WORDS) else str(weeks)


def _last_span(days: int, school: bool = False) -> str:
    """ "the last week" / "the last four weeks" / "the last 10 days" / "the last 20 school days"."""
    if school:
        text = npgettext("window", "the last school day", "the last %(count)s school days", days)
        return text % {"count": days}
    if days % 7 == 0:
        weeks = days // 7
        text = npgettext("window", "the last week", "the last %(count)s weeks", weeks)
        return text % {"count": _weeks(weeks)}
    return npgettext("window", "the last day", "the last %(count)s days", days) % {"count": days}


def _definite_span(days: int, school: bool = False) -> str:
    """ "the week" / "the four weeks" / "the 10 days" / "the 20 school days"."""
    if school:
        text = npgettext("window", "the school day", "the %(count)s school days", days)
        return text % {"count": days}
    if days % 7 == 0:
        weeks = days // 7
        text = npgettext("window", "the week", "the %(count)s weeks", weeks)
        return text % {"count": _weeks(weeks)}
    return npgettext("window", "the day", "the %(count)s days", days) % {"count": days}


TERM = Window(None)
LAST_4W = Window(28)
PREV_4W = LAST_4W.before
DEFAULT_WINDOWS: tuple[Window, ...] = (TERM, LAST_4W, PREV_4W)
MAX_WINDOW_DAYS = 366


class NoSchoolDaysError(ValueError):
    """A screening date with no school days to screen."""


_EPOCH = dt.date(1970, 1, 1)


def _epoch(day: dt.date) -> int:
    """Days since 1970-01-01: Polars' physical value of a Date."""
    return (day - _EPOCH).days


def _date(epoch: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=epoch)


def check_window(window: Window) -> None:
    """ValueError unless the window is 1 to MAX_WINDOW_DAYS days ending by the as-of date."""
    if window.days is not None and not 0 < window.days <= MAX_WINDOW_DAYS:
        raise ValueError(
            gettext("A window must be 1–%(max)s days, not %(days)s.")
            % {"max": MAX_WINDOW_DAYS, "days": window.days}
        )
    if window.offset < 0:
        raise ValueError(gettext("A window cannot end after the screening date."))


BASELINE_12W = Window(84, 28)  # the twelve weeks before the last four
BASELINE_24W = Window(168, 28)  # the 24 weeks before the last four
LAST_20SD = Window(20, school=True)  # the last 20 school days: about four weeks in term
BASELINE_120SD = Window(120, 20, school=True)  # the 120 school days before: a pupil's own normal
