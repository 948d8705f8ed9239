"""Classes, staff, teaching groups and weekly timetables of the simulated world, per year."""

from __future__ import annotations

import numpy as np
import polars as pl

from . import names
from .organisation import Organisation
from .people import Enrolment, Families, pick
from .schema import make_frame
from .timetable import (
    PER_CLASS_PROFILES,
    PLAN,
    SUBJECT_INDEX,
    SUBJECTS,
    lesson_minutes,
    profiles_for,
)
from .world import OPEN_END, World, YearLayout

SCHOOL_ROLES = ("principal", "special_educator", "special_teacher", "school_nurse", "counsellor",
                "psychologist")  # fmt: skip


def _open_ended(days: np.ndarray) -> pl.Series:
    """Epoch days with OPEN_END as null: an ongoing placement."""
    series = pl.Series("end", days, dtype=pl.Int32)
    return pl.select(pl.when(series != OPEN_END).then(series)).to_series()


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
        first = pick(origin.women if female else origin.men, self.rng)
        last = pick(origin.surnames, self.rng)
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


def build_classes_and_staff(
    world: World,
    enrolments: list[Enrolment],
    families: Families,
    pupil_family: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Classes per year, placements, teachers per subject, mentors, groups and timetables."""
    params, org, calendar = world.params, world.organisation, world.calendar
    staff = _StaffRegister(org, rng)
    for organiser, kind in enumerate(org.organiser_kind):
        staff.role(staff.hire(organiser), None, organiser, "administration")
        doctor = staff.hire(organiser)  # one doctor serves every school of the organiser
        for s in (i for i, o in enumerate(org.school_organiser) if o == organiser):
            staff.role(doctor, s, organiser, "school_doctor")
        if kind == "municipality":
            staff.role(staff.hire(organiser), None, organiser, "attendance_officer")
    for s, organiser in enumerate(org.school_organiser):
        for role in SCHOOL_ROLES:
            staff.role(staff.hire(organiser), s, organiser, role)
        if org.school_grades[s][1] >= 7:
            staff.role(staff.hire(organiser), s, organiser, "study_counsellor")

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
                    subjects_taught = [c for c in codes if c in PLAN[g][1]]
                    if not subjects_taught:
                        continue
                    load = sum(PLAN[g][1][c] for c in subjects_taught)
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
                    for c in subjects_taught:
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
        home_school = teacher_school[teacher]
        staff.role(teacher, home_school, org.school_organiser[home_school], "teacher")
        if teacher in is_mentor:
            staff.role(teacher, home_school, org.school_organiser[home_school], "mentor")

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
