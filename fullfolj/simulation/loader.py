"""Load the simulator's stream into the product's tables, cut at a date ("today").

Rows dated after the cut are dropped, as in a real municipality where the future has not
happened: no attendance, grades or moves yet, and lessons over by then are registered. Lessons
of the next two weeks stay as the timetable.
Bulk inserts go straight to SQL (COPY on PostgreSQL) because the ORM would take minutes.
The simulator's ground truth (`truth`) is no product table: it is written as a Parquet file
beside the data, for `fullfolj screen --evaluate --truth FILE`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction

from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.attendance.models import AbsenceReason, Lesson, LessonAttendance
from fullfolj.grades.models import Grade, GradeWarning
from fullfolj.schools import models as s

TIMETABLE_AHEAD = dt.timedelta(days=14)

# table in the stream -> model; the stream's columns are the models' column names.
MODELS = {
    "organisers": s.Organiser,
    "schools": s.School,
    "school_years": s.SchoolYear,
    "terms": s.Term,
    "days_off": s.DayOff,
    "subjects": s.Subject,
    "absence_reasons": AbsenceReason,
    "pupils": s.Pupil,
    "guardians": s.Guardian,
    "guardianships": s.Guardianship,
    "staff": s.Staff,
    "staff_roles": s.StaffRole,
    "classes": s.SchoolClass,
    "placements": s.Placement,
    "mentorships": s.Mentorship,
    "groups": s.TeachingGroup,
    "group_members": s.GroupMembership,
    "teaching_assignments": s.TeachingAssignment,
    "lessons": Lesson,
    "attendance": LessonAttendance,
    "grades": Grade,
    "grade_warnings": GradeWarning,
}
RENAMES = {
    "classes": {"class_id": "school_class_id"},
    "placements": {"class_id": "school_class_id"},
    "groups": {"class_id": "school_class_id"},
    "mentorships": {"staff_id": "mentor_id"},
}
DEMO_PASSWORD = "demo"  # noqa: S105 - printed by `make demo`; the demo holds no real data


def default_truth_path() -> Path:
    """Where the ground truth of the database's simulation goes: the data directory, named
    after the database (`demo.sqlite3` → `demo-truth.parquet`), so databases don't share one."""
    name = Path(str(connection.settings_dict["NAME"])).name.split(".")[0]
    return Path(settings.DATA_DIR) / f"{name}-truth.parquet"


class Loader:
    """Feeds frames into the database; remembers the small tables the big ones refer to."""

    def __init__(self, until: dt.date, now: dt.datetime | None = None) -> None:
        self.until = until
        # "Now" in UTC without a zone, as the lesson starts are kept.
        moment = now or dt.datetime.combine(until, dt.time(23, 59), tzinfo=dt.UTC)
        self.now = moment.astimezone(dt.UTC).replace(tzinfo=None)
        self.not_over: set[int] = set()
        self.counts: dict[str, int] = {}
        self.school_organiser: dict[int, int] = {}
        self.group_organiser: dict[int, int] = {}
        self.lesson_organiser: dict[int, int] = {}
        self.term_end: dict[int, dt.date] = {}
        self.pupil_organiser: dict[int, int] = {}
        self.pending_pupils: pl.DataFrame | None = None
        self.truth: pl.DataFrame | None = None

    def feed(self, table: str, frame: pl.DataFrame) -> None:
        frame = getattr(self, f"_prepare_{table}", lambda f: f)(frame)
        if frame is None or frame.is_empty():
            return
        if table == "truth":
            self.truth = frame if self.truth is None else pl.concat([self.truth, frame])
            return
        if table == "pupils":
            self.pending_pupils = frame  # needs the placements for its organiser
            return
        if table == "placements" and self.pending_pupils is not None:
            first = frame.sort("start").group_by("pupil_id", maintain_order=True).first()
            organiser = dict(zip(first["pupil_id"], first["organiser_id"], strict=True))
            pupils = self.pending_pupils.with_columns(
                pl.col("id").replace_strict(organiser, default=None).alias("organiser_id")
            ).with_columns(pl.col("organiser_id").fill_null(pl.col("municipality_of_residence_id")))
            self.pupil_organiser = dict(zip(pupils["id"], pupils["organiser_id"], strict=True))
            self.pending_pupils = None
            self._insert("pupils", pupils)
        self._insert(table, frame)

    # Each _prepare_<table> cuts at the date and adds the partition key where needed.
    def _prepare_schools(self, frame: pl.DataFrame) -> pl.DataFrame:
        self.school_organiser = dict(zip(frame["id"], frame["organiser_id"], strict=True))
        return frame

    def _prepare_terms(self, frame: pl.DataFrame) -> pl.DataFrame:
        self.term_end = dict(zip(frame["id"], frame["end"], strict=True))
        return frame

    def _prepare_groups(self, frame: pl.DataFrame) -> pl.DataFrame:
        self.group_organiser = {
            g: self.school_organiser[school]
            for g, school in zip(frame["id"], frame["school_id"], strict=True)
        }
        return frame

    def _prepare_staff(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("user_id"))

    def _prepare_placements(self, frame: pl.DataFrame) -> pl.DataFrame:
        return self._cut_period(frame).with_columns(
            pl.col("school_id").replace_strict(self.school_organiser).alias("organiser_id")
        )

    def _prepare_mentorships(self, frame: pl.DataFrame) -> pl.DataFrame:
        return self._cut_period(frame)

    def _prepare_group_members(self, frame: pl.DataFrame) -> pl.DataFrame:
        return self._cut_period(frame)

    def _prepare_lessons(self, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.filter(pl.col("date") <= self.until + TIMETABLE_AHEAD)
        # A lesson that is over was registered by its teacher, a few minutes after its end.
        end = pl.col("start") + pl.duration(minutes=pl.col("minutes"))
        over = (pl.col("date") < self.until) | ((pl.col("date") == self.until) & (end <= self.now))
        frame = frame.with_columns(
            pl.when(over).then(end + pl.duration(minutes=3)).alias("registered_at"),
            pl.when(over).then(pl.col("teacher_id")).alias("registered_by_id"),
            pl.when(over).then(1).otherwise(0).alias("version"),
        )
        self.not_over.update(frame.filter(~over, pl.col("date") == self.until)["id"].to_list())
        self.lesson_organiser.update(
            {
                lesson: self.group_organiser[group]
                for lesson, group in zip(frame["id"], frame["group_id"], strict=True)
            }
        )
        return frame

    def _prepare_attendance(self, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.filter(pl.col("date") <= self.until)
        if self.not_over:  # today's lessons still to come have no marks yet
            frame = frame.filter(~pl.col("lesson_id").is_in(list(self.not_over)))
        organisers = frame["lesson_id"].replace_strict(self.lesson_organiser, default=None)
        return frame.with_columns(organisers.alias("organiser_id"))

    def _prepare_grades(self, frame: pl.DataFrame) -> pl.DataFrame:
        ended = [t for t, end in self.term_end.items() if end <= self.until]
        frame = frame.filter(pl.col("term_id").is_in(ended))
        return frame.with_columns(
            pl.col("school_id").replace_strict(self.school_organiser).alias("organiser_id")
        )

    def _prepare_grade_warnings(self, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.filter(pl.col("date") <= self.until)
        return frame.with_columns(
            pl.col("pupil_id")
            .replace_strict(self.pupil_organiser, default=None)
            .alias("organiser_id")
        )

    def _prepare_truth(self, frame: pl.DataFrame) -> pl.DataFrame:
        # A crossing after "today" has not happened yet: the evaluation must not see it.
        return frame.with_columns(
            pl.when(pl.col("escalation_crossing") <= self.until)
            .then(pl.col("escalation_crossing"))
            .otherwise(None)
            .alias("escalation_crossing")
        )

    def _cut_period(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("start") <= self.until)

    def _insert(self, table: str, frame: pl.DataFrame) -> None:
        model = MODELS[table]
        frame = frame.rename(
            {k: v for k, v in RENAMES.get(table, {}).items() if k in frame.columns}
        )
        db_columns = {f.column for f in model._meta.concrete_fields}
        # Columns the simulator does not know get the model's default, as the ORM would give.
        frame = frame.with_columns(
            pl.lit(f.get_default()).alias(f.column)
            for f in model._meta.concrete_fields
            if f.column and f.column not in frame.columns and f.has_default()
        )
        frame = frame.select([c for c in frame.columns if c in db_columns])
        # Django stores "no value" in text columns as "", not NULL.
        blank_text = [
            f.column
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField) and not f.null and f.column in frame.columns
        ]
        frame = frame.with_columns(pl.col(blank_text).fill_null(""))
        bulk_insert(model._meta.db_table, frame)
        self.counts[table] = self.counts.get(table, 0) + frame.height


def bulk_insert(db_table: str, frame: pl.DataFrame) -> None:
    """Insert a frame's rows as they are: COPY on PostgreSQL, executemany elsewhere."""
    columns = frame.columns
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            frame.write_csv(buffer, include_header=False, null_value="\\N", quote_style="necessary")
            buffer.seek(0)
            sql = f"COPY {connection.ops.quote_name(db_table)} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            with cursor.cursor.copy(sql) as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {connection.ops.quote_name(db_table)} ({quoted}) VALUES ({marks})"  # noqa: S608
            for batch in frame.iter_slices(200_000):
                cursor.executemany(sql, batch.rows())


# The tables that take millions of rows: their secondary indexes are built once after the load.
LESSON_TABLES = (LessonAttendance._meta.db_table, Lesson._meta.db_table)
AGGREGATE_TABLES = ("attendance_pupilday", "attendance_pupilsubjectweek")
SQLITE_LOAD_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def sqlite_tuned_for_loading(tables: tuple[str, ...]) -> Iterator[None]:
    """On SQLite, inside the load's transaction: a page cache large enough to hold the big
    tables' B-trees, and the `tables`' non-unique indexes dropped before and built after. Inserting
    millions of rows into seven indexes at once touches pages at random, which a 2 MB cache
    keeps writing out; building an index once sorts its rows. Unique indexes stay: they
    check the data. Elsewhere (PostgreSQL's COPY) nothing changes."""
    if connection.vendor != "sqlite":
        yield
        return
    marks = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608 - placeholders only
            f"AND sql NOT LIKE 'CREATE UNIQUE%%' AND tbl_name IN ({marks})",
            list(tables),
        )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in indexes:
                cursor.execute(sql)
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")


def reset_sequences() -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(MODELS.values()))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create_logins(password: str = DEMO_PASSWORD) -> int:
    """A Django user for every staff member, all with the same demo password."""
    from django.contrib.auth.models import User

    hashed = make_password(password)
    staff = list(s.Staff.objects.filter(user__isnull=True))
    users = User.objects.bulk_create(
        User(
            username=m.username,
            first_name=m.first_name,
            last_name=m.last_name,
            email=m.email,
            password=hashed,
        )
        for m in staff
    )
    if connection.vendor == "sqlite" or not all(u.pk for u in users):
        by_name = dict(
            User.objects.filter(username__in=[m.username for m in staff]).values_list(
                "username", "id"
            )
        )
    else:
        by_name = {u.username: u.pk for u in users}
    for member in staff:
        member.user_id = by_name[member.username]
    s.Staff.objects.bulk_update(staff, ["user"], batch_size=1000)
    return len(users)


def load(
    stream: Iterable[tuple[str, pl.DataFrame]],
    *,
    until: dt.date,
    truth: Path | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Load a whole simulated municipality in one transaction; return row counts per table.

    Lessons over by `now` (aware; default: the end of `until`) are registered by their teacher;
    today's lessons still to come have no marks. The ground truth, cut at `until`, goes to the
    Parquet file `truth` (when given), written only once the database holds the data it describes.
    """
    loader = Loader(until, now)
    with transaction.atomic():
        with sqlite_tuned_for_loading(LESSON_TABLES):
            for table, frame in stream:
                loader.feed(table, frame)
        reset_sequences()
        create_logins()
        # The aggregates are read from the lesson rows through their indexes, built by now.
        with sqlite_tuned_for_loading(AGGREGATE_TABLES):
            loader.counts["pupil_days"] = rebuild_pupil_days()
    if truth is not None and loader.truth is not None:
        truth.parent.mkdir(parents=True, exist_ok=True)
        loader.truth.write_parquet(truth)
        loader.counts["truth"] = loader.truth.height
    return loader.counts
