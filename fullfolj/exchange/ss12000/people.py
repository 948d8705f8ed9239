"""Organisations, subjects, persons, staff, groups and mentors from SS 12000 (docs/exchange.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import Q

from fullfolj.lib import personnummer
from fullfolj.schools import models as s

from . import parse as p
from .rows import ImportFailed, Rows

# The school forms whose pupils Fullfölj follows: förskoleklass and compulsory school.
COMPULSORY = frozenset({"FKLASS", "GR", "GRS", "SP", "SAM"})
PROTECTED = "Skyddad folkbokföring"
GUARDIAN = "Vårdnadshavare"
MENTOR = "Mentor"
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


class People(Rows):
    """The organisation and its people: schools, subjects, pupils, staff, groups, mentors."""

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
                self.end_placement(key)
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

    def end_placement(self, key: str) -> None:
        """A placement the source no longer lists ends today: where a pupil went to school is
        history the gate and the records rely on. One that had not begun is removed."""
        placement = s.Placement.objects.filter(pk=self.local("placement", key) or 0).first()
        if placement is None:
            return
        if placement.start > self.today:
            self.remove("placement", key, s.Placement, label=key)
        elif placement.end is None or placement.end > self.today:
            placement.end = self.today
            self._save(placement, f"placement {key}")
            self.report.add("change", "placement", f"{key} (end)")

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
            if ("placement", placement.pk) not in self.fresh:  # a new one is simply created
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
