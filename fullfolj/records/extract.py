"""The register extract (registerutdrag, GDPR art. 15): everything Fullfölj holds about one
pupil, with the log of who read their record, as data (JSON) and as a PDF.

Every table that holds the pupil's data is a section; each row carries every stored field of
its table except internal bookkeeping (`SKIPPED`). A reference to a person, school or subject
is shown by name, one to another row of the extract by its number. For a pupil with protected
identity no address is written, neither the pupil's nor a guardian's, nor a guardian's contact
details: the extract is handed out and may reach others (docs/records.md)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fullfolj.access.models import AccessLog
from fullfolj.attendance.models import LessonAttendance, PupilDay
from fullfolj.compulsory.models import OversightCase, Step
from fullfolj.grades.models import Grade, GradeWarning
from fullfolj.handover.models import Handover, HandoverVersion
from fullfolj.kasam.models import Answer, PupilLogin, Response
from fullfolj.ladder.models import LadderRecord, LadderTask
from fullfolj.lib import clock
from fullfolj.notices.models import GuardianNotice
from fullfolj.records.models import Extract
from fullfolj.reports.models import Cohort
from fullfolj.riskmodel.models import RiskEstimate
from fullfolj.schools.models import (
    GroupMembership,
    Guardianship,
    Mentorship,
    Placement,
    Pupil,
)
from fullfolj.screening.models import Flag
from fullfolj.support.models import (
    AgreedAction,
    Case,
    CaseEntry,
    Evaluation,
    Mapping,
    Measure,
)

# Bookkeeping that says nothing about the pupil.
SKIPPED = {"pupil", "claim_token", "claimed_at", "attempts", "version"}
# Referenced rows shown by name (people, schools, subjects, rules); other references by number.
NAMED = {
    "schools.Staff",
    "schools.School",
    "schools.SchoolClass",
    "schools.TeachingGroup",
    "schools.Subject",
    "schools.Term",
    "schools.Organiser",
    "schools.Guardian",
    "ladder.LadderStep",
    "screening.ScreeningRule",
    "kasam.Question",
    "kasam.Questionnaire",
    "attendance.AbsenceReason",
}


# Column headings for fields whose own name is the default one (their verbose name is their
# field name), in a context of their own: the same word may be translated otherwise elsewhere.
HEADINGS = {
    "id": pgettext_lazy("extract column", "number"),
    "start": pgettext_lazy("extract column", "from"),
    "end": pgettext_lazy("extract column", "until"),
    "organiser": pgettext_lazy("extract column", "organiser"),
    "municipality_of_residence": pgettext_lazy("extract column", "municipality of residence"),
    "school": pgettext_lazy("extract column", "school"),
    "school_class": pgettext_lazy("extract column", "class"),
    "group": pgettext_lazy("extract column", "group"),
    "mentor": pgettext_lazy("extract column", "mentor"),
    "date": pgettext_lazy("extract column", "date"),
    "at": pgettext_lazy("extract column", "when"),
    "staff": pgettext_lazy("extract column", "who"),
    "role": pgettext_lazy("extract column", "role"),
    "page": pgettext_lazy("extract column", "page"),
    "created_at": pgettext_lazy("extract column", "created"),
    "created_by": pgettext_lazy("extract column", "created by"),
    "updated_at": pgettext_lazy("extract column", "changed"),
    "name": pgettext_lazy("extract column", "name"),
    "relation": pgettext_lazy("extract column", "relation"),
    "email": pgettext_lazy("extract column", "e-mail"),
    "phone": pgettext_lazy("extract column", "phone"),
    "address": pgettext_lazy("extract column", "address"),
    "subject": pgettext_lazy("extract column", "subject"),
    "term": pgettext_lazy("extract column", "term"),
    "teacher": pgettext_lazy("extract column", "teacher"),
    "lessons": pgettext_lazy("extract column", "lessons"),
    "scheduled_minutes": pgettext_lazy("extract column", "scheduled minutes"),
    "absent_minutes": pgettext_lazy("extract column", "absent minutes"),
    "valid_minutes": pgettext_lazy("extract column", "valid absence, minutes"),
    "invalid_minutes": pgettext_lazy("extract column", "invalid absence, minutes"),
    "unknown_minutes": pgettext_lazy("extract column", "absence not yet settled, minutes"),
    "late_minutes": pgettext_lazy("extract column", "late minutes"),
    "username": pgettext_lazy("extract column", "user name"),
    "made_at": pgettext_lazy("extract column", "made"),
    "made_by": pgettext_lazy("extract column", "made by"),
    "file_format": pgettext_lazy("extract column", "format"),
    "channel": pgettext_lazy("extract column", "how"),
}


def heading(name: str, verbose_name: object = None) -> str:
    """The column's heading: the field's own verbose name, or ours where it has none."""
    if verbose_name is not None and str(verbose_name) != name.replace("_", " "):
        return str(verbose_name)
    return str(HEADINGS.get(name, name.replace("_", " ")))


@dataclass
class Section:
    key: str
    title: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # (field name, heading)
    rows: list[dict[str, Any]] = field(default_factory=list)
    as_table: bool = True  # else printed row by row, one field per line


def _value(obj: models.Model, f: models.Field) -> Any:
    if f.is_relation:
        if f.related_model is not None and f.related_model._meta.label in NAMED:
            related = getattr(obj, f.name)
            return None if related is None else str(related)
        return getattr(obj, f.attname)
    if f.choices:
        return str(getattr(obj, f"get_{f.name}_display")())
    value = getattr(obj, f.attname)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _section(
    key: str, title: str, rows: Iterable[models.Model], *, skip: frozenset[str] = frozenset()
) -> Section:
    rows = list(rows)
    section = Section(key, title)
    model = type(rows[0]) if rows else None
    if model is None:
        return section
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.name not in SKIPPED | skip and not isinstance(f, models.BinaryField)
    ]
    section.columns = [(f.name, heading(f.name, f.verbose_name)) for f in fields]
    section.rows = [{f.name: _value(obj, f) for f in fields} for obj in rows]
    section.as_table = len(fields) <= WIDEST_TABLE
    return section


def _plain(key: str, title: str, rows: list[dict[str, Any]]) -> Section:
    columns = [(name, heading(name)) for name in (rows[0] if rows else {})]
    return Section(key, title, columns, rows)


# A table with more columns is printed row by row, one field per line (our own summaries, such
# as attendance per day, are always tables).
WIDEST_TABLE = 6

TITLES = {
    "pupil": gettext_lazy("The pupil"),
    "placements": gettext_lazy("Placements"),
    "mentorships": gettext_lazy("Mentors"),
    "groups": gettext_lazy("Teaching groups"),
    "guardians": gettext_lazy("Guardians"),
    "attendance_days": gettext_lazy("Attendance per day"),
    "lesson_marks": gettext_lazy("Lesson marks per subject"),
    "ladder_tasks": gettext_lazy("Absence ladder tasks"),
    "ladder_records": gettext_lazy("Absence ladder records"),
    "guardian_notices": gettext_lazy("Messages to guardians"),
    "screening_flags": gettext_lazy("Screening flags"),
    "cases": gettext_lazy("Support cases"),
    "case_entries": gettext_lazy("Case entries"),
    "mappings": gettext_lazy("Mappings"),
    "measures": gettext_lazy("Measures"),
    "evaluations": gettext_lazy("Evaluations"),
    "agreed_actions": gettext_lazy("Agreed actions"),
    "handovers": gettext_lazy("Handovers"),
    "handover_versions": gettext_lazy("Handover versions"),
    "kasam_responses": gettext_lazy("KASAM questionnaires"),
    "kasam_answers": gettext_lazy("KASAM answers"),
    "oversight_cases": gettext_lazy("Compulsory-school oversight"),
    "oversight_steps": gettext_lazy("Oversight steps"),
    "grades": pgettext_lazy("school marks", "Grades"),
    "grade_warnings": gettext_lazy("Grade warnings"),
    "risk_estimates": gettext_lazy("Risk estimates"),
    "saved_lists": gettext_lazy("Saved lists of pupils"),
    "pupil_login": gettext_lazy("The pupil's own login"),
    "extracts": gettext_lazy("Register extracts made"),
    "access_log": gettext_lazy("Who read the record"),
}

# Every table that refers to a pupil, and the section that holds its rows (a test keeps this
# complete: a new table naming pupils must be added to the extract or here, with a reason).
SOURCES = {
    "schools.Guardianship": "guardians",
    "schools.Placement": "placements",
    "schools.Mentorship": "mentorships",
    "schools.GroupMembership": "groups",
    "attendance.LessonAttendance": "lesson_marks",
    "attendance.PupilDay": "attendance_days",
    # The per-subject weekly sums are made of the same marks as "lesson_marks".
    "attendance.PupilSubjectWeek": "lesson_marks",
    # The monthly and weekly sums are the same days as "attendance_days", summed.
    "attendance.PupilMonth": "attendance_days",
    "attendance.PupilWeek": "attendance_days",
    "notices.GuardianNotice": "guardian_notices",
    "ladder.LadderTask": "ladder_tasks",
    "grades.Grade": "grades",
    "grades.GradeWarning": "grade_warnings",
    "screening.Flag": "screening_flags",
    "support.Case": "cases",
    "compulsory.OversightCase": "oversight_cases",
    "handover.Handover": "handovers",
    "kasam.Response": "kasam_responses",
    "kasam.PupilLogin": "pupil_login",
    "reports.Cohort": "saved_lists",
    "riskmodel.RiskEstimate": "risk_estimates",
    "records.Extract": "extracts",
    "access.AccessLog": "access_log",
}


def collect(pupil: Pupil) -> list[Section]:
    """Every section of the pupil's extract, in the order of the PDF."""
    protected = pupil.protected_identity
    s: list[Section] = []

    def add(key: str, rows: Iterable[models.Model], **kw: Any) -> None:
        s.append(_section(key, str(TITLES[key]), rows, **kw))

    def plain(key: str, rows: list[dict[str, Any]]) -> None:
        s.append(_plain(key, str(TITLES[key]), rows))

    pupil_row = _section("pupil", "", [pupil], skip=frozenset({"address"} if protected else ()))
    s.append(Section("pupil", str(TITLES["pupil"]), pupil_row.columns, pupil_row.rows, False))
    add("placements", Placement.objects.filter(pupil=pupil).order_by("start"))
    add("mentorships", Mentorship.objects.filter(pupil=pupil).order_by("start"))
    add("groups", GroupMembership.objects.filter(pupil=pupil).order_by("start"))
    guardians = []
    for link in Guardianship.objects.filter(pupil=pupil).select_related("guardian"):
        g = link.guardian
        row = {"name": str(g), "relation": link.relation}
        if not protected:
            row |= {"email": g.email, "phone": g.phone, "address": g.address}
        guardians.append(row)
    plain("guardians", guardians)
    days = PupilDay.objects.filter(pupil=pupil).order_by("date")
    plain(
        "attendance_days",
        [
            {
                "date": d.date.isoformat(),
                "lessons": d.lessons,
                "scheduled_minutes": d.scheduled_minutes,
                "absent_minutes": d.absent_minutes,
                "valid_minutes": d.valid_minutes,
                "invalid_minutes": d.invalid_minutes,
                "unknown_minutes": d.unknown_minutes,
                "late_minutes": d.late_minutes,
            }
            for d in days
        ],
    )
    marks = (
        LessonAttendance.objects.filter(pupil=pupil)
        .values("lesson__subject__name")
        .annotate(
            lessons=Count("pk"),
            scheduled_minutes=Sum("scheduled_minutes"),
            absent_minutes=Sum("absent_minutes"),
            late_minutes=Sum("late_minutes"),
        )
        .order_by("lesson__subject__name")
    )
    plain(
        "lesson_marks",
        [
            {
                "subject": m["lesson__subject__name"],
                "lessons": m["lessons"],
                "scheduled_minutes": int(m["scheduled_minutes"] or 0),
                "absent_minutes": int(m["absent_minutes"] or 0),
                "late_minutes": int(m["late_minutes"] or 0),
            }
            for m in marks
        ],
    )
    tasks = LadderTask.objects.filter(pupil=pupil).order_by("opened_on", "pk")
    add("ladder_tasks", tasks)
    add("ladder_records", LadderRecord.objects.filter(task__in=tasks).order_by("date", "pk"))
    notices = GuardianNotice.objects.filter(pupil=pupil).order_by("date", "pk")
    add("guardian_notices", notices)
    add("screening_flags", Flag.objects.filter(pupil=pupil).select_related("run"))
    cases = Case.objects.filter(pupil=pupil).order_by("opened_at", "pk")
    add("cases", cases)
    # The pupil's own data, the student-health team's entries included.
    add("case_entries", CaseEntry.objects.filter(case__in=cases).order_by("occurred_on", "pk"))
    add("mappings", Mapping.objects.filter(case__in=cases).order_by("pk"))
    measures = Measure.objects.filter(case__in=cases).order_by("pk")
    add("measures", measures)
    add("evaluations", Evaluation.objects.filter(measure__in=measures).order_by("pk"))
    add("agreed_actions", AgreedAction.objects.filter(entry__case__in=cases).order_by("pk"))
    handovers = Handover.objects.filter(pupil=pupil).order_by("pk")
    add("handovers", handovers)
    add(
        "handover_versions",
        HandoverVersion.objects.filter(handover__in=handovers).order_by("handover", "number"),
    )
    responses = Response.objects.filter(pupil=pupil).order_by("answered_on", "pk")
    add("kasam_responses", responses)
    add("kasam_answers", Answer.objects.filter(response__in=responses).order_by("response", "pk"))
    oversight = OversightCase.objects.filter(pupil=pupil).order_by("opened_on", "pk")
    add("oversight_cases", oversight)
    add("oversight_steps", Step.objects.filter(case__in=oversight).order_by("due", "pk"))
    add("grades", Grade.objects.filter(pupil=pupil).order_by("pk"))
    add("grade_warnings", GradeWarning.objects.filter(pupil=pupil).order_by("pk"))
    add("risk_estimates", RiskEstimate.objects.filter(pupil=pupil).order_by("as_of", "pk"))
    add("saved_lists", Cohort.objects.filter(pupils=pupil).order_by("chosen_on", "pk"))
    login = PupilLogin.objects.filter(pupil=pupil).select_related("user").first()
    plain("pupil_login", [{"username": login.user.username}] if login else [])
    add("extracts", Extract.objects.filter(pupil=pupil).order_by("made_at", "pk"))
    reads = AccessLog.objects.filter(pupil=pupil).select_related("staff").order_by("at", "pk")
    plain(
        "access_log",
        [
            {
                "at": timezone.localtime(r.at).isoformat(timespec="seconds"),
                "staff": r.staff.full_name,
                "role": r.role_name,
                "page": r.path,
            }
            for r in reads
        ],
    )
    return s


def as_json(pupil: Pupil, sections: list[Section]) -> bytes:
    """The machine-readable extract: one key per section, each a list of rows."""
    data = {
        "extract": "registerutdrag",
        "made_at": clock.now().isoformat(),
        "pupil_id": pupil.pk,
        "sections": {sec.key: sec.rows for sec in sections},
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def as_pdf(pupil: Pupil, sections: list[Section], *, base_url: str | None = None) -> bytes:
    from weasyprint import HTML  # heavy: loaded only when an extract is printed

    html = render_to_string(
        "records/extract_pdf.html",
        {
            "pupil": pupil,
            "made_on": clock.today(),
            "sections": [
                (
                    sec,
                    sec.as_table,
                    [[(h, row.get(name)) for name, h in sec.columns] for row in sec.rows],
                )
                for sec in sections
            ],
            "title": _("Register extract"),
        },
    )
    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
