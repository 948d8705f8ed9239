"""Parameters of the simulated municipality: every knob, what it models and where it comes from.

Sources: docs/absence.md; Skolverket's statistics on grundskolan (class sizes, pupils per teacher,
timplan, grade distributions, SVA); Skolinspektionen's and Skolverket's reports on school absence
(2008, 2016, 2023: most pupils a few percent absent, a tail with problematic absence, more in
years 7-9, Mondays/Fridays, winter illness peaks); Folkhälsomyndigheten's influenza season
reports (peak in weeks 5-10); SCB's migration statistics (children moving municipality).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameters:
    """Everything that shapes one simulated run. Same parameters → the same data, byte for byte."""

    # --- Size and time --------------------------------------------------------------------
    pupils: int = 2000  # pupils enrolled on the first school day (F-9)
    years: int = 2  # school years simulated
    seed: int = 1  # the only source of randomness
    first_school_year: int = 2024  # 2024 → 2024/25 (and 2025/26 with years=2)
    region_threshold: int = 50_000  # from this many pupils: 13 municipalities, several friskolor

    # --- Organisation ---------------------------------------------------------------------
    independent_share: float = 0.12  # pupils in friskolor (Skolverket: ~16 % nationally)
    class_size: int = 24  # target class size (Skolverket: ~22-25 in grundskola)
    f6_school_size: int = 320  # pupils per municipal F-6 school
    school_79_size: int = 480  # pupils per municipal 7-9 school
    friskola_size: int = 350  # pupils per region friskola (F-9)
    teacher_weekly_lessons: int = 22  # lessons a subject teacher takes before a new one is hired

    # --- Population dynamics (SCB: ~4-5 % of school-age children move municipality a year) ---
    move_out_rate: float = 0.04  # share of pupils moving away mid-year (placement ends)
    move_in_rate: float = 0.04  # share of pupils moving in mid-year (placement starts)
    summer_move_out_rate: float = 0.02  # leave over the summer (no placement next year)
    summer_move_in_rate: float = 0.02  # arrive over the summer in years 1-9
    sibling_share: float = 0.35  # new F pupils who are younger siblings of enrolled pupils
    coordination_share: float = 0.005  # samordningsnummer, mostly newly arrived pupils
    protected_share: float = 0.005  # skyddade personuppgifter (at least 3 pupils per run)
    single_guardian_share: float = 0.15  # pupils with one vårdnadshavare (SCB family statistics)
    email_missing_share: float = 0.06  # guardians with no e-mail on file
    email_malformed_share: float = 0.012  # e-mails that will bounce ("anna.svensson@")
    phone_missing_share: float = 0.04  # guardians with no phone on file
    sva_share: float = 0.09  # pupils graded in Svenska som andraspråk (Skolverket: ~10 %)

    # --- Absence level (Skolinspektionen/Skolverket: median ~4-5 %, tail > 15 % ~5-8 %) ---
    absence_median: float = 0.036  # median latent absence rate (share of scheduled minutes)
    absence_sigma: float = 0.4  # spread of the log-normal latent rate between pupils
    high_absence_share: float = 0.06  # pupils with persistently high absence (long tail) ...
    high_absence_factor: float = 3.5  # ... whose latent rate is this many times higher
    stage_factors: tuple[float, float, float, float] = (1.0, 0.95, 0.95, 1.35)
    # ^ multiplier for F, 1-3, 4-6 and 7-9: absence rises in the upper grades
    invalid_minority_base: float = 0.06  # chance a pupil's absence is largely invalid ...
    invalid_minority_slope: float = 2.0  # ... rising with the latent rate (truancy clusters)
    invalid_minority_stage79: float = 0.10  # ... and more in years 7-9
    valid_partial_share: float = 0.20  # valid absence that is part of a day (dentist, sent home)
    invalid_whole_day_share: float = 0.40  # invalid absence taken as whole days (rest: lessons)
    leave_share: float = 0.15  # valid whole-day absence that is granted leave (ledighet)
    illness_days: tuple[float, ...] = (0.45, 0.25, 0.15, 0.10, 0.05)  # episode length 1-5 days
    leave_days: tuple[float, ...] = (0.40, 0.15, 0.10, 0.10, 0.25)  # leave: often a whole week
    invalid_days: tuple[float, ...] = (0.70, 0.20, 0.10)  # truancy: mostly single days
    leave_near_break_factor: float = 3.0  # leave clusters next to holidays (longer trips)

    # --- Patterns ------------------------------------------------------------------------
    weekday_valid: tuple[float, ...] = (1.15, 0.95, 0.90, 0.95, 1.05)  # illness, Mon-Fri
    weekday_invalid: tuple[float, ...] = (1.50, 0.80, 0.70, 0.80, 1.45)  # truancy, Mon-Fri
    february_peak: float = 1.7  # illness hazard in weeks 5-10 relative to the yearly mean
    edge_lesson_factor: float = 1.6  # skipped lessons are more often first/last of the day

    # --- Escalation (docs/absence.md: a rising trend; 3-5 % of pupils) -------------------------
    escalation_share: float = 0.04  # pupils whose absence escalates during the data
    escalation_min_week: int = 8  # earliest start (school weeks into the data): a before-period
    escalation_ramp_weeks: tuple[int, int] = (8, 20)  # weeks from start to full level
    escalation_peak: tuple[float, float] = (0.25, 0.70)  # extra absence at full level
    escalation_invalid_share: float = 0.75  # escalated absence that is invalid (rest: "sick")
    escalation_late_rate: float = 0.10  # late arrivals per first lesson while escalating

    # --- Other individual patterns -------------------------------------------------------
    skip_subject_share: float = 0.03  # pupils (years 4-9) who skip one particular subject
    skip_subject_rate: tuple[float, float] = (0.25, 0.60)  # share of that subject's lessons
    late_share: float = 0.12  # pupils with repeated late arrivals
    late_rate: tuple[float, float] = (0.04, 0.18)  # chance of being late to the first lesson
    late_background: float = 0.004  # everyone else, per first lesson
    late_later_lesson_factor: float = 0.15  # lateness after breaks, relative to the first lesson
    late_minutes_mean: float = 6.0  # lateness is 2-20 minutes, mostly short

    # --- Grades (Skolverket: ~6-8 % F per subject in year 9, more with high absence) -----
    ability_absence_correlation: float = -0.3  # latent ability vs latent absence
    grade_absence_penalty: float = 5.0  # score lost per unit of absence (0.1 → half a grade)
    girl_grade_advantage: float = 0.2  # girls' higher grades (Skolverket, by gender)
    grade_noise: float = 0.35  # term-to-term variation in a subject
    warning_weeks_before_end: int = 6  # "risk för F" warnings, weeks before the term ends
    warning_recall: float = 0.75  # F and "-" grades preceded by a warning
    warning_false_alarm: float = 0.08  # E grades preceded by a warning

    @property
    def is_region(self) -> bool:
        """Region scale: several municipalities and independent organisers."""
        return self.pupils >= self.region_threshold
