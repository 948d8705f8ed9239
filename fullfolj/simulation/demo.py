"""The demo brought to today: after the simulated history is loaded, what the schools would
have done with it, through the product's own actions, so every role's pages have content.

In order: the absence ladder walked over the current term (tasks opened each school day, most
closed with documentation by their due date, recent and a few overdue ones left open); a
screening run; the rule evaluation; guardian notices (sent for earlier days, pending for the
last one); then the printed logins are chosen; support cases over the years (simulation/support.py,
with overdue follow-ups for the printed mentor and adaptations in the printed teacher's groups);
and a few of the teacher's recent lessons are left unregistered and the mentor's pupils' latest absences left unsettled ("ej bedömd").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from fullfolj.attendance.actions import refresh_pupil_days
from fullfolj.attendance.models import Lesson, LessonAttendance, PupilDay
from fullfolj.grades.models import Grade, GradeWarning
from fullfolj.ladder.actions import close_task, evaluate_ladder
from fullfolj.ladder.models import Actor, LadderRecord, LadderTask
from fullfolj.notices.actions import deliver_due, schedule_for_days
from fullfolj.notices.models import GuardianNotice
from fullfolj.records import retention
from fullfolj.records.models import RetentionPolicy
from fullfolj.reports.actions import save_absence_cohort, save_run_as_cohort, set_up_region
from fullfolj.schools.models import (
    Mentorship,
    Organiser,
    Pupil,
    Role,
    School,
    Staff,
    StaffRole,
    Term,
)
from fullfolj.screening.actions import NoSchoolDays, run_screening
from fullfolj.screening.models import ScreeningRun

from .bank_kasam import simulate_bank_and_kasam
from .files import simulate_file_imports
from .handovers import plan_moves, write_handovers
from .oversight import simulate_oversight
from .support import simulate_support

CLOSED_SHARE = 93  # percent of ladder tasks closed by their due date; the rest stay overdue
IN_PROGRESS_DAYS = 21  # the team's and principal's tasks opened since are left open
DAILY_LADDER_DAYS = 14  # the last days the ladder is walked every school day, before: weekly
NOTICE_DAYS = 10  # school days back with guardian notices
UNREGISTERED = 4  # recent lessons the printed teacher has still to register
UNSETTLED_DAYS = 3  # the latest school days whose absences the printed mentor has to settle
ADMIN_APPS = ("schools", "attendance", "ladder", "grades", "screening", "notices", "records")
SHARED_VIEW_ONLY = ("access", "bank")  # the access log, the shared resource bank: read only
RECORD_TEXT = {
    Actor.MENTOR: (
        LadderRecord.Kind.CONTACT,
        "Ringde vårdnadshavare om frånvaron; eleven har varit sjuk och är tillbaka.",
    ),
    Actor.STUDENT_HEALTH: (
        LadderRecord.Kind.MEETING,
        "EHT har kartlagt frånvaron med elev och vårdnadshavare; plan för återgång upprättad.",
    ),
    Actor.PRINCIPAL: (
        LadderRecord.Kind.DECISION,
        "Rektor har beslutat om åtgärder med ansvarig och datum för uppföljning.",
    ),
}


@dataclass
class Progress:
    """One line per phase on stdout: the phase, what it made, and its time."""

    write: Callable[[str], object]
    totals: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[dict[str, str]]:
        started, cpu = time.perf_counter(), time.process_time()
        result = {"made": ""}
        self.write(f"demo: {name} …")
        yield result
        seconds = time.perf_counter() - started
        self.totals[name] = seconds
        # CPU time beside the wall time: on a busy machine the wall time says little.
        used = time.process_time() - cpu
        self.write(f"demo: {name}: {result['made']} in {seconds:.1f} s ({used:.1f} s CPU)")


def current_term(today: dt.date) -> Term | None:
    """The term running today, else the last one that has begun."""
    return Term.objects.filter(start__lte=today).order_by("-start").first()


def school_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Days from `start` to `end` on which some pupil had lessons."""
    return sorted(
        PupilDay.objects.filter(date__gte=start, date__lte=end)
        .values_list("date", flat=True)
        .distinct()
    )


def _pinned(day: dt.date) -> override_settings:
    """The product's clock at `day`, as if the job ran then."""
    return override_settings(FULLFOLJ_TODAY=day.isoformat())


def _keeps(pk: int, percent: int) -> bool:
    """A stable pseudo-random choice per row, so the same seed gives the same demo."""
    return (pk * 2654435761) % 100 < percent


def walk_ladder(today: dt.date) -> Counter[str]:
    """The ladder evaluation over the term so far, each task closed with documentation by its
    due date by the one who acts (a few left overdue).

    The daily job's days are thinned to the first school day of each week until the last two
    weeks (the evaluation dominates the build); tasks open a few days later than daily runs
    would open them, which a demo does not show.
    """
    term = current_term(today)
    if term is None:
        return Counter()
    closers = _closers()
    opened = 0
    days = school_days(term.start, today)
    recent = today - dt.timedelta(days=DAILY_LADDER_DAYS)
    weeks = {day.isocalendar()[:2] for day in days}
    firsts = {min(d for d in days if d.isocalendar()[:2] == week) for week in weeks}
    # The team's and the principal's tasks of the last weeks are still being worked on.
    in_progress = today - dt.timedelta(days=IN_PROGRESS_DAYS)
    for day in (d for d in days if d in firsts or d > recent):
        with _pinned(day):
            _close_due(day, closers, in_progress)
            opened += len(evaluate_ladder(None, day))
    open_tasks = LadderTask.objects.filter(closed_at__isnull=True)
    counts = Counter({"opened": opened, "open": open_tasks.count()})
    counts["overdue"] = open_tasks.filter(due__lt=today).count()
    return counts


def _closers() -> dict[tuple[int, str], int]:
    """Who closes a task without an assignee, per school and actor."""
    result: dict[tuple[int, str], int] = {}
    order = [Role.SPECIAL_EDUCATOR, Role.COUNSELLOR, Role.SCHOOL_NURSE, Role.PRINCIPAL]
    for role in reversed(order):  # the first in `order` wins
        actor = Actor.PRINCIPAL if role == Role.PRINCIPAL else Actor.STUDENT_HEALTH
        for school, staff in StaffRole.objects.filter(role=role, school__isnull=False).values_list(
            "school_id", "staff_id"
        ):
            result[school, actor] = staff
    return result


def _close_due(day: dt.date, closers: dict[tuple[int, str], int], in_progress: dt.date) -> None:
    # Due on a weekend or holiday: closed on the school day before.
    due = LadderTask.objects.filter(
        closed_at__isnull=True, due__lte=day + dt.timedelta(days=3), opened_on__lt=day
    ).select_related("step")
    staff = {s.pk: s for s in Staff.objects.filter(pk__in=set(closers.values()))}
    for task in due:
        if not _keeps(task.pk, CLOSED_SHARE):
            continue
        if task.actor != Actor.MENTOR and task.opened_on >= in_progress:
            continue
        by_id = task.assignee_id or closers.get((task.school_id or 0, task.actor))
        by = staff.get(by_id) if by_id else None
        if by is None:
            by = Staff.objects.filter(pk=by_id).first() if by_id else None
        if by is None:
            continue
        kind, text = RECORD_TEXT[Actor(task.actor)]
        if task.actor == Actor.MENTOR and task.step.order >= 2:
            kind = LadderRecord.Kind.MEETING
            text = "Möte med elev och vårdnadshavare; EHT informerat. Uppföljning om tre veckor."
        close_task(task, kind=kind, date=day, text=text, by=by)


def screen(today: dt.date) -> Counter[str]:
    """A screening run today for every organiser with pupils."""
    counts: Counter[str] = Counter()
    for organiser in Organiser.objects.filter(pk__in=Pupil.objects.values("organiser_id")):
        try:
            run = run_screening(organiser, today)
        except NoSchoolDays:
            continue
        counts["runs"] += 1
        counts["flagged"] += run.flagged_pupils
    return counts


# The rule evaluation on each organiser's own history, as the rule page shows it: the one place
# the demo names it, whether it runs in the build or beside the served site.
EVALUATE = ("screen", "--evaluate")


def evaluate_rules() -> str:
    """Run the rule evaluation now; say how many organisers it covered."""
    out = io.StringIO()
    call_command(*EVALUATE, stdout=out)
    lines = out.getvalue().splitlines()
    return f"{sum(1 for line in lines if line.startswith('screen --evaluate'))} organisers"


def send_notices(today: dt.date) -> Counter[str]:
    """Guardian notices for the invalid absence of the last school days, scheduled as the
    register would have, each day at its own date; earlier days delivered (email and SMS kept in
    memory, nothing leaves the machine), the last school day's still pending."""
    days = school_days(today - dt.timedelta(days=3 * NOTICE_DAYS), today)[-NOTICE_DAYS:]
    pairs: dict[dt.date, set[tuple[int, dt.date]]] = {}
    for pupil, day in (
        LessonAttendance.objects.filter(date__in=days, is_valid=False, absent_minutes__gt=0)
        .values_list("pupil_id", "date")
        .distinct()
    ):
        pairs.setdefault(day, set()).add((pupil, day))
    for day in days[:-1]:
        with _pinned(day), transaction.atomic():
            schedule_for_days(pairs.get(day, set()))
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        FULLFOLJ_SMS_BACKEND="fullfolj.notices.channels.LocmemSMSBackend",
    ):
        deliver_due(batch=500)
    from django.core import mail

    from fullfolj.notices.channels import LocmemSMSBackend

    mail.outbox = []
    LocmemSMSBackend.outbox.clear()
    if days:
        with transaction.atomic():
            schedule_for_days(pairs.get(days[-1], set()))
    return Counter(GuardianNotice.objects.values_list("status", flat=True))


@dataclass
class Cast:
    """The printed logins: a username per role, all at one municipal school where possible."""

    usernames: dict[str, str]
    school: str
    sender: str = ""  # a year-6 mentor who writes handovers (simulation/handovers.py)

    @property
    def mentor(self) -> Staff:
        return Staff.objects.get(username=self.usernames[Role.MENTOR])

    @property
    def teacher(self) -> Staff:
        return Staff.objects.get(username=self.usernames[Role.TEACHER])


def choose_cast(today: dt.date) -> Cast:
    """The person printed for each role, chosen so that their pages have something to do.

    The mentor: at a municipal school with years 7-9 (grades and F warnings), the one whose
    current mentees have the most open ladder tasks and recent absence. The others at the same
    school (the teacher: a subject teacher who is not that mentor, with the most recent
    lessons); the school doctor, administration and compulsory-school officer of its
    municipality.
    """
    days = school_days(today - dt.timedelta(days=21), today)[-UNSETTLED_DAYS:]
    upper = School.objects.filter(organiser__kind=Organiser.Kind.MUNICIPALITY, grade_to__gte=7)
    mentees: dict[int, set[int]] = {}
    for mentor_id, pupil_id in (
        Mentorship.objects.active_on(today)
        .filter(pupil__placements__school__in=upper)
        .values_list("mentor_id", "pupil_id")
        .distinct()
    ):
        mentees.setdefault(mentor_id, set()).add(pupil_id)
    if not mentees:
        raise RuntimeError("The demo has no current mentorship: nothing to show a mentor.")
    tasks = Counter(
        LadderTask.objects.filter(closed_at__isnull=True).values_list("pupil_id", flat=True)
    )
    absent = set(
        LessonAttendance.objects.filter(date__in=days, absent_minutes__gt=0, is_valid=True)
        .values_list("pupil_id", flat=True)
        .distinct()
    )
    best_id = max(
        mentees,
        key=lambda m: (
            sum(tasks[p] for p in mentees[m]),
            len(mentees[m] & absent),
            len(mentees[m]),
            -m,
        ),
    )
    mentor = Staff.objects.get(pk=best_id)
    school = (
        School.objects.filter(staff_roles__staff=mentor, staff_roles__role=Role.MENTOR)
        .order_by("pk")
        .first()
    )
    if school is None:
        raise RuntimeError(f"The mentor {mentor.username} holds the role at no school.")
    usernames: dict[str, str] = {Role.MENTOR: mentor.username}
    recent = today - dt.timedelta(days=14)
    roles = StaffRole.objects.filter(school=school)
    teachers = set(roles.filter(role=Role.TEACHER).values_list("staff_id", flat=True))
    mentors = set(roles.filter(role=Role.MENTOR).values_list("staff_id", flat=True))
    lessons = Counter(
        Lesson.objects.filter(teacher__in=teachers, date__gte=recent, date__lt=today).values_list(
            "teacher_id", flat=True
        )
    )
    candidates = sorted(teachers - {mentor.pk}, key=lambda t: (t in mentors, -lessons[t], t))
    teacher = Staff.objects.filter(pk__in=candidates[:1]).first()
    usernames[Role.TEACHER] = (teacher or mentor).username
    for role, _label in Role.choices:
        if role in usernames:
            continue
        holders = StaffRole.objects.filter(role=role).select_related("staff")
        holder = (
            holders.filter(school=school).order_by("staff__username").first()
            or holders.filter(organiser_id=school.organiser_id).order_by("staff__username").first()
            or holders.order_by("staff__username").first()
        )
        if holder is not None:
            usernames[role] = holder.staff.username
    return Cast(usernames, school.name)


def sending_mentor(today: dt.date) -> Staff | None:
    """A mentor of year-6 pupils who move: the one with the most handovers still to send."""
    from fullfolj.handover.models import HandoverVersion

    counts = Counter(
        Mentorship.objects.active_on(today)
        .filter(pupil__placements__start__gt=today)
        .exclude(
            pupil__handovers__versions__status=HandoverVersion.Status.SENT,
        )
        .values_list("mentor_id", flat=True)
    )
    if not counts:
        return None
    best = max(counts, key=lambda m: (counts[m], -m))
    return Staff.objects.get(pk=best)


def sending_school(username: str) -> str:
    """The school where the printed year-6 mentor holds the role."""
    school = School.objects.filter(
        staff_roles__staff__username=username, staff_roles__role=Role.MENTOR
    ).first()
    return school.name if school else ""


def leave_unregistered(teacher: Staff, today: dt.date) -> int:
    """A few of the teacher's recent lessons not yet registered: no marks, no registration,
    as a register left for later looks (the pupils' day aggregates follow)."""
    lessons = list(
        Lesson.objects.filter(
            teacher=teacher,
            date__lt=today,
            date__gte=today - dt.timedelta(days=14),
            registered_at__isnull=False,
        ).order_by("-start")
    )
    chosen = [lessons[i] for i in (0, 2, 5, 9)[:UNREGISTERED] if i < len(lessons)]
    if not chosen:
        return 0
    with transaction.atomic():
        marks = LessonAttendance.objects.filter(lesson__in=chosen)
        pairs = set(marks.values_list("pupil_id", "date"))
        marks.delete()
        Lesson.objects.filter(pk__in=[lesson.pk for lesson in chosen]).update(
            registered_at=None, registered_by=None, version=0
        )
        refresh_pupil_days(pairs, subjects={lesson.subject_id for lesson in chosen})
    return len(chosen)


def leave_unsettled(mentor: Staff, today: dt.date) -> int:
    """The latest absences of the mentor's pupils not yet known to be valid or not ("ej
    bedömd"), as before the family calls in; and one in five such absences on the last school
    day across the municipality. Invalid absences stay as they are (their notices went out)."""
    days = school_days(today - dt.timedelta(days=21), today)[-UNSETTLED_DAYS:]
    if not days:
        return 0
    mentees = Mentorship.objects.active_on(today).filter(mentor=mentor).values("pupil_id")
    absences = LessonAttendance.objects.filter(absent_minutes__gt=0, is_valid=True)
    chosen = absences.filter(pupil_id__in=mentees, date__in=days) | absences.filter(
        date=days[-1], pupil_id__in=_every_fifth_pupil(days[-1])
    )
    with transaction.atomic():
        ids = list(chosen.values_list("pk", flat=True))
        rows = LessonAttendance.objects.filter(pk__in=ids)
        pairs = set(rows.values_list("pupil_id", "date"))
        rows.update(is_valid=None, reason=None)
        refresh_pupil_days(pairs, rows_deleted=False)
    return len(ids)


def _every_fifth_pupil(day: dt.date) -> list[int]:
    absent = (
        LessonAttendance.objects.filter(date=day, absent_minutes__gt=0, is_valid=True)
        .values_list("pupil_id", flat=True)
        .distinct()
    )
    return [pupil for pupil in absent if pupil % 5 == 0]


def count_grades(today: dt.date) -> str:
    """Grades of the terms that have ended and this term's warnings of a likely F."""
    term = current_term(today)
    grades = Grade.objects.count()
    warnings = GradeWarning.objects.filter(term=term).count() if term else 0
    return f"{grades} term grades of earlier terms, {warnings} F warnings this term"


def open_admin(staff: Staff) -> None:
    """Let an administration login into the admin: staff status and the model permissions of
    the product's apps. The admin itself shows and changes only its organiser's rows
    (schools.admin_scope); names in municipality-wide views stay a separate permission."""
    user = staff.user
    if user is None:
        raise RuntimeError(f"{staff.username} has no login.")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    permissions = (
        Permission.objects.filter(content_type__app_label__in=ADMIN_APPS).exclude(
            codename="view_pupil_names"
        )
        | Permission.objects.filter(
            content_type__app_label__in=SHARED_VIEW_ONLY, codename__startswith="view_"
        )
        | Permission.objects.filter(
            # The organiser decides which student-health data asks for a second factor.
            content_type__app_label="access",
            codename__in=["add_secondfactorrequirement", "change_secondfactorrequirement"],
        )
    )
    user.user_permissions.set(permissions)


def logins_path() -> Path:
    """Where the printed logins are kept, so a second `fullfolj demo` prints the same ones."""
    name = Path(str(connection.settings_dict["NAME"])).name.split(".")[0]
    return Path(settings.DATA_DIR) / f"{name}-logins.json"


def save_cast(cast: Cast) -> None:
    path = logins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"school": cast.school, "usernames": cast.usernames, "sender": cast.sender}
    path.write_text(json.dumps(data, indent=1))


def saved_cast() -> Cast | None:
    path = logins_path()
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    usernames = {str(k): str(v) for k, v in data["usernames"].items()}
    return Cast(usernames, str(data["school"]), str(data.get("sender", "")))


def bring_to_today(
    today: dt.date, write: Callable[[str], object], *, evaluate: bool = True
) -> Cast:
    """Every phase after the load, in order, each with its progress line; returns the cast.

    `evaluate=False` leaves the rule evaluation (minutes of CPU at 2,000 pupils) to the caller,
    which runs it beside the served site."""
    progress = Progress(write)
    with progress.phase("absence ladder over the term") as result:
        ladder = walk_ladder(today)
        result["made"] = (
            f"{ladder['opened']} tasks opened, {ladder['open']} open now "
            f"({ladder['overdue']} overdue)"
        )
    with progress.phase("screening run") as result:
        runs = screen(today)
        result["made"] = f"{runs['runs']} runs, {runs['flagged']} pupils flagged"
    if evaluate:
        with progress.phase("rule evaluation") as result:
            result["made"] = evaluate_rules()
    with progress.phase("guardian notices") as result:
        notices = send_notices(today)
        result["made"] = ", ".join(f"{n} {status}" for status, n in sorted(notices.items()))
    with progress.phase("printed logins") as result:
        cast = choose_cast(today)
        admin = cast.usernames.get(Role.ADMINISTRATION)
        if admin:
            open_admin(Staff.objects.get(username=admin))
        save_cast(cast)
        result["made"] = f"{len(cast.usernames)} logins at {cast.school}"
    with progress.phase("support cases") as result:
        made = simulate_support(today, mentor=cast.mentor, teacher=cast.teacher)
        result["made"] = (
            f"{made['cases']} cases, {made['measures']} measures, {made['evaluations']} "
            f"evaluations, {made['mappings']} mappings, {made['minutes']} EHT minutes"
        )
    with progress.phase("compulsory-school oversight") as result:
        made = simulate_oversight(today)
        result["made"] = ", ".join(f"{n} {what}" for what, n in made.items())
    with progress.phase("handovers") as result:
        moves = plan_moves(today, printed_mentor=cast.mentor)
        written = write_handovers(today)
        result["made"] = (
            f"{moves['moves']} pupils moving to year 7 ({moves['classes']} classes), "
            f"{written['sent']} handovers sent ({written['read']} read), {written['draft']} "
            f"drafts, {written['missing']} missing"
        )
        sender = sending_mentor(today)
        if sender is not None:
            cast.sender = sender.username
            save_cast(cast)
    with progress.phase("resource bank and KASAM") as result:
        made = simulate_bank_and_kasam(today, mentor=cast.mentor)
        result["made"] = (
            f"{made['uses']} adaptations from the bank, {made['responses']} KASAM answers, "
            f"{made['login']} pupil login"
        )
    with progress.phase("unregistered lessons") as result:
        result["made"] = f"{leave_unregistered(cast.teacher, today)} lessons"
    with progress.phase("unsettled absences") as result:
        result["made"] = f"{leave_unsettled(cast.mentor, today)} absences"
    with progress.phase("grades") as result:
        result["made"] = count_grades(today)
    with progress.phase("file imports") as result:
        admin = cast.usernames.get(Role.ADMINISTRATION)
        result["made"] = (
            simulate_file_imports(Staff.objects.get(username=admin), cast.school, today)
            if admin
            else "no administration"
        )
    with progress.phase("reports") as result:
        result["made"] = prepare_reports(cast, today)
    with progress.phase("retention") as result:
        result["made"] = apply_retention(today)
    return cast


def apply_retention(today: dt.date) -> str:
    """Every organiser gets the default retention periods (in the admin), and the first daily
    run is made, as the worker would at night: what is older than its period goes."""
    for organiser in Organiser.objects.filter(retention_policy__isnull=True):
        RetentionPolicy.objects.create(organiser=organiser)
    counts = retention.run(today=today)
    removed = sum(sum(per.values()) for per in counts.values())
    return f"periods for {len(counts)} organisers, {removed} rows past them removed"


def prepare_reports(cast: Cast, today: dt.date) -> str:
    """What the reports need beyond the data: today's risk zone saved as a list at the cast's
    school and for its municipality (the evaluation report follows them), and a region of the
    municipalities, all but one sharing their figures, read by the printed administration."""
    school = School.objects.get(name=cast.school)
    run = ScreeningRun.objects.filter(organiser=school.organiser).first()
    lists = 0
    if run is not None:
        save_run_as_cohort(run, school=school, by=None)
        save_run_as_cohort(run, school=None, by=None)
        lists = 2
    # As Åmål did: the pupils over the line a year ago, followed since (the report's default
    # terms are the two latest ended ones).
    ended = list(Term.objects.filter(end__lt=today).order_by("-start")[1:2])
    if ended:
        save_absence_cohort(school, ended[0], by=None)
        lists += 1
    municipalities = list(
        Organiser.objects.filter(kind=Organiser.Kind.MUNICIPALITY).order_by("name")
    )
    admin = cast.usernames.get(Role.ADMINISTRATION)
    analysts = list(Staff.objects.filter(username=admin)) if admin else []
    keep_out = [m for m in municipalities if m.pk != school.organiser_id][-1:]
    set_up_region(
        "Regionen (demo)",
        sharing=[m for m in municipalities if m not in keep_out],
        not_sharing=keep_out,
        analysts=analysts,
    )
    return f"{lists} saved lists, a region of {len(municipalities)} municipalities"
