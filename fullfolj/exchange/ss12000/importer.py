"""SS 12000 objects into Fullfölj's rows (docs/exchange.md).

`Importer.fetch()` reads the organisation, its people and groups first (a server error stops the
import before a row is written); `Importer.write()` then creates, changes and removes rows,
recording each in the report, inside the caller's transaction. Lessons and marks, by far the
most objects, are read and written a page at a time inside that transaction, so memory stays
bounded; a server error there rolls back everything all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from fullfolj.attendance.actions import refresh_pupil_days
from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance
from fullfolj.attendance.store import PRESENT
from fullfolj.grades.models import GRADE_POINTS, Grade
from fullfolj.schools import models as s

from ..models import Link
from . import parse as p
from .people import People
from .rows import Fetched, ImportFailed, Report

__all__ = ["ImportFailed", "Importer", "Report"]

TAUGHT = frozenset({"Undervisning", "Elevaktivitet"})  # activities that take attendance
BATCH = 2000  # attendance objects written together
# What an incremental run asks /deletedEntities for (the kinds we import).
DELETABLE = ("Person", "Group", "Duty", "Activity", "CalendarEvent", "Attendance", "Grade")
# meta.modified.after is exclusive and some servers keep coarse times: read a little overlap.
OVERLAP = dt.timedelta(seconds=5)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class Importer(People):
    """Fetch everything, then write it: lessons, marks, grades and deletions here."""

    # --- fetch ----------------------------------------------------------------------------

    def _checked(self, entity: str, page: object) -> list[dict[str, Any]]:
        """A page's objects, each with an id and (but grades) meta.modified, which is seen."""
        if not isinstance(page, list):
            raise p.fail(entity, {}, "“data” is not a list")
        for number, item in enumerate(page, start=1):
            if not isinstance(item, dict):
                raise p.fail(entity, {}, f"item {number} is not an object")
            self.seen_ids.add(p.uuid(entity, item))
            self.data.seen(p.modified(entity, item, required=entity != "grade"))
        return page

    def _query(self, query: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if self.since is None:
            return query
        return [*query, ("meta.modified.after", _iso(self.since - OVERLAP))]

    def _list(self, path: str, entity: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.client.pages(path, self._query(query), what=entity):
            found.extend(self._checked(entity, page))
        return found

    def fetch(self) -> Fetched:
        d = self.data
        d.organisations = self._list("/organisations", "organisation", [])
        d.syllabuses = self._list("/syllabuses", "syllabus", [])
        d.persons = self._list("/persons", "person", [])
        d.duties = self._list("/duties", "duty", [])
        d.groups = self._list("/groups", "group", [("expand", "assignmentRoles")])
        d.activities = self._list("/activities", "activity", [])
        d.grades = self._list("/grades", "grade", [])
        if self.deleted_since is not None:
            d.deleted = self.client.deleted(_iso(self.deleted_since), DELETABLE)
        self._persons = {item["id"].lower(): item for item in d.persons}
        return d

    def lesson_pages(self) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """This school year's lessons and marks, a page at a time: (events, attendances).

        A first import reads the marks with their lessons (expand=attendance), as /attendances
        has no date filter and would give every mark the source ever held; later runs read the
        lessons and the marks changed since the last good run.
        """
        year = s.SchoolYear.objects.filter(start__lte=self.today, end__gte=self.today).first()
        first = year.start if year else self.today - dt.timedelta(days=365)
        last = year.end if year else self.today
        zone = timezone.get_current_timezone()
        window = [
            ("startTime.onOrAfter", _iso(dt.datetime.combine(first, dt.time(), zone))),
            ("startTime.onOrBefore", _iso(dt.datetime.combine(last, dt.time.max, zone))),
        ]
        if self.since is None:
            window.append(("expand", "attendance"))
        for page in self.client.pages(
            "/calendarEvents", self._query(window), what="calendar event"
        ):
            events = self._checked("calendar event", page)
            yield events, self._embedded_attendance(events) if self.since is None else []
        if self.since is not None:
            for page in self.client.pages("/attendances", self._query([]), what="attendance"):
                yield [], self._checked("attendance", page)

    def _embedded_attendance(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for event in events:
            embedded = event.get("_embedded") or {}
            if not isinstance(embedded, dict):
                raise p.fail("calendar event", event, "“_embedded” is not an object")
            marks = p.objects("calendar event", embedded | {"id": event["id"]}, "attendance")
            found.extend(self._checked("attendance", marks))
        return found

    # --- write ----------------------------------------------------------------------------

    def write(self) -> Report:
        self._load_links()
        d = self.data
        self.organisations(d.organisations)
        self.syllabuses(d.syllabuses)
        self.persons(d.persons)
        self.duties(d.duties)
        self.groups(d.groups)
        self.mentors(d.duties, d.groups)
        self.activities(d.activities)
        for events, attendances in self.lesson_pages():
            self.events(events)
            self.attendances(attendances)
        self.grades(d.grades)
        self.deletions(d.deleted)
        if self._pairs:
            refresh_pupil_days(self._pairs)
        return self.report

    # activities and lessons

    def activities(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("activity", item)
            name = p.text("activity", item, "displayName")
            kind = item.get("activityType") or "Undervisning"
            groups = [
                g for g in (self.local("group", r) for r in p.refs("activity", item, "groups")) if g
            ]
            subject = self.local("subject", p.optref("activity", item, "syllabus"))
            if kind not in TAUGHT or not groups or subject is None:
                for key in self._keys("teaching", f"{ident}/"):
                    self.remove("teaching", key, s.TeachingAssignment, label=key)
                continue
            self._link("activity group", ident, groups[0])
            self._link("activity subject", ident, subject)
            teachers = []
            for teacher in p.objects("activity", item, "teachers"):
                duty = p.ref("activity", teacher | {"id": ident}, "duty")
                role = self.local("duty", duty)
                if role is not None:
                    teachers.append((duty, s.StaffRole.objects.get(pk=role).staff_id))
            if teachers:
                self._link("activity teacher", ident, teachers[0][1])
            wanted = {}
            for duty, staff in teachers:
                for group in groups:
                    wanted[f"{ident}/{duty}/{group}"] = {
                        "staff_id": staff,
                        "group_id": group,
                        "subject_id": subject,
                    }
            for key in self._keys("teaching", f"{ident}/"):
                if key not in wanted:
                    self.remove("teaching", key, s.TeachingAssignment, label=key)
            for key, values in wanted.items():
                self.sync("teaching", key, s.TeachingAssignment, values, label=f"{key} ({name})")

    def events(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("calendar event", item)
            activity = p.ref("calendar event", item, "activity")
            start = p.when("calendar event", item, "startTime")
            end = p.when("calendar event", item, "endTime")
            if p.flag("calendar event", item, "cancelled"):
                self._remove_lesson(ident)
                continue
            group = self.local("activity group", activity)
            subject = self.local("activity subject", activity)
            if group is None or subject is None:
                continue  # not a lesson of a group we follow
            length = p.minutes("calendar event", item, "teachingLengthStudent") or int(
                (end - start).total_seconds() // 60
            )
            day = timezone.localdate(start)
            term = s.Term.objects.containing(day).first()
            if term is None or not 0 < length <= 300:
                self.report.warn(
                    f"Calendar event {ident} on {day} ({length} min) is outside the terms "
                    "or not a lesson's length; skipped."
                )
                continue
            lesson = self.sync(
                "lesson",
                ident,
                Lesson,
                {
                    "group_id": group,
                    "subject_id": subject,
                    "teacher_id": self.local("activity teacher", activity),
                    "term_id": term.pk,
                    "date": day,
                    "start": start,
                    "minutes": length,
                },
                label=ident,
            )
            self._fit_marks(lesson)

    def _fit_marks(self, lesson: Lesson) -> None:
        """A lesson whose length or day changed: its marks follow, within the new length."""
        for mark in LessonAttendance.objects.filter(lesson=lesson).exclude(
            scheduled_minutes=lesson.minutes, date=lesson.date
        ):
            self._pairs.add((mark.pupil_id, mark.date))
            mark.scheduled_minutes, mark.date = lesson.minutes, lesson.date
            mark.absent_minutes = min(mark.absent_minutes, lesson.minutes)
            mark.late_minutes = min(mark.late_minutes, lesson.minutes - mark.absent_minutes)
            mark.save()
            self._pairs.add((mark.pupil_id, mark.date))

    def _remove_lesson(self, ident: str) -> None:
        local = self.local("lesson", ident)
        if local is None:
            return
        marks = LessonAttendance.objects.filter(lesson_id=local)
        self._pairs.update(marks.values_list("pupil_id", "date"))
        Link.objects.filter(
            source=self.source, kind="mark", local_id__in=marks.values("pk")
        ).delete()
        self.remove("lesson", ident, Lesson, label=ident)

    def attendances(self, items: list[dict[str, Any]]) -> None:
        """The marks, a batch at a time: a night's attendance is tens of thousands of rows."""
        for start in range(0, len(items), BATCH):
            self._marks(items[start : start + BATCH])

    def _marks(self, items: list[dict[str, Any]]) -> None:
        found = []
        for item in items:
            ident = p.uuid("attendance", item)
            lesson_pk = self.local("lesson", p.ref("attendance", item, "calendarEvent"))
            pupil_pk = self.local("pupil", p.ref("attendance", item, "student"))
            reported = p.flag("attendance", item, "isReported")
            valid = p.minutes("attendance", item, "validAbsenceMinutes")
            invalid = p.minutes("attendance", item, "invalidAbsenceMinutes")
            if reported and lesson_pk is not None and pupil_pk is not None:
                found.append((ident, lesson_pk, pupil_pk, valid, invalid))
        if not found:
            return
        lessons = Lesson.objects.in_bulk({lesson_pk for _i, lesson_pk, *_rest in found})
        pupils = {pupil for _i, _l, pupil, *_rest in found}
        organisers = dict(s.Pupil.objects.filter(pk__in=pupils).values_list("pk", "organiser_id"))
        existing = {
            (mark.lesson_id, mark.pupil_id): mark
            for mark in LessonAttendance.objects.filter(
                lesson_id__in=lessons, pupil_id__in=pupils
            ).select_related("reason")
        }
        created: dict[tuple[int, int], LessonAttendance] = {}
        updated: dict[int, LessonAttendance] = {}
        history: list[AttendanceChange] = []
        marked: list[tuple[str, LessonAttendance]] = []
        for ident, lesson_id, pupil_id, valid, invalid in found:
            lesson = lessons[lesson_id]
            mark = existing.get((lesson_id, pupil_id))
            old = mark.snapshot() if mark else None
            if mark is None:
                mark = existing[(lesson_id, pupil_id)] = LessonAttendance(
                    lesson=lesson,
                    pupil_id=pupil_id,
                    organiser_id=organisers[pupil_id],
                    date=lesson.date,
                    scheduled_minutes=lesson.minutes,
                )
            absent = min(valid + invalid, lesson.minutes)
            # One mark holds one validity: any invalid minutes make it invalid (docs/exchange.md).
            mark.absent_minutes, mark.late_minutes = absent, 0
            mark.is_valid = None if not absent else invalid == 0
            if mark.reason_id and mark.reason and mark.reason.is_valid != mark.is_valid:
                mark.reason = None
            new = mark.snapshot()
            marked.append((ident, mark))
            if old == new:
                continue
            try:
                mark.full_clean(
                    exclude=["lesson", "pupil", "organiser", "reason"],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as error:
                raise ImportFailed(
                    f"The SS 12000 attendance {ident} cannot be imported: {error}"
                ) from error
            if mark.pk is None:
                created[(lesson_id, pupil_id)] = mark
            else:
                updated[mark.pk] = mark
            self.report.add("create" if old is None else "change", "mark", ident)
            self._pairs.add((pupil_id, lesson.date))
            if (old or PRESENT) != new:
                history.append(
                    AttendanceChange(
                        attendance=mark,
                        lesson=lesson,
                        version=lesson.version,
                        changed_by=None,
                        changed_at=self._now,
                        old=old,
                        new=new,
                    )
                )
        LessonAttendance.objects.bulk_create(list(created.values()))
        LessonAttendance.objects.bulk_update(
            list(updated.values()), ["absent_minutes", "late_minutes", "is_valid", "reason"]
        )
        AttendanceChange.objects.bulk_create(history)
        self._link_marks(marked)
        # Registered at the source: not lessons for our teachers to register.
        Lesson.objects.filter(pk__in=lessons, registered_at__isnull=True).update(
            registered_at=self._now, first_registered_at=self._now
        )

    def _link_marks(self, marked: list[tuple[str, LessonAttendance]]) -> None:
        """Mark links are read per batch, not all at once: there are millions of them."""
        links = {
            link.external_id: link
            for link in Link.objects.filter(
                source=self.source, kind="mark", external_id__in=[ident for ident, _m in marked]
            )
        }
        new, moved = {}, []
        for ident, mark in marked:
            link = links.get(ident)
            if link is None:
                new[ident] = Link(
                    source=self.source, kind="mark", external_id=ident, local_id=mark.pk
                )
            elif link.local_id != mark.pk:
                link.local_id = mark.pk
                moved.append(link)
        Link.objects.bulk_create(list(new.values()))
        Link.objects.bulk_update(moved, ["local_id"])

    # grades

    def grades(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("grade", item)
            value = p.text("grade", item, "gradeValue")
            pupil = self.local("pupil", p.ref("grade", item, "student"))
            subject = self.local("subject", p.ref("grade", item, "syllabus"))
            registered = p.date("grade", item, "registeredDate")
            if pupil is None or subject is None:
                continue
            if value not in GRADE_POINTS:
                self.report.warn(f"Grade {ident} is “{value}”, not on the scale A–F; skipped.")
                continue
            semester, year = item.get("semester"), item.get("year")
            term = None
            if semester in ("HT", "VT") and isinstance(year, int):
                term = s.Term.objects.filter(kind=semester, start__year=year).first()
            term = term or s.Term.at(registered)
            school = self.local("school", p.optref("grade", item, "organisation"))
            if school is None:
                placement = s.Placement.objects.active_on(registered).filter(pupil_id=pupil).first()
                school = placement.school_id if placement else None
            if term is None or school is None:
                self.report.warn(f"Grade {ident} has no term or school in Fullfölj; skipped.")
                continue
            teacher = p.optref("grade", item, "gradingTeacher")
            self.sync(
                "grade",
                ident,
                Grade,
                {
                    "pupil_id": pupil,
                    "organiser_id": s.Pupil.objects.values_list("organiser_id", flat=True).get(
                        pk=pupil
                    ),
                    "subject_id": subject,
                    "term_id": term.pk,
                    "school_id": school,
                    "teacher_id": self.local("staff", teacher),
                    "grade": value,
                },
                label=ident,
                find=Q(pupil_id=pupil, subject_id=subject, term_id=term.pk),
            )

    # deletions

    def deletions(self, deleted: dict[str, set[str]]) -> None:
        """Objects the source deleted since the last run, unless this run saw them again."""
        again = self.seen_ids  # deleted, then seen again in this run: kept

        def gone(name: str) -> Iterable[str]:
            return sorted(i.lower() for i in deleted.get(name, set()) if i.lower() not in again)

        links = Link.objects.filter(
            source=self.source, kind="mark", external_id__in=list(gone("Attendance"))
        )
        for link in links.order_by("external_id"):
            mark = LessonAttendance.objects.filter(pk=link.local_id).first()
            if mark is not None:
                self._pairs.add((mark.pupil_id, mark.date))
                mark.delete()
                self.report.add("remove", "mark", link.external_id)
            link.delete()
        for ident in gone("CalendarEvent"):
            self._remove_lesson(ident)
        for ident in gone("Grade"):
            self.remove("grade", ident, Grade, label=ident)
        for ident in gone("Activity"):
            for key in self._keys("teaching", f"{ident}/"):
                self.remove("teaching", key, s.TeachingAssignment, label=key)
        for ident in gone("Duty"):
            for key in self._keys("mentorship", f"{ident}/"):
                self.remove("mentorship", key, s.Mentorship, label=key)
            for key in self._keys("mentor role", f"{ident}/"):
                self.remove("mentor role", key, s.StaffRole, label=key)
            self.remove("duty", ident, s.StaffRole, label=ident)
        for ident in gone("Group"):
            for key in self._keys("membership", f"{ident}/"):
                self.remove("membership", key, s.GroupMembership, label=key)
        for ident in gone("Person"):
            # A pupil's records stay (cases, history); what ends is the placement.
            for key in self._keys("placement", f"{ident}/"):
                self.end_placement(key)
