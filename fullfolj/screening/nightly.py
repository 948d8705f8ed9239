"""The nightly screening: yesterday's attendance sums carried to the next school day (docs/screening.md,
"Speed": `incremental`).

A daily job screens every pupil after each school day. Instead of summing the windows again
from the kept aggregate (`engine.compute_indicators` over PupilDay), it keeps, per pupil and
window, the sums of the day figures (`engine.day_figures`), the school days and the longest
whole-day run, together with the pupil days the windows still reach, one dense block per date.
Adding a school day adds that day's block to the windows that now hold it and subtracts the
blocks of the days that left them (the 4-week windows slide; the term window restarts at a new
term); a longest run grows with the run that ends the window and is counted again only for the
pupils with a whole day among the days that left. Every pupil's indicators then equal a full
screen at the new date (the tests check this on random histories).

    state = NightlyIndicators.start(kept_days, as_of=yesterday, term_start=term.start,
                                    windows=windows_for(rules))  # once, from PupilDay
    state = state.add_lessons(todays_lessons, day=today)  # each night; or add_day(pupil days)
    flags = screen(state.indicators(organiser_id=org.pk, placements=..., grades=...), rules)

A state is never changed: `add_day` returns the next day's and shares the unchanged blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from fullfolj.attendance.columnar import DAY_COLUMNS, lesson_sums
from fullfolj.screening import hooks
from fullfolj.screening.engine import (
    DEFAULT_WINDOWS,
    LAST_4W,
    NoSchoolDaysError,
    Window,
    attendance_frame,
    before_term,
    check_window,
    compute_indicators,
    day_figures,
    school_day_bounds,
    school_day_reach,
    school_days_of,
    window_columns,
)

_EPOCH = dt.date(1970, 1, 1)
_SPAN = "_span"  # every day any window reaches: who is screened at all
_SCHEDULED, _ABSENT = DAY_COLUMNS.index("scheduled_minutes"), DAY_COLUMNS.index("absent_minutes")


def _epoch(day: dt.date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True)
class NightlyIndicators:
    """The attendance indicators of every pupil at `as_of`, kept to be carried to the next day.

    `pupil_ids` gives each position's pupil (in order of first appearance); `blocks` the pupil
    days from the first day a window reaches, by epoch day: PupilDay's figures as an Int16
    array (figure, position), zero where the pupil had no lessons; `sums` per window key
    (and `_span`) an int32 array (figure, position) of the days and the `engine.day_figures`;
    `runs` per window an int64 array (longest whole-day run, the run that ends the window);
    `school_days` the kept days on which any pupil had lessons (epoch days, ascending), the
    calendar the school-day windows count in.
    """

    as_of: dt.date
    term_start: dt.date
    windows: tuple[Window, ...]
    pupil_ids: np.ndarray
    blocks: Mapping[int, np.ndarray]
    sums: Mapping[str, np.ndarray]
    runs: Mapping[str, np.ndarray]
    school_days: np.ndarray

    @classmethod
    def start(
        cls,
        days: pl.DataFrame,
        *,
        as_of: dt.date,
        term_start: dt.date,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
    ) -> NightlyIndicators:
        """The state at `as_of` from the kept aggregate (PupilDay's rows, any order; the days
        before the first a window reaches are not needed)."""
        if as_of < term_start:
            raise NoSchoolDaysError(before_term(as_of, term_start))
        windows = tuple(dict.fromkeys([*windows, LAST_4W]))
        for window in windows:
            check_window(window)
        school_days = (
            school_days_of(days, as_of) if school_day_reach(windows) else np.zeros(0, np.int64)
        )
        first = min(_spans(windows, _epoch(as_of), _epoch(term_start), school_days).values())[0]
        days = days.filter(
            pl.col("date").is_between(_EPOCH + dt.timedelta(days=first), as_of)
            & (pl.col("scheduled_minutes") > 0)
        )
        ids = days["pupil_id"].to_numpy().astype(np.int64)
        pupil_ids, position = np.unique(ids, return_inverse=True)
        epoch = days["date"].to_physical().to_numpy()
        dates, date_index = np.unique(epoch, return_inverse=True)
        grid = np.zeros((len(dates), len(DAY_COLUMNS), len(pupil_ids)), np.int16)
        for i, name in enumerate(DAY_COLUMNS):
            grid[date_index, i, position] = days[name].to_numpy()
        blocks = {int(day): grid[n] for n, day in enumerate(dates)}
        empty = cls(as_of, term_start, windows, pupil_ids, {}, {}, {}, np.zeros(0, np.int64))
        # Every day enters from an empty state: the same sliding as a nightly step.
        return empty._moved(blocks, as_of, term_start, previous=None)

    def add_day(
        self,
        rows: pl.DataFrame,
        *,
        day: dt.date | None = None,
        term_start: dt.date | None = None,
    ) -> NightlyIndicators:
        """The state after one more school day: `rows` are that day's pupil days (PupilDay's
        columns, one date after `as_of`; `day` needed only when there are none); `term_start`
        the new day's term (default: the same term)."""
        day = self._next_date(rows, day)
        ids = rows["pupil_id"].to_numpy().astype(np.int64)
        pupil_ids, position = _positions(self.pupil_ids, ids)
        if len(ids) and np.bincount(position).max() > 1:
            raise ValueError("add_day: a pupil has two rows for the day.")
        block = np.zeros((len(DAY_COLUMNS), len(pupil_ids)), np.int16)
        for i, name in enumerate(DAY_COLUMNS):
            block[i, position] = rows[name].to_numpy()
        return self._with_day(day, block, pupil_ids, term_start)

    def add_lessons(
        self,
        lessons: pl.DataFrame,
        *,
        day: dt.date | None = None,
        term_start: dt.date | None = None,
    ) -> NightlyIndicators:
        """The state after one more school day, from that day's lesson records
        (`columnar.LESSON_COLUMNS`): summed per pupil with `columnar.lesson_sums` into the
        figures `columnar.pupil_days` gives, without grouping."""
        day = self._next_date(lessons, day)
        ids = lessons["pupil_id"].to_numpy().astype(np.int64)
        pupil_ids, position = _positions(self.pupil_ids, ids)
        sums = lesson_sums(lessons, position, len(pupil_ids))
        block = np.stack([sums[name] for name in DAY_COLUMNS]).astype(np.int16)
        return self._with_day(day, block, pupil_ids, term_start)

    def _next_date(self, rows: pl.DataFrame, day: dt.date | None) -> dt.date:
        dates = rows["date"].unique().to_list()
        if day is None and len(dates) == 1:
            day = dates[0]
        if day is None or any(d != day for d in dates):
            raise ValueError("add_day: the rows must hold exactly one date, the day's.")
        if day <= self.as_of:
            raise ValueError(f"add_day: {day} is not after {self.as_of}.")
        return day

    def _with_day(
        self, day: dt.date, block: np.ndarray, pupil_ids: np.ndarray, term_start: dt.date | None
    ) -> NightlyIndicators:
        term_start = term_start or self.term_start
        if term_start < self.term_start or term_start > day:
            raise ValueError(f"add_day: the term of {day} cannot start {term_start}.")
        state = replace(self, pupil_ids=pupil_ids)
        return state._moved({**self.blocks, _epoch(day): block}, day, term_start, previous=self)

    def _moved(
        self,
        blocks: Mapping[int, np.ndarray],
        as_of: dt.date,
        term_start: dt.date,
        previous: NightlyIndicators | None,
    ) -> NightlyIndicators:
        """The state at `as_of`: each window's sums plus the days that entered it, minus those
        that left it (from `previous`'s windows, or from nothing).

        A longest run grows with the days that came (the run that ends the window, kept
        alongside); only the pupils with a whole day among those that left are counted again.
        """
        size = len(self.pupil_ids)
        known = previous.school_days if previous is not None else np.zeros(0, np.int64)
        came_in = [d for d in sorted(blocks) if (not len(known) or d > known[-1])
                   and blocks[d][_SCHEDULED].max(initial=0) > 0]  # fmt: skip
        school_days = np.concatenate([known, np.array(came_in, np.int64)])
        new = _spans(self.windows, _epoch(as_of), _epoch(term_start), school_days)
        old = (
            _spans(
                self.windows,
                _epoch(previous.as_of),
                _epoch(previous.term_start),
                previous.school_days,
            )
            if previous is not None
            else {}
        )
        kept_from = min(start for start, _ in new.values())
        blocks = {day: block for day, block in blocks.items() if day >= kept_from}
        school_days = school_days[school_days >= kept_from]
        previous_blocks = previous.blocks if previous is not None else {}
        figures_of: dict[int, np.ndarray] = {}  # a day's figures, computed once for all windows

        def figures(day: int, source: Mapping[int, np.ndarray]) -> np.ndarray:
            if day not in figures_of:
                figures_of[day] = _day_figures(source[day], day)
            return figures_of[day]

        sums: dict[str, np.ndarray] = {}
        runs: dict[str, np.ndarray] = {}
        for key, (start, end) in new.items():
            before = old.get(key, (0, -1))
            fresh = previous is None or start > before[1] or end < before[0]
            if fresh:  # nothing in common (the first day, a new term, a long break)
                before = (0, -1)
                total = np.zeros((len(_FIGURES), size), np.int32)
                run = np.zeros((2, size), np.int64)  # longest run, run that ends the window
                went: list[int] = []
            else:
                total = _grow(previous.sums[key], size).copy()  # type: ignore[union-attr]
                if key != _SPAN:
                    run = _grow(previous.runs[key], size).copy()  # type: ignore[union-attr]
                went = sorted(d for d in previous_blocks if before[0] <= d < start)
            # Windows only move on: days enter at the end and leave at the start.
            came = sorted(d for d in blocks if max(before[1] + 1, start) <= d <= end)
            for day in came:
                day_figures = figures(day, blocks)
                total[:, : day_figures.shape[1]] += day_figures
            for day in went:
                day_figures = figures(day, previous_blocks)
                total[:, : day_figures.shape[1]] -= day_figures
            sums[key] = total
            if key == _SPAN:
                continue
            for day in came:
                _extend_runs(run, blocks[day])
            if went:
                lost = np.zeros(size, bool)
                for day in went:
                    whole = figures(day, previous_blocks)[_WHOLE] > 0
                    lost[: len(whole)] |= whole
                who = np.flatnonzero(lost)
                if len(who):
                    inside = sorted(d for d in blocks if start <= d <= end)
                    run[:, who] = _longest_runs([blocks[d] for d in inside], who)
            runs[key] = run
        return replace(
            self,
            as_of=as_of,
            term_start=term_start,
            blocks=blocks,
            sums=sums,
            runs=runs,
            school_days=school_days,
        )

    def attendance(self) -> pl.DataFrame:
        """The attendance columns of `engine.compute_indicators` at `as_of` (with
        `recent_days`), one row per pupil with a school day in a window, by pupil id.

        The kept sums go to Polars as they are (int32, every position) and are filtered, cast
        and sorted there, in parallel, rather than copied per window in numpy first.
        """
        out: dict[str, np.ndarray] = {"pupil_id": self.pupil_ids}
        for window in self.windows:
            named = dict(zip(_FIGURES, self.sums[window.key], strict=True))
            out.update(window_columns(window.key, named, self.runs[window.key][0]))
        out["recent_days"] = self._recent_days()
        screened = self.sums[_SPAN][0] > 0
        frame = attendance_frame(out, [w.key for w in self.windows]).filter(pl.Series(screened))
        frame = frame.with_columns(pl.exclude("^.*_weekday_top$").cast(pl.Int64))
        ids = self.pupil_ids[screened]
        return frame if np.all(ids[1:] > ids[:-1]) else frame.sort("pupil_id")

    def _recent_days(self) -> np.ndarray:
        """School days in the last 4 weeks of the term (compute_indicators refuses a date
        without any)."""
        end = _epoch(self.as_of)
        start = max(end - 27, _epoch(self.term_start))
        recent = np.zeros(len(self.pupil_ids), np.int64)
        for day, block in self.blocks.items():
            if start <= day <= end:
                recent[: block.shape[1]] += block[_SCHEDULED] > 0
        return recent

    def indicators(self, *, organiser_id: int | None = None, **inputs: object) -> pl.DataFrame:
        """Every indicator at `as_of`, as `engine.compute_indicators` gives them (the other
        inputs, placements, grades and so on, by keyword). With `organiser_id` the KASAM
        dialogue's answers up to `as_of` come through `hooks.dialogue`, as a full screen reads
        them (`queries.organiser_history`), so `kasam_fall` has its value here too."""
        if organiser_id is not None and "dialogue" not in inputs:
            inputs["dialogue"] = hooks.dialogue(organiser_id, self.as_of)
        return compute_indicators(
            None,
            as_of=self.as_of,
            term_start=self.term_start,
            windows=self.windows,
            attendance=self.attendance(),
            school_days=self.school_days,
            **inputs,  # type: ignore[arg-type]
        )


def _spans(
    windows: Sequence[Window], as_of: int, term_start: int, school_days: np.ndarray
) -> dict[str, tuple[int, int]]:
    """Each window's first and last epoch day (inclusive), and `_span` around them all."""
    spans: dict[str, tuple[int, int]] = {}
    for window in windows:
        if window.days is None:
            spans[window.key] = (term_start, as_of)
        elif window.school:
            spans[window.key] = school_day_bounds(window, as_of, school_days)
        else:
            end = as_of - window.offset
            spans[window.key] = (end - window.days + 1, end)
    spans[_SPAN] = (min(s for s, _ in spans.values()), max(e for _, e in spans.values()))
    return spans


_FIGURE_EXPRESSIONS = {"days": pl.lit(True), **day_figures()}
_FIGURES = tuple(_FIGURE_EXPRESSIONS)
_WHOLE = _FIGURES.index("whole_days")


def _day_figures(block: np.ndarray, day: int) -> np.ndarray:
    """One day's figures (`engine.day_figures`, the same expressions), (figure, position)
    as int32; zero for the pupils without a school day."""
    frame = pl.DataFrame({name: block[i] for i, name in enumerate(DAY_COLUMNS)}).with_columns(
        date=pl.lit(_EPOCH + dt.timedelta(days=day))
    )
    school = block[_SCHEDULED] > 0
    values = (
        frame.select(
            expression.cast(pl.Int32).alias(name)
            for name, expression in _FIGURE_EXPRESSIONS.items()
        )
        .to_numpy()
        .T
    )
    return np.asarray(values * school)


def _school_and_whole(block: np.ndarray, at: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Which pupils (all, or the positions `at`) had a school day, and were wholly absent."""
    if at is None:
        scheduled, absent = block[_SCHEDULED], block[_ABSENT]
    else:
        inside = at < block.shape[1]
        at = np.where(inside, at, 0)
        scheduled, absent = np.where(inside, block[_SCHEDULED, at], 0), block[_ABSENT, at]
    school = scheduled > 0
    return school, school & (absent >= scheduled)


def _extend_runs(run: np.ndarray, block: np.ndarray) -> None:
    """Add one day at the end of a window: (longest, run that ends the window) per pupil."""
    school, whole = _school_and_whole(block)
    size = block.shape[1]
    trailing = run[1, :size]
    trailing[whole] += 1
    trailing[school & ~whole] = 0
    np.maximum(run[0, :size], trailing, out=run[0, :size])


def _longest_runs(blocks: Sequence[np.ndarray], who: np.ndarray) -> np.ndarray:
    """(longest run, run that ends the window) of consecutive school days wholly absent over
    `blocks` (in date order) for the positions `who`: a day without lessons neither counts
    nor breaks a run."""
    run = np.zeros((2, len(who)), np.int64)
    for block in blocks:
        school, whole = _school_and_whole(block, who)
        run[1] = np.where(whole, run[1] + 1, np.where(school, 0, run[1]))
        np.maximum(run[0], run[1], out=run[0])
    return run


def _grow(values: np.ndarray, size: int) -> np.ndarray:
    """`values` padded with zeros to `size` positions (pupils who appeared today)."""
    missing = size - values.shape[-1]
    if not missing:
        return values
    pad = [(0, 0)] * (values.ndim - 1) + [(0, missing)]
    return np.pad(values, pad)


def _positions(pupil_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each of `ids`' position (ids may repeat), new pupils appended at the end:
    (all pupil ids, positions). A table by id when the ids are dense enough, else a search."""
    if not len(ids):
        return pupil_ids, np.zeros(0, np.int64)
    everyone = np.concatenate([pupil_ids, ids[:1]])
    low = int(min(everyone.min(), ids.min()))
    high = int(max(everyone.max(), ids.max()))
    if high - low <= 4 * (len(pupil_ids) + len(ids)) + 1_000_000:
        table = np.full(high - low + 1, -1, np.int64)
        table[pupil_ids - low] = np.arange(len(pupil_ids))
        position = table[ids - low]
        missing = position < 0
        if missing.any():
            new = np.unique(ids[missing])
            table[new - low] = len(pupil_ids) + np.arange(len(new))
            position[missing] = table[ids[missing] - low]
            pupil_ids = np.concatenate([pupil_ids, new])
        return pupil_ids, position
    order = np.argsort(pupil_ids, kind="stable")
    known = pupil_ids[order]
    at = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
    found = known[at] == ids if len(known) else np.zeros(len(ids), bool)
    position = np.empty(len(ids), np.int64)
    position[found] = order[at[found]]
    new, index = np.unique(ids[~found], return_inverse=True)
    position[~found] = len(pupil_ids) + index
    return np.concatenate([pupil_ids, new]), position
