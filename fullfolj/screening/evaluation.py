"""How good is each screening rule: screen a history at many dates and compare with an outcome.

Issue 5, "How good is each rule": on the municipality's own history, each rule and the whole
screen get precision, sensitivity (recall), specificity for a stated outcome, the weeks between
the first flag and the outcome, and per gender and school the flag rate and precision.

The outcome is given as data (`Outcome`): who is a case, the date the outcome happened (if it
did inside the data) and, where known, its onset: the first date a flag can be a warning of it
(a flag of a case long before its trouble began is luck, not a warning). Definitions, per rule
and for the whole screen (any rule), counted per pupil:

- population: every pupil in at least one screening (placed, or with school days);
- flagged: flagged at any screening date;
- a flag is correct when the pupil is a case and the flag's date is on or after the onset (any
  date when the onset is unknown);
- precision = flagged pupils with a correct flag / flagged pupils;
- sensitivity (recall) = cases whose outcome date falls after the first screening date and who
  had a correct flag strictly before it (within `horizon_weeks`, if given) / all cases whose
  outcome date falls after the first screening date and after their onset. A case whose
  outcome is on its onset day (its absence was already over 20 % when the escalation began)
  has no "before" to be warned in: it stays a case for precision and is counted apart as
  `already`;
- specificity = non-cases never flagged / non-cases;
- median_weeks = the median, over the recalled pupils, of whole days from the first correct flag
  before the outcome to the outcome, divided by 7.

`early_warning` is the screen against the simulator's ground truth (`simulator_outcome`): a case
is a pupil whose absence the simulator made escalate (`truth.escalates`), the onset its
`escalation_start`, the outcome date the crossing (`truth.escalation_crossing`): the first school
day on which the pupil's absence over the previous 20 school days exceeds 20 % of scheduled
minutes. The ground truth is read only here, never by a rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from fullfolj.attendance import columnar

from .engine import (
    GradeRules,
    NoSchoolDaysError,
    Rule,
    Window,
    compute_indicators,
    default_rules,
    school_days_of,
    screen,
    windows_for,
)

WHOLE_SCREEN = "*"
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class History:
    """The kept aggregates and small tables a screening reads, over a whole period.

    days: attendance_pupilday; terms: start, end (one row per term); the rest as
    `engine.compute_indicators` takes them; pupils: pupil_id, gender (for per-group figures).
    """

    days: pl.DataFrame
    terms: pl.DataFrame
    subject_weeks: pl.DataFrame | None = None
    grades: pl.DataFrame | None = None
    warnings: pl.DataFrame | None = None
    placements: pl.DataFrame | None = None
    pupils: pl.DataFrame | None = None
    support: pl.DataFrame | None = None
    dialogue: pl.DataFrame | None = None

    @cached_property
    def school_days(self) -> np.ndarray:
        """Every school day in `days` (epoch days, ascending), read once for all the dates a
        history is screened at: the calendar of the school-day windows."""
        last = self.days["date"].max()
        if not isinstance(last, dt.date):  # no days at all
            return np.zeros(0, np.int64)
        return school_days_of(self.days, last)

    def term_start(self, day: dt.date) -> dt.date | None:
        """Start of the term that `day` falls in, or None in a holiday between terms."""
        inside = self.terms.filter((pl.col("start") <= day) & (pl.col("end") >= day))
        return inside["start"].max() if inside.height else None  # type: ignore[return-value]


@dataclass(frozen=True)
class Outcome:
    """Ground truth for an evaluation: is_case per pupil and the date of the outcome (or null).

    frame: pupil_id, is_case (bool), outcome_date (Date, null where not observed) and optionally
    onset_date (Date): the earliest date a flag counts as a warning of the outcome.
    """

    frame: pl.DataFrame
    description: str
    # Pupils for whom the outcome can be seen at all (pupil_id, observed_on: the date it could
    # first be seen, e.g. their year-9 grades): only they are scored. None: every pupil.
    population: pl.DataFrame | None = None


def simulator_outcome(truth: pl.DataFrame) -> Outcome:
    """The simulator's escalating pupils and the day their absence first crossed 20 %."""
    return Outcome(
        truth.select(
            pl.col("pupil_id").cast(pl.Int64),
            is_case=pl.col("escalates"),
            outcome_date=pl.col("escalation_crossing"),
            onset_date=pl.col("escalation_start"),
        ),
        "fall = elev vars frånvaro simulatorn lät eskalera (från escalation_start); utfallsdag = "
        "första skoldag då frånvaron de senaste 20 skoldagarna överstiger 20 % "
        "(escalation_crossing)",
    )


def screening_dates(
    history: History,
    *,
    weekday: int | None = None,
    warm_up_days: int = 28,
) -> list[dt.date]:
    """The dates the screening ran on, from `warm_up_days` after the first data: every school
    day in a term, as the daily job screens (`weekday=None`), or every `weekday` in a term
    (1 = Monday: a weekly screening)."""
    first = history.days["date"].min()
    last = history.days["date"].max()
    if not isinstance(first, dt.date) or not isinstance(last, dt.date):  # no days at all
        return []
    start = first + dt.timedelta(days=warm_up_days)
    if weekday is None:
        school = (_EPOCH + dt.timedelta(days=int(day)) for day in history.school_days)
        return [day for day in school if day >= start and history.term_start(day) is not None]
    start += dt.timedelta(days=(weekday - start.isoweekday()) % 7)
    dates = []
    day = start
    while day <= last:
        if history.term_start(day) is not None:
            dates.append(day)
        day += dt.timedelta(days=7)
    return dates


def indicators_at(
    history: History,
    day: dt.date,
    *,
    windows: Sequence[Window],
    grade_rules: GradeRules | None = None,
) -> pl.DataFrame | None:
    """The screening indicators at `day`, or None outside term / without school days."""
    term_start = history.term_start(day)
    if term_start is None:
        return None
    try:
        return compute_indicators(
            history.days,
            as_of=day,
            term_start=term_start,
            windows=windows,
            subject_weeks=history.subject_weeks,
            grades=history.grades,
            warnings=history.warnings,
            placements=history.placements,
            grade_rules=grade_rules,
            support=history.support,
            dialogue=history.dialogue,
            school_days=history.school_days,
        )
    except NoSchoolDaysError:
        return None


def screen_history(
    history: History,
    rules: Sequence[Rule],
    dates: Iterable[dt.date],
    grade_rules: GradeRules | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Screen at each date: (flags: date, pupil_id, rule_id; roster: date, pupil_id, school_id).

    One vectorised screening per date; dates with no school days are skipped. `progress` is
    told (dates done, dates in all) after each date.
    """
    windows = windows_for(rules)
    flags, rosters = [], []
    dates = list(dates)
    for done, day in enumerate(dates, start=1):
        if progress is not None:
            progress(done - 1, len(dates))
        indicators = indicators_at(history, day, windows=windows, grade_rules=grade_rules)
        if indicators is None:
            continue
        school = pl.col("school_id") if "school_id" in indicators.columns else pl.lit(None)
        rosters.append(
            indicators.select(
                pl.lit(day).alias("date"), "pupil_id", school.cast(pl.Int64).alias("school_id")
            )
        )
        flags.append(
            screen(indicators, rules).select(pl.lit(day).alias("date"), "pupil_id", "rule_id")
        )
    if progress is not None:
        progress(len(dates), len(dates))
    flag_schema = {"date": pl.Date, "pupil_id": pl.Int64, "rule_id": pl.Utf8}
    roster_schema = {"date": pl.Date, "pupil_id": pl.Int64, "school_id": pl.Int64}
    return (
        pl.concat(flags) if flags else pl.DataFrame(schema=flag_schema),
        pl.concat(rosters) if rosters else pl.DataFrame(schema=roster_schema),
    )


@dataclass(frozen=True)
class Evaluation:
    """Figures per rule (and `*` for the whole screen), per group, and the early warning."""

    per_rule: pl.DataFrame  # rule_id, pupils, flagged, cases, outcomes, already, recalled,
    #                         precision, sensitivity, specificity, median_weeks
    per_group: pl.DataFrame  # rule_id, group, value, pupils, flagged, flag_rate, precision
    outcome: str
    dates: int

    @property
    def whole(self) -> dict[str, Any]:
        return self.per_rule.filter(pl.col("rule_id") == WHOLE_SCREEN).row(0, named=True)

    def lines(self) -> list[str]:
        """Plain text for `fullfolj screen --evaluate`; the early_warning lines come last."""
        out = [f"utfall: {self.outcome}", f"screeningar: {self.dates}"]
        for row in self.per_rule.iter_rows(named=True):
            out.append(
                f"{row['rule_id']}: flaggade={row['flagged']} precision={_f(row['precision'])} "
                f"sensitivitet={_f(row['sensitivity'])} specificitet={_f(row['specificity'])} "
                f"median_veckor={_f(row['median_weeks'])}"
            )
        whole = self.whole
        out += [
            f"early_warning: recall={_f(whole['sensitivity'])}",
            f"early_warning: precision={_f(whole['precision'])}",
            f"early_warning: median_weeks={_f(whole['median_weeks'])}",
        ]
        return out


def _f(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def evaluate(
    history: History,
    outcome: Outcome,
    rules: Sequence[Rule] | None = None,
    *,
    dates: Sequence[dt.date] | None = None,
    horizon_weeks: int | None = None,
    grade_rules: GradeRules | None = None,
) -> Evaluation:
    """Screen `history` at `dates` (default: every school day in term) and score against
    `outcome`."""
    rules = list(default_rules() if rules is None else rules)
    dates = list(screening_dates(history) if dates is None else dates)
    flags, roster = screen_history(history, rules, dates, grade_rules)
    return score(
        flags,
        roster,
        outcome,
        [r.id for r in rules],
        pupils=history.pupils,
        horizon_weeks=horizon_weeks,
        screenings=roster["date"].n_unique(),
    )


def score(
    flags: pl.DataFrame,
    roster: pl.DataFrame,
    outcome: Outcome,
    rule_ids: Sequence[str],
    *,
    pupils: pl.DataFrame | None = None,
    horizon_weeks: int | None = None,
    screenings: int = 0,
) -> Evaluation:
    """The figures of `evaluate` from flags and rosters already computed (see module doc)."""
    first_date = roster["date"].min()
    if outcome.population is not None:
        after = pl.col("observed_on") > first_date if first_date is not None else pl.lit(False)
        seen = outcome.population.filter(after).select(pl.col("pupil_id").cast(pl.Int64))
        roster = roster.join(seen, on="pupil_id", how="semi")
        flags = flags.join(seen, on="pupil_id", how="semi")
    population = roster.group_by("pupil_id").agg(pl.col("school_id").sort_by("date").last())
    if pupils is not None:
        population = population.join(
            pupils.select(pl.col("pupil_id").cast(pl.Int64), "gender"), on="pupil_id", how="left"
        )
    truth = outcome.frame
    if "onset_date" not in truth.columns:
        truth = truth.with_columns(onset_date=pl.lit(None, pl.Date))
    population = (
        population.join(
            truth.select("pupil_id", "is_case", "outcome_date", "onset_date"),
            on="pupil_id",
            how="left",
        )
        .with_columns(
            pl.col("is_case").fill_null(False),
            observed=pl.col("is_case").fill_null(False)
            & (pl.col("outcome_date") > pl.lit(first_date, pl.Date)),
            already=pl.col("outcome_date") <= pl.col("onset_date"),
        )
        .with_columns(
            pl.col("already").fill_null(False) & pl.col("observed"),
            observed=pl.col("observed") & ~pl.col("already").fill_null(False),
        )
    )
    with_all = pl.concat([flags, flags.with_columns(rule_id=pl.lit(WHOLE_SCREEN))]).join(
        population.select("pupil_id", "is_case", "outcome_date", "onset_date"), on="pupil_id"
    )
    correct = pl.col("is_case") & (
        pl.col("onset_date").is_null() | (pl.col("date") >= pl.col("onset_date"))
    )
    early = correct & (pl.col("date") < pl.col("outcome_date"))
    if horizon_weeks is not None:
        early = early & (
            pl.col("date") >= pl.col("outcome_date") - pl.duration(weeks=horizon_weeks)
        )
    per_flag = with_all.with_columns(correct=correct, early=early.fill_null(False))
    rows, groups = [], []
    for rule_id in [WHOLE_SCREEN, *rule_ids]:
        fired = per_flag.filter(pl.col("rule_id") == rule_id)
        per_pupil = population.join(
            fired.group_by("pupil_id").agg(flagged=pl.lit(True), correct=pl.col("correct").any()),
            on="pupil_id",
            how="left",
        ).with_columns(pl.col("flagged").fill_null(False), pl.col("correct").fill_null(False))
        first = (
            fired.filter("early")
            .group_by("pupil_id")
            .agg(first_flag=pl.col("date").min(), outcome_date=pl.col("outcome_date").first())
        )
        weeks = first.select((pl.col("outcome_date") - pl.col("first_flag")).dt.total_days() / 7)
        observed = per_pupil.filter("observed")
        recalled = observed.join(first, on="pupil_id", how="semi").height
        flagged = per_pupil.filter("flagged")
        negatives = per_pupil.filter(~pl.col("is_case"))
        rows.append(
            {
                "rule_id": rule_id,
                "pupils": per_pupil.height,
                "flagged": flagged.height,
                "cases": per_pupil["is_case"].sum(),
                "outcomes": observed.height,
                "already": per_pupil["already"].sum(),
                "recalled": recalled,
                "precision": flagged["correct"].mean() if flagged.height else None,
                "sensitivity": recalled / observed.height if observed.height else None,
                "specificity": (~negatives["flagged"]).mean() if negatives.height else None,
                "median_weeks": weeks.to_series().median() if weeks.height else None,
            }
        )
        for group in ("gender", "school_id"):
            if group not in per_pupil.columns:
                continue
            groups.append(
                per_pupil.group_by(pl.col(group).cast(pl.Utf8).alias("value"))
                .agg(
                    pupils=pl.len(),
                    flagged=pl.col("flagged").sum(),
                    flag_rate=pl.col("flagged").mean(),
                    precision=pl.col("correct").filter(pl.col("flagged")).mean(),
                )
                .select(pl.lit(rule_id).alias("rule_id"), pl.lit(group).alias("group"), pl.all())
            )
    per_rule = pl.DataFrame(
        rows,
        schema={
            "rule_id": pl.Utf8,
            "pupils": pl.Int64,
            "flagged": pl.Int64,
            "cases": pl.Int64,
            "outcomes": pl.Int64,
            "already": pl.Int64,
            "recalled": pl.Int64,
            "precision": pl.Float64,
            "sensitivity": pl.Float64,
            "specificity": pl.Float64,
            "median_weeks": pl.Float64,
        },
    )
    per_group = pl.concat(groups).sort("rule_id", "group", "value") if groups else pl.DataFrame()
    return Evaluation(per_rule, per_group, outcome.description, screenings)


# --- From the simulator -------------------------------------------------------------------


def history_from_simulation(
    chunks: Iterable[tuple[str, pl.DataFrame]],
) -> tuple[History, pl.DataFrame]:
    """The kept aggregates and the ground truth, built from `simulation.engine.simulate` chunks.

    Builds attendance_pupilday and the proposed pupil_subject_week aggregate with Polars, one
    week's chunk at a time, as the product keeps them; returns (history, truth).
    """
    tables: dict[str, list[pl.DataFrame]] = {}
    days, subject_weeks = [], []
    lessons: pl.DataFrame | None = None
    for table, frame in chunks:
        if table == "lessons":
            lessons = frame
        elif table == "attendance":
            days.append(pupil_days(frame))
            if lessons is not None:
                subject_weeks.append(pupil_subject_weeks(frame, lessons))
        else:
            tables.setdefault(table, []).append(frame)
    whole = {name: pl.concat(frames) for name, frames in tables.items()}
    terms = whole["terms"].select("id", "start", "end")
    subjects = whole["subjects"].select(
        pl.col("id").alias("subject_id"), pl.col("code").alias("subject_code")
    )
    grades = whole.get(
        "grades",
        pl.DataFrame(
            schema={
                "pupil_id": pl.Int64,
                "subject_id": pl.Int64,
                "term_id": pl.Int64,
                "grade": pl.Utf8,
            }
        ),
    )
    warnings = whole.get(
        "grade_warnings",
        pl.DataFrame(schema={"pupil_id": pl.Int64, "subject_id": pl.Int64, "date": pl.Date}),
    )
    history = History(
        days=pl.concat(days).sort("pupil_id", "date"),
        terms=terms.select("start", "end"),
        subject_weeks=pl.concat(subject_weeks) if subject_weeks else None,
        grades=grades.join(subjects, on="subject_id")
        .join(
            terms.select(pl.col("id").alias("term_id"), pl.col("end").alias("term_end")),
            on="term_id",
        )
        .select("pupil_id", "subject_code", "term_id", "grade", "term_end"),
        warnings=warnings.join(subjects, on="subject_id").select(
            "pupil_id", "subject_code", "date"
        ),
        placements=whole["placements"]
        .join(
            whole["classes"].select(pl.col("id").alias("class_id"), "grade"),
            on="class_id",
            how="left",
        )
        .select("pupil_id", "school_id", "start", "end", "grade"),
        pupils=whole["pupils"].select(
            pl.col("id").alias("pupil_id"), pl.col("legal_gender").alias("gender")
        ),
    )
    return history, whole["truth"]


def pupil_days(attendance: pl.DataFrame) -> pl.DataFrame:
    """attendance_pupilday rows from lesson attendance rows (the kept per-day aggregate)."""
    days = columnar.pupil_days(attendance.select(columnar.LESSON_COLUMNS)).collect()
    return days.with_columns(pl.exclude("date").cast(pl.Int64))


def pupil_subject_weeks(attendance: pl.DataFrame, lessons: pl.DataFrame) -> pl.DataFrame:
    """pupil_subject_week rows: minutes per pupil, subject and ISO week (Monday)."""
    absent = pl.col("absent_minutes").cast(pl.Int64)
    return (
        attendance.join(
            lessons.select(pl.col("id").cast(pl.Int32).alias("lesson_id"), "subject_id"),
            on="lesson_id",
        )
        .group_by(
            pl.col("pupil_id").cast(pl.Int64), "subject_id", week=pl.col("date").dt.truncate("1w")
        )
        .agg(
            scheduled_minutes=pl.col("scheduled_minutes").cast(pl.Int64).sum(),
            absent_minutes=absent.sum(),
            invalid_minutes=absent.filter(pl.col("is_valid").eq(False)).sum(),
        )
    )
