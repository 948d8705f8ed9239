"""The indicators frame: every indicator's figures for every pupil at an as-of date (Polars).

The input is the per-pupil, per-day attendance aggregate the product keeps in step with the
lesson register (`attendance_pupilday`: pupil_id, organiser_id, date, lessons,
scheduled_minutes, absent_minutes, valid_minutes, invalid_minutes, unknown_minutes,
late_minutes, late_count), never the lesson rows, for speed. The attendance indicators are one
pass over that frame in (pupil, date) order: the dates are cut at every window boundary, each
pupil's rows in a segment are summed with `np.add.reduceat` (contiguous, so no hashing or
sorting) and a window adds up its segments; the longest whole-day run comes from the row
numbers of the whole-day rows. Nothing loops over pupils or rows in Python.

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

Minutes stay integers, so no engine differs from another by rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import polars as pl
from django.utils.translation import gettext

from fullfolj.attendance.columnar import DAY_COLUMNS

from .grades import GradeRules, grade_indicators
from .windows import (
    DEFAULT_WINDOWS,
    LAST_4W,
    TERM,
    NoSchoolDaysError,
    Window,
    _date,
    _epoch,
    check_window,
    school_day_reach,
    school_days_of,
)

_SUM_NAMES = {  # aggregate column -> indicator figure
    "scheduled_minutes": "scheduled",
    "absent_minutes": "absent",
    "valid_minutes": "valid",
    "invalid_minutes": "invalid",
    "unknown_minutes": "unknown",
    "late_minutes": "late_minutes",
    "late_count": "late_count",
}


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
    dialogue: pl.DataFrame | pl.LazyFrame | None = None,
    attendance: pl.DataFrame | None = None,
    school_days: np.ndarray | None = None,
) -> pl.DataFrame:
    """Every indicator for every pupil at `as_of`, one row per pupil.

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
    open at `as_of`: start <= as_of and end null or after it); dialogue `kasam_fall` (hundredths
    of a point: the largest fall of a KASAM dimension's mean from the pupil's previous answer to
    their latest up to `as_of`, at least 0; null with fewer than two answers).

    Raises NoSchoolDaysError when the term up to `as_of` has no school days in the last 28 days.
    """
    if as_of < term_start:
        raise NoSchoolDaysError(before_term(as_of, term_start))
    windows = list(dict.fromkeys([*windows, LAST_4W]))
    for window in windows:
        check_window(window)
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
            gettext(
                "No school days between %(start)s and %(as_of)s: the screening needs attendance "
                "from the last four weeks of the term (choose a day in term)."
            )
            % {"start": recent_start, "as_of": as_of}
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
            grade_indicators(grades.lazy(), as_of, rules).collect(), on="pupil_id", how="left"
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
    if dialogue is not None:
        frame = frame.join(_kasam_fall(dialogue.lazy(), as_of).collect(), on="pupil_id", how="left")
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


def _kasam_fall(dialogue: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Per pupil, the largest fall of a dimension's mean between their last two answers up to
    `as_of` (docs/kasam.md), in hundredths; pupils with one answer are left out."""
    return (
        dialogue.filter(pl.col("date") <= as_of)
        .sort("date", maintain_order=True)
        .group_by(pl.col("pupil_id").cast(pl.Int64), "dimension")
        .agg(
            latest=pl.col("mean_x100").last(),
            previous=pl.col("mean_x100").slice(-2, 1).first(),
            answers=pl.len(),
        )
        .filter(pl.col("answers") >= 2)
        .group_by("pupil_id")
        .agg(kasam_fall=(pl.col("previous") - pl.col("latest")).max().cast(pl.Int64))
        .with_columns(pl.col("kasam_fall").clip(lower_bound=0))
    )


def before_term(as_of: dt.date, term_start: dt.date) -> str:
    """Why a date before the term has nothing to screen."""
    return gettext("The screening date %(as_of)s is before the start of term %(term_start)s.") % {
        "as_of": as_of,
        "term_start": term_start,
    }


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
    if not (stats.first >= first and stats.last <= last and stats.scheduled > 0):
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
    lanes = _LANES if stats.low >= 0 and stats.high <= MAX_DAY_FIGURE else 1
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
    "days",
    *_SUM_NAMES.values(),
    "whole_days",
    "skip_days",
    "skipped_lessons",
    "irregular_days",
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


class _DayStats(NamedTuple):
    first: dt.date
    last: dt.date
    scheduled: int
    low: int
    high: int


def _day_stats(days: pl.LazyFrame) -> _DayStats:
    """First and last date, least scheduled minutes and the range of every day figure."""
    stats = days.select(
        first=pl.col("date").min(),
        last=pl.col("date").max(),
        scheduled=pl.col("scheduled_minutes").min(),
        low=pl.min_horizontal(pl.col(list(DAY_COLUMNS)).min()),
        high=pl.max_horizontal(pl.col(list(DAY_COLUMNS)).max()),
    ).collect()
    if stats["first"][0] is None:  # no rows: nothing can overflow
        return _DayStats(first=dt.date.max, last=dt.date.min, scheduled=1, low=0, high=0)
    return _DayStats(**stats.row(0, named=True))


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
