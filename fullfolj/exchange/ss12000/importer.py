"""SS 12000 objects into Fullfölj's rows (docs/exchange.md).

`Importer.fetch()` reads everything first (a server error stops the import before a row is
written); `Importer.write()` then creates, changes and removes rows, recording each in the
report, inside the caller's transaction. Every row the import owns has a `Link` to the source's
object, so a second run finds it again and changes nothing when nothing changed, and rows made
by hand (a placement the school office entered) are never removed by an import.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fullfolj.attendance.actions import refresh_pupil_days
from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance
from fullfolj.attendance.store import PRESENT, Pair
from fullfolj.grades.models import GRADE_POINTS, Grade
from fullfolj.lib import personnummer
from fullfolj.schools import models as s

from ..models import Link, Source
from . import parse as p
from .client import Client, SS12000Error

M = TypeVar("M", bound=models.Model)

# The school forms whose pupils Fullfölj follows: förskoleklass and compulsory school.
COMPULSORY = frozenset({"FKLASS", "GR", "GRS", "SP", "SAM"})
PROTECTED = "Skyddad folkbokföring"
GUARDIAN = "Vårdnadshavare"
MENTOR = "Mentor"
TAUGHT = frozenset({"Undervisning", "Elevaktivitet"})
DUTY_ROLES = {
    "Rektor": s.Role.PRINCIPAL,
    "Lärare": s.Role.TEACHER,
    "Förstelärare": s.Role.TEACHER,
    "Lärarassistent": s.Role.TEACHER,
    "Kurator": s.Role.COUNSELLOR,
    "Skolsköterska": s.Role.SCHOOL_NURSE,
    "Skolläkare": s.Role.SCHOOL_DOCTOR,
    "Skolpsykolog": s.Role.PSYCHOLOGIST,
    "Speciallärare/specialpedagog": s.Role.SPECIAL_EDUCATOR,
    "Studie- och yrkesvägledare": s.Role.STUDY_COUNSELLOR,
    "Skoladministratör": s.Role.ADMINISTRATION,
}
# What an incremental run asks /deletedEntities for (the kinds we import).
DELETABLE = ("Person", "Group", "Duty", "Activity", "CalendarEvent", "Attendance", "Grade")
# meta.modified.after is exclusive and some servers keep coarse times: read a little overlap.
OVERLAP = dt.timedelta(seconds=5)


class ImportFailed(SS12000Error):
    """Our rows refused the source's data (a rule of ours); the message names the object."""


@dataclass
class Report:
    """What an import did (or, dry, would do): one line per created, changed or removed row."""

    lines: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def add(self, action: str, kind: str, label: str) -> None:
        self.counts[f"{action} {kind}"] += 1
        self.lines.append(f"{action} {kind} {label}")

    def warn(self, message: str) -> None:
        self.counts["skipped"] += 1
        self.warnings.append(message)

    def total(self, action: str) -> int:
        return sum(n for key, n in self.counts.items() if key.startswith(action + " "))


@dataclass
class Fetched:
    organisations: list[dict[str, Any]] = field(default_factory=list)
    syllabuses: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    duties: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    attendances: list[dict[str, Any]] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)
    deleted: dict[str, set[str]] = field(default_factory=dict)
    latest: dt.datetime | None = None  # the latest meta.modified seen

    def seen(self, moment: dt.datetime | None) -> None:
        if moment is not None and (self.latest is None or moment > self.latest):
            self.latest = moment


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class Importer:
    def __init__(
        self,
        client: Client,
        source: Source,
        *,
        since: dt.datetime | None,
        deleted_since: dt.datetime | None,
        today: dt.date,
    ) -> None:
        self.client = client
        self.source = source
        self.since = since
        self.deleted_since = deleted_since
        self.today = today
        self.report = Report()
        self.data = Fetched()
        self._links: dict[tuple[str, str], Link] = {}
        self._persons: dict[str, dict[str, Any]] = {}
        self._pairs: set[Pair] = set()
        self._protected_guardians: set[str] | None = None
        self._now = timezone.now()

    # --- fetch ----------------------------------------------------------------------------

    def _list(self, path: str, entity: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        if self.since is not None:
            query = [*query, ("meta.modified.after", _iso(self.since - OVERLAP))]
        found = list(self.client.items(path, query, what=entity))
        for item in found:
            p.uuid(entity, item)
            self.data.seen(p.modified(entity, item, required=entity != "grade"))
        return found

    def fetch(self) -> Fetched:
        d = self.data
        d.organisations = self._list("/organisations", "organisation", [])
        d.syllabuses = self._list("/syllabuses", "syllabus", [])
        d.persons = self._list("/persons", "person", [])
        d.duties = self._list("/duties", "duty", [])
        d.groups = self._list("/groups", "group", [("expand", "assignmentRoles")])
        d.activities = self._list("/activities", "activity", [])
        year = s.SchoolYear.objects.filter(start__lte=self.today, end__gte=self.today).first()
        first = year.start if year else self.today - dt.timedelta(days=365)
        last = year.end if year else self.today
        zone = timezone.get_current_timezone()
        window = [
            ("startTime.onOrAfter", _iso(dt.datetime.combine(first, dt.time(), zone))),
            ("startTime.onOrBefore", _iso(dt.datetime.combine(last, dt.time.max, zone))),
        ]
        d.events = self._list("/calendarEvents", "calendar event", window)
        d.attendances = self._list("/attendances", "attendance", [])
        d.grades = self._list("/grades", "grade", [])
        if self.deleted_since is not None:
            d.deleted = self.client.deleted(_iso(self.deleted_since), DELETABLE)
        self._persons = {item["id"].lower(): item for item in d.persons}
        return d

    def person(self, ident: str) -> dict[str, Any]:
        """A person of this run, or read from the source by id (a guardian, a teacher)."""
        if ident not in self._persons:
            found = self.client.request(f"/persons/{ident}", what=f"person {ident}")
            if not isinstance(found, dict):
                raise p.fail("person", {"id": ident}, "the answer is not an object")
            p.uuid("person", found)
            self._persons[ident] = found
        return self._persons[ident]

    # --- links ----------------------------------------------------------------------------

    def _load_links(self) -> None:
        for link in Link.objects.filter(source=self.source):
            self._links[(link.kind, link.external_id)] = link

    def local(self, kind: str, external: str | None) -> int | None:
        link = self._links.get((kind, external or ""))
        return link.local_id if link else None

    def _link(self, kind: str, external: str, local: int) -> None:
        link = self._links.get((kind, external))
        if link is None:
            self._links[(kind, external)] = Link.objects.create(
                source=self.source, kind=kind, external_id=external, local_id=local
            )
        elif link.local_id != local:
            link.local_id = local
            link.save(update_fields=["local_id"])

    def _unlink(self, kind: str, external: str) -> None:
        link = self._links.pop((kind, external), None)
        if link is not None:
            link.delete()

    def _keys(self, kind: str, prefix: str) -> list[str]:
        return [ext for (k, ext) in self._links if k == kind and ext.startswith(prefix)]

    def _save(self, obj: models.Model, what: str) -> None:
        try:
            obj.save()
        except ValidationError as error:
            problems = "; ".join(
                f"{name}: {' '.join(str(m) for m in messages)}"
                for name, messages in error.message_dict.items()
            )
            raise ImportFailed(f"The SS 12000 {what} cannot be imported: {problems}") from error

    def sync(
        self,
        kind: str,
        external: str,
        model: type[M],
        values: dict[str, Any],
        *,
        label: str,
        find: Q | None = None,
    ) -> M:
        """The row linked to `external`, created or changed to `values`; reported if so.

        `find`: how to recognise a row of ours made before the link (by its natural key)."""
        obj: M | None = None
        local = self.local(kind, external)
        if local is not None:
            obj = model._default_manager.filter(pk=local).first()
        if obj is None and find is not None:
            obj = model._default_manager.filter(find).first()
        if obj is None:
            obj = model(**values)
            self._save(obj, f"{kind} {label}")
            self.report.add("create", kind, label)
        else:
            changed = [name for name, value in values.items() if getattr(obj, name) != value]
            if changed:
                for name in changed:
                    setattr(obj, name, values[name])
                self._save(obj, f"{kind} {label}")
                self.report.add("change", kind, f"{label} ({', '.join(sorted(changed))})")
        self._link(kind, external, obj.pk)
        return obj

    def remove(self, kind: str, external: str, model: type[models.Model], *, label: str) -> None:
        local = self.local(kind, external)
        if local is None:
            return
        deleted, _rows = model._default_manager.filter(pk=local).delete()
        if deleted:
            self.report.add("remove", kind, label)
        self._unlink(kind, external)

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
        self.events(d.events)
        self.attendances(d.attendances)
        self.grades(d.grades)
        self.deletions(d.deleted)
        if self._pairs:
            refresh_pupil_days(self._pairs)
        return self.report

    # organisations

    def organisations(self, items: list[dict[str, Any]]) -> None:
        by_id = {item["id"].lower(): item for item in items}
        for item in items:
            if p.text("organisation", item, "organisationType") != "Huvudman":
                continue
            ident, name = p.uuid("organisation", item), p.text("organisation", item, "displayName")
            code = p.text("organisation", item, "municipalityCode", required=False)
            if self.source.organiser_id:
                self._link("organiser", ident, self.source.organiser_id)
                continue
            self.sync(
                "organiser",
                ident,
                s.Organiser,
                {
                    "name": name,
                    "kind": s.Organiser.Kind.MUNICIPALITY if code else s.Organiser.Kind.INDEPENDENT,
                    "municipality_code": code[:4],
                },
                label=f"{ident} ({name})",
                find=Q(name=name, municipality_code=code[:4]),
            )
        for item in items:
            if p.text("organisation", item, "organisationType") != "Skolenhet":
                continue
            kinds = item.get("schoolTypes") or []
            if not isinstance(kinds, list):
                raise p.fail("organisation", item, "“schoolTypes” is not a list")
            if not COMPULSORY.intersection(kinds):
                continue
            ident, name = p.uuid("organisation", item), p.text("organisation", item, "displayName")
            code = p.text("organisation", item, "schoolUnitCode", required=False)
            if not code:
                self.report.warn(f"School unit {ident} ({name}) has no school-unit code; skipped.")
                continue
            organiser = self._organiser_of(item, by_id)
            if organiser is None:
                raise ImportFailed(
                    f"The SS 12000 organisation {ident} ({name}) has no school organiser "
                    "(Huvudman) above it; set the source's organiser."
                )
            self.sync(
                "school",
                ident,
                s.School,
                {"organiser_id": organiser, "name": name, "unit_code": code},
                label=f"{ident} ({name})",
                find=Q(unit_code=code),
            )

    def _organiser_of(self, item: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> int | None:
        if self.source.organiser_id:
            return self.source.organiser_id
        current: dict[str, Any] | None = item
        for _depth in range(20):  # an organisation tree is shallow; a cycle must not hang
            parent = p.optref("organisation", current or {}, "parentOrganisation")
            if parent is None:
                break
            local = self.local("organiser", parent)
            if local is not None:
                return local
            current = by_id.get(parent)
            if current is None:
                break
        school = self.local("school", item["id"].lower())
        if school is not None:
            return s.School.objects.filter(pk=school).values_list("organiser_id", flat=True).first()
        mine = {link.local_id for (kind, _e), link in self._links.items() if kind == "organiser"}
        return mine.pop() if len(mine) == 1 else None

    # subjects

    def syllabuses(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("syllabus", item)
            name = p.text("syllabus", item, "subjectName")
            code = p.text("syllabus", item, "subjectDesignation", required=False)
            if not code:
                long_code = p.text("syllabus", item, "subjectCode", required=False)
                code = long_code[4:7] if len(long_code) >= 7 else ""
            if not code or len(code) > 5:
                self.report.warn(f"Syllabus {ident} ({name}) has no subject code; skipped.")
                continue
            found = s.Subject.objects.filter(code=code).first()
            if found is None:
                found = s.Subject.objects.create(code=code, name=name[:100])
                self.report.add("create", "subject", f"{ident} ({code})")
            self._link("subject", ident, found.pk)

    # persons: pupils, their placements and guardians

    def persons(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("person", item)
            p.text("person", item, "givenName")
            p.text("person", item, "familyName")
            enrolments = []
            for enrolment in p.objects("person", item, "enrolments"):
                here = enrolment | {"id": ident}
                school = self.local("school", p.ref("person", here, "enroledAt"))
                kind = p.text("person", here, "schoolType")
                if school is None or kind not in COMPULSORY or p.flag("person", here, "cancelled"):
                    continue
                start = p.date("person", here, "startDate")
                end = p.optdate("person", here, "endDate")
                enrolments.append((school, start, end))
            if not enrolments and self.local("pupil", ident) is None:
                continue  # staff, guardians and pupils of other school forms
            pupil = self.pupil(item, enrolments)
            if pupil is None:
                continue
            self.placements(ident, pupil, enrolments)
            self.guardians(ident, pupil, item)

    def pupil(self, item: dict[str, Any], enrolments: list[Any]) -> s.Pupil | None:
        ident = item["id"].lower()
        civic = item.get("civicNo")
        number = civic.get("value") if isinstance(civic, dict) else None
        try:
            parsed = personnummer.parse(number or "")
        except personnummer.InvalidPersonnummer:
            self.report.warn(
                f"Person {ident} has no valid personal identity number (civicNo); skipped."
            )
            return None
        protected = item.get("securityMarking") == PROTECTED
        organiser = (
            s.School.objects.filter(pk=enrolments[0][0]).values_list("organiser_id", flat=True)[0]
            if enrolments
            else None
        )
        values: dict[str, Any] = {
            "personnummer": parsed.normalized,
            "first_name": p.text("person", item, "givenName")[:100],
            "last_name": p.text("person", item, "familyName")[:100],
            "birth_date": parsed.birth_date,
            "legal_gender": parsed.legal_gender,
            "protected_identity": protected,
            "address": "" if protected else _address(item),
        }
        if organiser is not None:
            values["organiser_id"] = organiser
        elif self.local("pupil", ident) is None:
            return None
        return self.sync(
            "pupil",
            ident,
            s.Pupil,
            values,
            label=ident,
            find=Q(personnummer=parsed.normalized),
        )

    def placements(self, ident: str, pupil: s.Pupil, enrolments: list[Any]) -> None:
        wanted = {
            f"{ident}/{school}/{start}": (school, start, end) for school, start, end in enrolments
        }
        for key in self._keys("placement", f"{ident}/"):
            if key not in wanted:
                self.remove("placement", key, s.Placement, label=key)
        for key, (school, start, end) in sorted(wanted.items(), key=lambda kv: kv[1][1]):
            self.sync(
                "placement",
                key,
                s.Placement,
                {
                    "pupil_id": pupil.pk,
                    "school_id": school,
                    "organiser_id": pupil.organiser_id,
                    "start": start,
                    "end": end,
                },
                label=key,
                find=Q(pupil_id=pupil.pk, school_id=school, start=start),
            )

    def guardians(self, ident: str, pupil: s.Pupil, item: dict[str, Any]) -> None:
        wanted = set()
        for responsible in p.objects("person", item, "responsibles"):
            here = responsible | {"id": ident}
            if here.get("relationType") != GUARDIAN:
                continue
            other = p.ref("person", here, "person")
            person = self.person(other)
            guardian = self.sync(
                "guardian",
                other,
                s.Guardian,
                {
                    "first_name": p.text("person", person, "givenName")[:100],
                    "last_name": p.text("person", person, "familyName")[:100],
                    "email": _first(person, "emails")[:200],
                    "phone": _first(person, "phoneNumbers")[:30],
                    # A protected pupil's guardian most often shares the pupil's address.
                    "address": "" if self._hides_address(other) else _address(person),
                },
                label=other,
            )
            key = f"{ident}/{other}"
            wanted.add(key)
            self.sync(
                "guardianship",
                key,
                s.Guardianship,
                {"pupil_id": pupil.pk, "guardian_id": guardian.pk},
                label=key,
                find=Q(pupil_id=pupil.pk, guardian_id=guardian.pk),
            )
        for key in self._keys("guardianship", f"{ident}/"):
            if key not in wanted:
                self.remove("guardianship", key, s.Guardianship, label=key)

    def _hides_address(self, guardian: str) -> bool:
        """Whether a guardian has a pupil with protected identity, here or stored."""
        if self._protected_guardians is None:
            self._protected_guardians = {
                p.ref("person", r | {"id": item["id"]}, "person")
                for item in self.data.persons
                if item.get("securityMarking") == PROTECTED
                for r in p.objects("person", item, "responsibles")
            }
        if guardian in self._protected_guardians:
            return True
        local = self.local("guardian", guardian)
        return local is not None and (
            s.Guardianship.objects.filter(
                guardian_id=local, pupil__protected_identity=True
            ).exists()
        )

    # staff

    def staff(self, ident: str) -> s.Staff:
        person = self.person(ident)
        names = person.get("eduPersonPrincipalNames") or []
        username = names[0] if names and isinstance(names[0], str) else f"ss12000-{ident}"
        return self.sync(
            "staff",
            ident,
            s.Staff,
            {
                "first_name": p.text("person", person, "givenName")[:100],
                "last_name": p.text("person", person, "familyName")[:100],
                "email": _first(person, "emails")[:200],
                "username": username[:150],
            },
            label=ident,
            find=Q(username=username[:150]),
        )

    def duties(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("duty", item)
            role = DUTY_ROLES.get(p.text("duty", item, "dutyRole"))
            person = p.optref("duty", item, "person")
            at = p.ref("duty", item, "dutyAt")
            end = p.optdate("duty", item, "endDate")
            p.date("duty", item, "startDate")
            if role is None or person is None or (end is not None and end < self.today):
                self.remove("duty", ident, s.StaffRole, label=ident)
                continue
            school = self.local("school", at)
            organiser = (
                s.School.objects.filter(pk=school).values_list("organiser_id", flat=True).first()
                if school
                else self.local("organiser", at)
            )
            if organiser is None:
                self.report.warn(f"Duty {ident} is at an organisation not imported; skipped.")
                continue
            if role in s.ORGANISER_ROLES:
                school = None
            elif school is None:
                self.report.warn(f"Duty {ident} ({role}) is not at a school unit; skipped.")
                continue
            staff = self.staff(person)
            values = {
                "staff_id": staff.pk,
                "organiser_id": organiser,
                "school_id": school,
                "role": role,
            }
            self.sync("duty", ident, s.StaffRole, values, label=ident, find=Q(**values))

    # groups, memberships and mentors

    def groups(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ident = p.uuid("group", item)
            name = p.text("group", item, "displayName")
            kind = p.text("group", item, "groupType")
            start = p.date("group", item, "startDate")
            end = p.optdate("group", item, "endDate")
            school = self.local("school", p.ref("group", item, "organisation"))
            if kind not in ("Klass", "Undervisning") or school is None:
                continue
            year = (
                s.SchoolYear.objects.filter(start__lte=start, end__gte=start).first()
                or s.SchoolYear.objects.filter(start__lte=self.today, end__gte=self.today).first()
            )
            if year is None:
                raise ImportFailed(
                    f"The SS 12000 group {ident} ({name}) starts {start}, in no school year "
                    "Fullfölj knows; add the school year first."
                )
            klass = None
            if kind == "Klass":
                digits = re.match(r"\d", name)
                klass = self.sync(
                    "class",
                    ident,
                    s.SchoolClass,
                    {
                        "school_id": school,
                        "school_year_id": year.pk,
                        "name": name[:20],
                        "grade": int(digits.group()) if digits else 0,
                    },
                    label=f"{ident} ({name})",
                )
            group = self.sync(
                "group",
                ident,
                s.TeachingGroup,
                {
                    "school_id": school,
                    "school_year_id": year.pk,
                    "name": name[:50],
                    "school_class_id": klass.pk if klass else None,
                },
                label=f"{ident} ({name})",
            )
            self.memberships(ident, item, group, klass, start, end)

    def memberships(
        self,
        ident: str,
        item: dict[str, Any],
        group: s.TeachingGroup,
        klass: s.SchoolClass | None,
        start: dt.date,
        end: dt.date | None,
    ) -> None:
        wanted: dict[str, tuple[int, dt.date, dt.date | None]] = {}
        for member in p.objects("group", item, "groupMemberships"):
            here = member | {"id": ident}
            person = p.ref("group", here, "person")
            pupil = self.local("pupil", person)
            if pupil is None:
                continue  # staff, or a pupil of another school form
            first = p.optdate("group", here, "startDate") or start
            last = p.optdate("group", here, "endDate") or end
            wanted[f"{ident}/{person}/{first}"] = (pupil, first, last)
        for key in self._keys("membership", f"{ident}/"):
            if key not in wanted:
                self.remove("membership", key, s.GroupMembership, label=key)
        for key, (pupil, first, last) in wanted.items():
            self.sync(
                "membership",
                key,
                s.GroupMembership,
                {"group_id": group.pk, "pupil_id": pupil, "start": first, "end": last},
                label=key,
            )
            if klass is not None:
                self._class_of(pupil, group.school_id, klass, first, last)

    def _class_of(
        self, pupil: int, school: int, klass: s.SchoolClass, first: dt.date, last: dt.date | None
    ) -> None:
        """The class on the pupil's placements at the school while in the class."""
        placements = s.Placement.objects.filter(pupil_id=pupil, school_id=school).filter(
            Q(end__isnull=True) | Q(end__gte=first)
        )
        if last is not None:
            placements = placements.filter(start__lte=last)
        for placement in placements.exclude(school_class=klass):
            placement.school_class = klass
            self._save(placement, f"placement of pupil {pupil}")
            self.report.add("change", "placement", f"{placement.pk} (school_class)")

    def mentors(self, duties: list[dict[str, Any]], groups: list[dict[str, Any]]) -> None:
        """Mentorships: a Mentor assignment of a duty on a group, for each of its pupils.

        A changed duty names its groups; a changed group (expand=assignmentRoles) names its
        duties. Each (duty, group) named is recomputed from the group's members as stored."""
        assignments: dict[tuple[str, str], list[tuple[dt.date | None, dt.date | None]]] = {}
        touched_duties = {item["id"].lower() for item in duties}
        touched_groups = {item["id"].lower() for item in groups}
        for item in duties:
            for role in p.objects("duty", item, "assignmentRole"):
                here = role | {"id": item["id"]}
                if here.get("assignmentRoleType") != MENTOR:
                    continue
                group = p.ref("duty", here, "group")
                assignments.setdefault((item["id"].lower(), group), []).append(
                    (
                        p.optdate("duty", here, "startDate"),
                        p.optdate("duty", here, "endDate"),
                    )
                )
        for item in groups:
            embedded = item.get("_embedded") or {}
            roles = embedded.get("assignmentRoles") if isinstance(embedded, dict) else None
            for role in roles or []:
                here = role | {"id": item["id"]}
                if not isinstance(role, dict) or here.get("assignmentRoleType") != MENTOR:
                    continue
                duty = p.ref("group", here, "duty")
                if duty in touched_duties:
                    continue  # the duty itself said
                assignments.setdefault((duty, item["id"].lower()), []).append(
                    (
                        p.optdate("group", here, "startDate"),
                        p.optdate("group", here, "endDate"),
                    )
                )
        wanted: dict[str, tuple[int, int, dt.date, dt.date | None]] = {}
        for (duty, group_id), periods in assignments.items():
            group_pk = self.local("group", group_id)
            role_pk = self.local("duty", duty)
            if group_pk is None or role_pk is None:
                continue
            staff_role = s.StaffRole.objects.get(pk=role_pk)
            teaching = s.TeachingGroup.objects.get(pk=group_pk)
            self._mentor_role(duty, staff_role, teaching)
            for first, last in periods:
                members = s.GroupMembership.objects.filter(group_id=group_pk)
                for member in members:
                    start = max(d for d in (first, member.start) if d is not None)
                    ends = [d for d in (last, member.end) if d is not None]
                    end = min(ends) if ends else None
                    if end is not None and end < start:
                        continue
                    key = f"{duty}/{group_id}/{member.pupil_id}/{start}"
                    wanted[key] = (member.pupil_id, staff_role.staff_id, start, end)
        for key in [k for (kind, k) in list(self._links) if kind == "mentorship"]:
            duty, group_id = key.split("/")[:2]
            if (duty in touched_duties or group_id in touched_groups) and key not in wanted:
                self.remove("mentorship", key, s.Mentorship, label=key)
        for key, (pupil, staff, start, end) in wanted.items():
            self.sync(
                "mentorship",
                key,
                s.Mentorship,
                {"pupil_id": pupil, "mentor_id": staff, "start": start, "end": end},
                label=key,
            )

    def _mentor_role(self, duty: str, role: s.StaffRole, group: s.TeachingGroup) -> None:
        """A mentor holds the mentor role at the group's school, so the gate lets them in."""
        values = {
            "staff_id": role.staff_id,
            "organiser_id": role.organiser_id,
            "school_id": group.school_id,
            "role": s.Role.MENTOR,
        }
        self.sync(
            "mentor role",
            f"{duty}/{group.school_id}",
            s.StaffRole,
            values,
            label=duty,
            find=Q(**values),
        )

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
        self._pairs.update(
            LessonAttendance.objects.filter(lesson_id=local).values_list("pupil_id", "date")
        )
        for key in [k for (kind, k) in self._links if kind == "mark" and k.startswith(f"{ident}/")]:
            self._unlink("mark", key)
        self.remove("lesson", ident, Lesson, label=ident)

    def attendances(self, items: list[dict[str, Any]]) -> None:
        lessons: dict[int, Lesson] = {}
        for item in items:
            ident = p.uuid("attendance", item)
            event = p.ref("attendance", item, "calendarEvent")
            student = p.ref("attendance", item, "student")
            reported = p.flag("attendance", item, "isReported")
            valid = p.minutes("attendance", item, "validAbsenceMinutes")
            invalid = p.minutes("attendance", item, "invalidAbsenceMinutes")
            lesson_id, pupil_id = self.local("lesson", event), self.local("pupil", student)
            if not reported or lesson_id is None or pupil_id is None:
                continue
            if lesson_id not in lessons:
                lessons[lesson_id] = Lesson.objects.get(pk=lesson_id)
            lesson = lessons[lesson_id]
            absent = min(valid + invalid, lesson.minutes)
            # One mark holds one validity: any invalid minutes make it invalid (docs/exchange.md).
            is_valid = None if not absent else invalid == 0
            mark = LessonAttendance.objects.filter(lesson=lesson, pupil_id=pupil_id).first()
            old = mark.snapshot() if mark else None
            if mark is None:
                mark = LessonAttendance(
                    lesson=lesson,
                    pupil_id=pupil_id,
                    organiser_id=s.Pupil.objects.values_list("organiser_id", flat=True).get(
                        pk=pupil_id
                    ),
                    date=lesson.date,
                    scheduled_minutes=lesson.minutes,
                )
            mark.absent_minutes, mark.late_minutes, mark.is_valid = absent, 0, is_valid
            if mark.reason_id and mark.reason and mark.reason.is_valid != is_valid:
                mark.reason = None
            new = mark.snapshot()
            key = f"{event}/{ident}"
            if old != new:
                self._save(mark, f"attendance {ident}")
                self.report.add("create" if old is None else "change", "mark", key)
                self._pairs.add((pupil_id, lesson.date))
                if (old or PRESENT) != new:
                    AttendanceChange.objects.create(
                        attendance=mark,
                        lesson=lesson,
                        version=lesson.version,
                        changed_by=None,
                        changed_at=self._now,
                        old=old,
                        new=new,
                    )
            self._link("mark", key, mark.pk)
            if lesson.registered_at is None:
                # Registered in the source: not a lesson for our teachers to register.
                lesson.registered_at = lesson.first_registered_at = self._now
                lesson.save(update_fields=["registered_at", "first_registered_at"])

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
        d = self.data
        again = {
            item["id"].lower()
            for items in (
                d.persons,
                d.groups,
                d.duties,
                d.activities,
                d.events,
                d.attendances,
                d.grades,
            )
            for item in items
        }

        def gone(name: str) -> Iterable[str]:
            return sorted(i.lower() for i in deleted.get(name, set()) if i.lower() not in again)

        for ident in gone("Attendance"):
            for key in self._keys("mark", ""):
                if key.endswith(f"/{ident}"):
                    mark = LessonAttendance.objects.filter(pk=self.local("mark", key) or 0).first()
                    if mark is not None:
                        self._pairs.add((mark.pupil_id, mark.date))
                    self.remove("mark", key, LessonAttendance, label=key)
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
                placement = s.Placement.objects.filter(pk=self.local("placement", key) or 0).first()
                if placement is not None and (placement.end is None or placement.end > self.today):
                    placement.end = max(placement.start, self.today)
                    self._save(placement, f"placement {key}")
                    self.report.add("change", "placement", f"{key} (end)")


def _first(person: dict[str, Any], key: str) -> str:
    values = person.get(key) or []
    if isinstance(values, list):
        for value in values:
            if isinstance(value, dict) and isinstance(value.get("value"), str):
                return str(value["value"])
    return ""


def _address(person: dict[str, Any]) -> str:
    """The registered address (folkbokföring), or any postal address, on one line."""
    found = [a for a in person.get("addresses") or [] if isinstance(a, dict)]
    found.sort(key=lambda a: a.get("type") != "Folkbokföring")
    for address in found:
        street, code, town = (
            address.get(k) or "" for k in ("streetAddress", "postalCode", "locality")
        )
        if street:
            return f"{street}, {code} {town}".strip()[:200]
    return ""
