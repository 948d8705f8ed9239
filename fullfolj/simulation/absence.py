"""Attendance, one school week at a time: lessons and one row per pupil and lesson.

The model, per pupil (latent traits drawn once, kept in `truth`):
- a base absence rate (log-normal between pupils) scaled by the grade's stage factor;
- whole-day episodes: illness (1-5 consecutive school days, February peak, a little more on
  Mondays/Fridays), granted leave (often next to a holiday) and invalid whole days (truancy,
  mostly Mondays/Fridays); an episode running into the weekend continues on the next school day;
- part-day valid absence (dentist, sent home ill) and skipped lessons (invalid, more often the
  first and last lesson of the day, and the pupil's skipped subject, if any);
- repeated late arrivals (2-20 minutes, mostly to the first lesson);
- escalation for a few pupils: from a start week, extra absence rising over 8-20 weeks, first as
  skipped lessons and lateness, then more and more whole days, mostly invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .schema import SCHEMA
from .school_calendar import from_epoch_day
from .timetable import SUBJECT_INDEX, SUBJECTS
from .world import DENTIST, INVALID, LEAVE, OPEN_END, SICK, World, YearLayout

WINDOW_DAYS = 20  # the screening window for escalation_crossing (school days)
CROSSING_RATE = 0.20  # absence over the window that marks the crossing
TIME_ZONE = "Europe/Stockholm"  # the timetable is kept in local time, lessons are stored in UTC
SKIP_SUBJECTS = {"IDH": 0.35, "MA": 0.20, "EN": 0.15, "SV": 0.10, "SL": 0.10, "MU": 0.10}


def local_to_utc(local: pl.Series) -> pl.Series:
    """Wall-clock times in Sweden (the timetable's 08:15) as the UTC instants the database keeps,
    naive: 08:15 is 07:15 UTC in winter and 06:15 UTC in summer."""
    return (
        local.dt.replace_time_zone(TIME_ZONE, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def season_factor(iso_week: int, february_peak: float) -> float:
    """Relative illness hazard by ISO week: autumn colds, the winter peak in weeks 5-10."""
    if 5 <= iso_week <= 10:
        return february_peak
    if 1 <= iso_week <= 4 or 11 <= iso_week <= 13:
        return 1.0 + (february_peak - 1.0) * 0.4
    if 45 <= iso_week <= 52:
        return 1.1
    if 40 <= iso_week <= 44:
        return 0.9
    return 0.75  # late spring, early autumn


def stage_index(grade: np.ndarray) -> np.ndarray:
    """0 = F, 1 = years 1-3, 2 = years 4-6, 3 = years 7-9."""
    return np.select([grade <= 0, grade <= 3, grade <= 6], [0, 1, 2], 3)


def _mean_length(weights: tuple[float, ...]) -> float:
    return float(np.dot(np.arange(1, len(weights) + 1), weights) / np.sum(weights))


@dataclass
class Traits:
    """Latent traits per pupil (arrays over all pupils)."""

    base_rate: np.ndarray
    invalid_share: np.ndarray
    ability: np.ndarray
    aptitude: np.ndarray  # (pupils, subjects): subject-specific strength for grades
    lateness_rate: np.ndarray
    skip_subject: np.ndarray  # subject index or -1
    skip_rate: np.ndarray
    escalates: np.ndarray
    escalation_week: np.ndarray  # index into calendar.weeks, -1
    escalation_start: np.ndarray  # epoch day, -1
    escalation_peak: np.ndarray
    escalation_ramp: np.ndarray


class AttendanceSimulator:
    """Generates lessons and attendance week by week, keeping the state that spans weeks."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.params = params = world.params
        self.calendar = world.calendar
        pupils = world.pupils
        rng = np.random.default_rng([params.seed, 4])
        self.traits = self._draw_traits(rng)
        # Episode state carried over weekends and between chunks.
        self.remaining = np.zeros(pupils, dtype=np.int8)
        self.ongoing = np.zeros(pupils, dtype=np.int8)
        # Rolling window of (scheduled, absent) minutes over the last 20 school days, escalators.
        self.escalators = np.flatnonzero(self.traits.escalates)
        self.window = np.zeros((len(self.escalators), WINDOW_DAYS, 2), dtype=np.int64)
        self.window_fill = np.zeros(len(self.escalators), dtype=np.int64)
        self.crossing = np.full(pupils, -1, dtype=np.int64)
        # Minutes per pupil and subject in the current term, for grades.
        self.term_scheduled = np.zeros((pupils, len(SUBJECTS)), dtype=np.int64)
        self.term_absent = np.zeros((pupils, len(SUBJECTS)), dtype=np.int64)
        self.next_lesson_id = 1
        self.next_attendance_id = 1
        weeks = self.calendar.weeks
        seasons = np.array([
            season_factor(from_epoch_day(m).isocalendar()[1], params.february_peak) for m in weeks
        ])  # fmt: skip
        days_per_week = np.array([
            self.calendar.school_day[0, m - self.calendar.first_day : m - self.calendar.first_day
                                     + 7].sum() for m in weeks
        ])  # fmt: skip
        self.season = seasons / np.average(seasons, weights=days_per_week)
        near = self.calendar.near_break[0].sum() / max(self.calendar.school_day[0].sum(), 1)
        self.leave_norm = 1.0 + (params.leave_near_break_factor - 1.0) * near
        # Timetable rows per weekday, per year.
        self.by_weekday = [
            [np.flatnonzero(layout.timetable["weekday"] == d) for d in range(5)]
            for layout in world.years
        ]

    # --- traits -----------------------------------------------------------------------------

    def _draw_traits(self, rng: np.random.Generator) -> Traits:
        params, world = self.params, self.world
        pupils = world.pupils
        z = rng.standard_normal(pupils)
        high = rng.random(pupils) < params.high_absence_share
        factor = np.where(
            high, params.high_absence_factor * np.exp(0.3 * rng.standard_normal(pupils)), 1.0
        )
        base = np.minimum(params.absence_median * np.exp(params.absence_sigma * z) * factor, 0.6)
        z = z + np.where(high, 1.5, 0.0)  # ability relates to the whole latent rate
        rho = params.ability_absence_correlation
        ability = rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(pupils)
        aptitude = rng.normal(0.0, 0.5, size=(pupils, len(SUBJECTS))).astype(np.float32)
        first_grade = np.full(pupils, -1, dtype=np.int64)
        max_grade = np.full(pupils, -1, dtype=np.int64)
        for layout in reversed(world.years):
            placed = layout.pupil_grade >= 0
            first_grade[placed] = layout.pupil_grade[placed]
            max_grade = np.maximum(max_grade, layout.pupil_grade)
        minority_chance = np.clip(
            params.invalid_minority_base + params.invalid_minority_slope * base
            + params.invalid_minority_stage79 * (max_grade >= 7), 0.0, 0.7,
        )  # fmt: skip
        minority = rng.random(pupils) < minority_chance
        invalid_share = np.where(minority, rng.beta(3, 3, pupils), rng.beta(1, 14, pupils))
        late = rng.random(pupils) < params.late_share
        lateness = np.where(late, rng.uniform(*params.late_rate, pupils), params.late_background)
        # One skipped subject, for some pupils in years 4-9.
        skips = (max_grade >= 4) & (rng.random(pupils) < params.skip_subject_share)
        codes = list(SKIP_SUBJECTS)
        weights = np.array(list(SKIP_SUBJECTS.values()))
        chosen = rng.choice(len(codes), size=pupils, p=weights / weights.sum())
        skip_subject = np.where(skips, [SUBJECT_INDEX[codes[i]] for i in chosen], -1)
        skip_rate = np.where(skips, rng.uniform(*params.skip_subject_rate, pupils), 0.0)
        escalation = self._draw_escalation(rng, max_grade)
        return Traits(
            base, invalid_share, ability, aptitude, lateness, skip_subject, skip_rate, *escalation
        )

    def _draw_escalation(self, rng: np.random.Generator, max_grade: np.ndarray) -> tuple[
            np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Pick escalating pupils and their start weeks, spread over the data.

        Starts are at least `escalation_min_week` school weeks into the data and four weeks
        after the pupil arrived, so the before-period is visible, and leave four weeks after.
        """
        params, world, calendar = self.params, self.world, self.calendar
        pupils = world.pupils
        weeks = np.array(calendar.weeks)
        last = len(weeks) - 5
        week = rng.integers(
            params.escalation_min_week, max(last, params.escalation_min_week + 1), size=pupils
        )
        monday = weeks[np.minimum(week, len(weeks) - 1)]
        year = np.array([
            calendar.year_index[m - calendar.first_day : m - calendar.first_day + 7].max()
            for m in weeks
        ])[np.minimum(week, len(weeks) - 1)]  # fmt: skip
        grade = np.full(pupils, -1, dtype=np.int64)
        entry = np.full(pupils, OPEN_END, dtype=np.int64)
        leave = np.full(pupils, -1, dtype=np.int64)
        for index, layout in enumerate(world.years):
            placed = layout.pupil_class >= 0
            grade = np.where(placed & (year == index), layout.pupil_grade, grade)
            entry = np.where(placed, np.minimum(entry, layout.pupil_start), entry)
            leave = np.where(placed, np.maximum(leave, layout.pupil_end), leave)
        eligible = (grade >= 3) & (monday >= entry + 28) & (monday + 28 <= leave)
        weight = np.where(eligible, np.where(grade >= 7, 3.0, 1.0), 0.0)
        wanted = min(round(pupils * params.escalation_share), int(eligible.sum()))
        escalates = np.zeros(pupils, dtype=bool)
        if wanted:
            escalates[rng.choice(pupils, size=wanted, replace=False, p=weight / weight.sum())] = (
                True
            )
        start = np.full(pupils, -1, dtype=np.int64)
        start_week = np.full(pupils, -1, dtype=np.int64)
        for p in np.flatnonzero(escalates):
            layout = world.years[year[p]]
            organiser = int(world.class_organiser[layout.pupil_class[p]])
            day = calendar.first_school_day_from(organiser, int(monday[p]))
            start[p] = day
            start_week[p] = int(np.searchsorted(weeks, day, side="right") - 1)
        peak = np.where(escalates, rng.uniform(*params.escalation_peak, pupils), 0.0)
        ramp = np.where(
            escalates,
            rng.integers(
                params.escalation_ramp_weeks[0], params.escalation_ramp_weeks[1] + 1, pupils
            ),
            0,
        )
        return escalates, start_week, start, peak, ramp

    # --- one week ---------------------------------------------------------------------------

    def week(self, week_index: int) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        """Lessons and attendance of one school week (None when nobody has school)."""
        params, world, calendar, traits = self.params, self.world, self.calendar, self.traits
        monday = self.calendar.weeks[week_index]
        offset = monday - calendar.first_day
        year = int(calendar.year_index[offset : offset + 7].max())
        layout = world.years[year]
        rng = np.random.default_rng([params.seed, 5, week_index])
        pupils = world.pupils
        school_day = calendar.school_day[:, offset : offset + 5]  # (organisers, 5)
        near_break = calendar.near_break[:, offset : offset + 5]
        placed = layout.pupil_class >= 0
        organiser = np.where(placed, world.class_organiser[np.maximum(layout.pupil_class, 0)], 0)
        stage = np.asarray(params.stage_factors)[stage_index(layout.pupil_grade)]
        rate = traits.base_rate * stage
        share = traits.invalid_share

        # Daily hazards (see module docstring); f_* are the target shares of scheduled time.
        f_sick = rate * (1 - share) * (1 - params.valid_partial_share) * (1 - params.leave_share)
        f_leave = rate * (1 - share) * (1 - params.valid_partial_share) * params.leave_share
        f_invalid = rate * share * params.invalid_whole_day_share
        f_whole = np.minimum(f_sick + f_leave + f_invalid, 0.9)
        h_sick = f_sick / (_mean_length(params.illness_days) * (1 - f_whole))
        h_leave = f_leave / (_mean_length(params.leave_days) * (1 - f_whole)) / self.leave_norm
        h_invalid = f_invalid / (_mean_length(params.invalid_days) * (1 - f_whole))
        partial_valid = rate * (1 - share) * params.valid_partial_share / 0.33
        skip = rate * share * (1 - params.invalid_whole_day_share) / 0.9 / (1 - f_whole)

        # Escalation this week: the extra absence rises linearly to its peak.
        since = week_index - traits.escalation_week
        active = traits.escalates & (since >= 0)
        progress = np.where(
            active, np.minimum((since + 1) / np.maximum(traits.escalation_ramp, 1), 1.0), 0.0
        )
        extra = traits.escalation_peak * progress
        whole_share = 0.2 + 0.5 * progress
        escalation_day = extra * whole_share
        skip = skip + extra * (1 - whole_share) / np.maximum(1 - escalation_day, 0.2) / 0.9
        late = traits.lateness_rate + params.escalation_late_rate * active

        # Whole days, one weekday at a time, so episodes carry over.
        day_kind = np.zeros((5, pupils), dtype=np.int8)
        partial_kind = np.zeros((5, pupils), dtype=np.int8)
        partial_from = rng.random((5, pupils), dtype=np.float32)
        partial_length = rng.integers(1, 3, size=(5, pupils), dtype=np.int8)
        attends = np.zeros((5, pupils), dtype=bool)
        lengths = {
            SICK: params.illness_days,
            LEAVE: params.leave_days,
            INVALID: params.invalid_days,
        }
        for d in range(5):
            day = monday + d
            today = (
                placed
                & school_day[organiser, d]
                & (layout.pupil_start <= day)
                & (layout.pupil_end >= day)
            )
            attends[d] = today
            cont = today & (self.remaining > 0)
            day_kind[d, cont] = self.ongoing[cont]
            self.remaining[cont] -= 1
            fresh = today & (self.remaining == 0) & ~cont
            wd_valid, wd_invalid = params.weekday_valid[d], params.weekday_invalid[d]
            p_sick = h_sick * self.season[week_index] * wd_valid
            p_leave = (
                h_leave
                * wd_valid
                * np.where(near_break[organiser, d], params.leave_near_break_factor, 1.0)
            )
            p_invalid = h_invalid * wd_invalid
            u = rng.random(pupils)
            kind = np.select(
                [u < p_sick, u < p_sick + p_leave, u < p_sick + p_leave + p_invalid],
                [SICK, LEAVE, INVALID],
                0,
            ).astype(np.int8)
            kind[~fresh] = 0
            for code, weights in lengths.items():
                starts = np.flatnonzero(kind == code)
                if starts.size:
                    length = (
                        rng.choice(
                            len(weights), size=starts.size, p=np.array(weights) / np.sum(weights)
                        )
                        + 1
                    )
                    self.remaining[starts] = length - 1
                    self.ongoing[starts] = code
            day_kind[d, fresh] = kind[fresh]
            # Escalation adds whole days, mostly invalid (some reported sick by the family).
            extra_day = (
                today & (day_kind[d] == 0) & (rng.random(pupils) < escalation_day * wd_invalid)
            )
            day_kind[d, extra_day] = np.where(
                rng.random(int(extra_day.sum())) < params.escalation_invalid_share, INVALID, SICK
            )
            # Part-day valid absence: a dentist visit (1-2 lessons) or sent home ill.
            event = today & (day_kind[d] == 0) & (rng.random(pupils) < partial_valid * wd_valid)
            partial_kind[d, event] = np.where(rng.random(int(event.sum())) < 0.6, DENTIST, SICK)

        lessons, rows = self._expand(layout, year, school_day, monday, attends)
        if lessons is None:
            return None
        pupil, lesson, weekday = rows["pupil"], rows["lesson"], rows["day"]
        tt = layout.timetable
        source = lessons["source"]
        minutes = tt["minutes"][source][lesson]
        slot = tt["slot"][source][lesson].astype(np.int64)
        slots = tt["slots"][source][lesson].astype(np.int64)
        subject = tt["subject"][source][lesson]
        count = len(pupil)

        kind = day_kind[weekday, pupil]
        absent = np.where(kind > 0, minutes, 0).astype(np.int16)
        reason = kind.copy()
        pk = partial_kind[weekday, pupil]
        frac = partial_from[weekday, pupil]
        dentist_from = np.floor(frac * slots).astype(np.int64)
        home_from = 1 + np.floor(frac * np.maximum(slots - 1, 1)).astype(np.int64)
        partial = (kind == 0) & (
            (
                (pk == DENTIST)
                & (slot >= dentist_from)
                & (slot < dentist_from + partial_length[weekday, pupil])
            )
            | ((pk == SICK) & (slot >= home_from))
        )
        absent[partial] = minutes[partial]
        reason[partial] = pk[partial]
        edge = params.edge_lesson_factor
        middle = np.clip((slots - 2 * edge) / np.maximum(slots - 2, 1), 0.2, None)
        position = np.where((slot == 0) | (slot == slots - 1), edge, middle)
        p_skip = skip[pupil] * position * np.asarray(params.weekday_invalid)[weekday] + np.where(
            subject == traits.skip_subject[pupil], traits.skip_rate[pupil], 0
        )
        skip_draw = rng.random(count, dtype=np.float32)
        skipped = (kind == 0) & ~partial & (skip_draw < p_skip)
        whole_lesson = rng.random(count, dtype=np.float32) < 0.85
        part = 5 + np.floor(rng.random(count, dtype=np.float32) * (minutes - 10)).astype(np.int16)
        absent[skipped] = np.where(whole_lesson, minutes, part)[skipped]
        reason[skipped] = INVALID
        present = absent == 0
        p_late = late[pupil] * np.where(slot == 0, 1.0, params.late_later_lesson_factor)
        is_late = present & (rng.random(count, dtype=np.float32) < p_late)
        late_minutes = np.zeros(count, dtype=np.int16)
        drawn = 2 + rng.geometric(1 / (params.late_minutes_mean - 1), size=int(is_late.sum())) - 1
        late_minutes[is_late] = np.minimum(np.minimum(drawn, 20), minutes[is_late] - 1)
        self._accumulate(pupil, weekday, subject, minutes, absent, monday)

        attendance = pl.DataFrame({
            "id": np.arange(self.next_attendance_id, self.next_attendance_id + count,
                            dtype=np.int64),
            "lesson_id": lessons["id"][lesson].astype(np.int32),
            "pupil_id": (pupil + 1).astype(np.int32),
            "date": (monday + weekday).astype(np.int32),
            "scheduled_minutes": minutes.astype(np.int16),
            "absent_minutes": absent,
            "late_minutes": late_minutes,
            "is_valid": reason != INVALID,
            "reason_id": reason.astype(np.int8),
        })  # fmt: skip
        self.next_attendance_id += count
        attendance = attendance.with_columns(
            pl.col("date").cast(pl.Date),
            pl.when((pl.col("absent_minutes") > 0) | (pl.col("late_minutes") > 0)).then(
                pl.col("is_valid") & (pl.col("absent_minutes") > 0)
            ),
            pl.when(pl.col("absent_minutes") > 0).then(pl.col("reason_id")),
        ).select([pl.col(c).cast(t) for c, t in SCHEMA["attendance"].items()])
        return lessons["frame"], attendance

    def _expand(
        self,
        layout: YearLayout,
        year: int,
        school_day: np.ndarray,
        monday: int,
        attends: np.ndarray,
    ) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
        """This week's lessons from the timetable, and one row per member pupil and lesson."""
        world = self.world
        tt = layout.timetable
        sources, days = [], []
        for d in range(5):
            rows = self.by_weekday[year][d]
            rows = rows[school_day[world.class_organiser[tt["class"][rows]], d]]
            sources.append(rows)
            days.append(np.full(len(rows), d, dtype=np.int64))
        source = np.concatenate(sources)
        if not source.size:
            return None, {}
        lesson_day = np.concatenate(days)
        count = len(source)
        ids = np.arange(self.next_lesson_id, self.next_lesson_id + count, dtype=np.int64)
        self.next_lesson_id += count
        date = monday + lesson_day
        frame = pl.DataFrame(
            {
                "id": ids,
                "group_id": tt["group"][source],
                "subject_id": tt["subject"][source] + 1,
                "teacher_id": tt["teacher"][source],
                "term_id": self.calendar.term_id[date - self.calendar.first_day],
                "date": pl.Series(date.astype(np.int32)).cast(pl.Date),
                "start": local_to_utc(
                    pl.Series((date * 1440 + tt["start"][source]) * 60_000_000).cast(
                        pl.Datetime("us")
                    )
                ),
                "minutes": tt["minutes"][source],
            }
        ).select([pl.col(c).cast(t) for c, t in SCHEMA["lessons"].items()])
        # Members of each lesson's class, then keep those placed (and in school) that day.
        klass = tt["class"][source]
        offsets, members = layout.class_offsets, layout.class_members
        sizes = offsets[klass + 1] - offsets[klass]
        lesson = np.repeat(np.arange(count), sizes)
        within = np.arange(len(lesson)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        pupil = members[offsets[klass][lesson] + within].astype(np.int64)
        day = lesson_day[lesson]
        keep = attends[day, pupil]
        return (
            {"id": ids, "source": source, "frame": frame},
            {"pupil": pupil[keep], "lesson": lesson[keep], "day": day[keep]},
        )

    def _accumulate(
        self,
        pupil: np.ndarray,
        day: np.ndarray,
        subject: np.ndarray,
        minutes: np.ndarray,
        absent: np.ndarray,
        monday: int,
    ) -> None:
        """Term minutes per subject (for grades) and the escalators' rolling window."""
        pupils, subjects = self.world.pupils, len(SUBJECTS)
        key = pupil * subjects + subject
        size = pupils * subjects
        self.term_scheduled += (
            np.bincount(key, weights=minutes, minlength=size)
            .astype(np.int64)
            .reshape(pupils, subjects)
        )
        self.term_absent += (
            np.bincount(key, weights=absent, minlength=size)
            .astype(np.int64)
            .reshape(pupils, subjects)
        )
        if not len(self.escalators):
            return
        daily = day * pupils + pupil
        scheduled = np.bincount(daily, weights=minutes, minlength=5 * pupils).reshape(5, pupils)
        missed = np.bincount(daily, weights=absent, minlength=5 * pupils).reshape(5, pupils)
        esc = self.escalators
        starts = self.traits.escalation_start[esc]
        for d in range(5):
            has = scheduled[d, esc] > 0
            rows = np.flatnonzero(has)
            slot = self.window_fill[rows] % WINDOW_DAYS
            self.window[rows, slot, 0] = scheduled[d, esc[rows]]
            self.window[rows, slot, 1] = missed[d, esc[rows]]
            self.window_fill[rows] += 1
            totals = self.window[rows].sum(axis=1)
            crossed = (
                (totals[:, 1] > CROSSING_RATE * totals[:, 0])
                & (monday + d >= starts[rows])
                & (self.crossing[esc[rows]] < 0)
            )
            self.crossing[esc[rows[crossed]]] = monday + d

    def reset_term(self) -> None:
        """Start counting a new term's minutes per subject."""
        self.term_scheduled[:] = 0
        self.term_absent[:] = 0
