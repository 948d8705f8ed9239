"""Who may see which pupil: the one gate every view and API goes through.

Access follows role and relationship (docs/privacy.md): a teacher sees the groups they
teach, a mentor their mentees, the principal and the student-health team their school, the
administration its organiser's schools (names hidden by default), the compulsory-school officer
the children resident in the municipality who attend no school (figures for the rest). Not allowed looks exactly like not found (404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from django.db.models import Exists, F, Model, Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from fullfolj.lib import clock
from fullfolj.schools.models import (
    STUDENT_HEALTH_ROLES,
    GroupMembership,
    Organiser,
    Placement,
    Pupil,
    Role,
    School,
    Staff,
    StaffRole,
    TeachingGroup,
)

from .models import AccessLog

T = TypeVar("T", bound=Model)

# The relationship named in the access log when several reach a pupil: the closest first.
LOG_ROLE_ORDER = (
    Role.MENTOR,
    Role.TEACHER,
    Role.PRINCIPAL,
    *sorted(STUDENT_HEALTH_ROLES),
    Role.ATTENDANCE_OFFICER,
    Role.ADMINISTRATION,
)


@dataclass
class Viewer:
    """A staff member as the gate sees them: roles by school, resolved once per request."""

    staff: Staff

    @cached_property
    def roles(self) -> list[StaffRole]:
        return list(self.staff.roles.select_related("school", "organiser"))

    def schools_with(self, roles: set[str] | frozenset[str]) -> set[int]:
        return {r.school_id for r in self.roles if r.role in roles and r.school_id}

    def organisers_with(self, roles: set[str]) -> set[int]:
        return {r.organiser_id for r in self.roles if r.role in roles}

    def has(self, *roles: str) -> bool:
        return any(r.role in roles for r in self.roles)

    @property
    def is_teacher(self) -> bool:
        return self.has(Role.TEACHER)

    @property
    def is_mentor(self) -> bool:
        return self.has(Role.MENTOR)

    @property
    def school_wide_schools(self) -> set[int]:
        """Schools where this person sees every pupil: principal and student-health team."""
        return self.schools_with({Role.PRINCIPAL} | STUDENT_HEALTH_ROLES)

    @property
    def is_administration(self) -> bool:
        return self.has(Role.ADMINISTRATION)

    @property
    def names_in_administration(self) -> bool:
        """The administration scope shows names only with the explicit permission.

        Decided for that scope alone: another role this person holds (say, teacher at one
        school) never switches names on for the organiser's other pupils.
        """
        user = self.staff.user
        return bool(user and user.has_perm("schools.view_pupil_names"))

    @property
    def sees_protected_details(self) -> bool:
        user = self.staff.user
        return bool(user and user.has_perm("schools.view_protected_identity"))

    def role_for(self, pupil: Pupil) -> str:
        """The role through which this viewer reaches the pupil, for the access log."""
        return self.role_map([pupil.pk]).get(pupil.pk, "unknown")

    def role_map(self, pupil_ids: Iterable[int]) -> dict[int, str]:
        """For each pupil, the first role (closest relationship first) that reaches them."""
        left = set(pupil_ids)
        found: dict[int, str] = {}
        for role in LOG_ROLE_ORDER:
            if not left:
                break
            if self.has(role):
                reached = set(
                    pupils_visible_to(self, roles={role})
                    .filter(pk__in=left)
                    .values_list("pk", flat=True)
                )
                found.update(dict.fromkeys(reached, str(role)))
                left -= reached
        return found

    @property
    def named_schools(self) -> QuerySet[School]:
        """Schools whose pupil lists, with names, this viewer may open."""
        schools = Q(pk__in=self.school_wide_schools)
        if self.names_in_administration:
            schools |= Q(organiser__in=self.organisers_with({Role.ADMINISTRATION}))
        return School.objects.filter(schools)

    @property
    def schools(self) -> QuerySet[School]:
        """Schools whose figures this viewer may see: with names or as aggregates."""
        admin_orgs = self.organisers_with({Role.ADMINISTRATION})
        return School.objects.filter(
            Q(pk__in=self.school_wide_schools) | Q(organiser__in=admin_orgs)
        )

    def school_role(self, school_id: int) -> str:
        """The role that shows this viewer the named pupil list of a school, for the log."""
        for r in self.roles:
            if r.school_id == school_id and (
                r.role == Role.PRINCIPAL or r.role in STUDENT_HEALTH_ROLES
            ):
                return str(r.role)
        return str(Role.ADMINISTRATION)


def pupils_visible_to(viewer: Viewer, *, roles: AbstractSet[str] | None = None) -> QuerySet[Pupil]:
    """Every pupil this viewer may see by name today, by role and relationship.

    Each relationship is its own term: a pupil is visible only through a role that reaches
    them and allows names. The administration scope adds pupils only with the explicit
    names permission; without it the administration works with aggregates (`schools`).
    """
    today = clock.today()

    def wanted(role: str) -> bool:
        return roles is None or role in roles

    active = (Q(end__isnull=True) | Q(end__gte=today)) & Q(start__lte=today)
    visible = Q(pk__in=[])
    if wanted(Role.TEACHER) and viewer.is_teacher:
        visible |= Q(pk__in=_members_taught_by(viewer.staff, today))
    if wanted(Role.MENTOR) and viewer.is_mentor:
        visible |= Q(pk__in=viewer.staff.mentorships.filter(active).values("pupil_id"))
    school_wide = {
        r.school_id
        for r in viewer.roles
        if r.school_id
        and wanted(r.role)
        and (r.role == Role.PRINCIPAL or r.role in STUDENT_HEALTH_ROLES)
    }
    if school_wide:
        visible |= Q(pk__in=_placed_at(school_wide, active))
    if wanted(Role.ADMINISTRATION) and viewer.names_in_administration:
        admin_orgs = viewer.organisers_with({Role.ADMINISTRATION})
        if admin_orgs:
            visible |= Q(pk__in=_placed_at_organisers(admin_orgs, active))
    if wanted(Role.ATTENDANCE_OFFICER):
        officer_orgs = viewer.organisers_with({Role.ATTENDANCE_OFFICER})
        if officer_orgs:
            visible |= Q(pk__in=_resident_without_school(officer_orgs, active))
    return Pupil.objects.filter(visible)


def _resident_without_school(organiser_ids: set[int], active: Q) -> QuerySet:
    """The officer's stated reason for names: a child of compulsory-school age living in the
    municipality and placed at no school today, whose schooling the home municipality must see
    to (skollagen 7 kap. 21 §). Pupils placed at a school are the school's to follow; the
    officer sees them as figures."""
    first, last = compulsory_school_birth_years(clock.today())
    return (
        Pupil.objects.filter(
            municipality_of_residence__in=organiser_ids,
            birth_date__year__gte=first,
            birth_date__year__lte=last,
        )
        .exclude(pk__in=Placement.objects.filter(active).values("pupil_id"))
        .values("pk")
    )


def compulsory_school_birth_years(today: dt.date) -> tuple[int, int]:
    """The birth years of children with compulsory schooling on `today`: it starts in the autumn
    of the year the child turns six and ends with the spring term ten years later (skollagen
    7 kap. 10 and 12 §§); July is taken as the turn from spring to autumn."""
    autumn = today.month >= 7
    youngest = today.year - (6 if autumn else 7)
    return youngest - 9, youngest


def _members_taught_by(staff: Staff, today: dt.date) -> QuerySet:
    """Pupils in a group this person teaches, while they are in it and at its school."""
    return (
        GroupMembership.objects.active_on(today)
        .filter(group__teaching__staff=staff)
        .filter(_still_at_group_school(today))
        .values("pupil_id")
    )


def _still_at_group_school(today: dt.date) -> Q:
    """A membership counts only while the pupil is placed at the group's school: a pupil who
    left keeps no teacher relationship through a membership nobody ended."""
    return Q(
        pupil__placements__school=F("group__school"),
        pupil__placements__start__lte=today,
    ) & (Q(pupil__placements__end__isnull=True) | Q(pupil__placements__end__gte=today))


def _placed_at(school_ids: set[int], active: Q) -> QuerySet:
    return Placement.objects.filter(active, school_id__in=school_ids).values("pupil_id")


def _placed_at_organisers(organiser_ids: set[int], active: Q) -> QuerySet:
    return Placement.objects.filter(active, organiser_id__in=organiser_ids).values("pupil_id")


def viewer_for(request: HttpRequest) -> Viewer:
    """The viewer behind a request; a user without a staff record sees nothing."""
    cached = getattr(request, "_fullfolj_viewer", None)
    if isinstance(cached, Viewer):
        return cached
    staff = getattr(request.user, "staff", None) if request.user.is_authenticated else None
    if staff is None:
        raise Http404
    viewer = Viewer(staff)
    request._fullfolj_viewer = viewer  # type: ignore[attr-defined]
    return viewer


def get_pupil_or_404(request: HttpRequest, pupil_id: int) -> Pupil:
    """The pupil if this viewer may see them, logged as a read; else 404."""
    viewer = viewer_for(request)
    pupil = get_object_or_404(pupils_visible_to(viewer), pk=pupil_id)
    AccessLog.objects.create(
        staff=viewer.staff, pupil=pupil, role=viewer.role_for(pupil), path=request.path[:300]
    )
    return pupil


def record_reads(
    request: HttpRequest, pupils: Iterable[Pupil | int], *, role: str | Mapping[int, str]
) -> None:
    """Log that this viewer saw these pupils on this page: one INSERT, one row per pupil.

    Every page or export that shows identifiable pupil data calls this with the pupils it showed
    and the role through which it showed them (one role, or one per pupil id).
    """
    record_staff_reads(viewer_for(request).staff, pupils, role=role, path=request.path)


def record_staff_reads(
    staff: Staff, pupils: Iterable[Pupil | int], *, role: str | Mapping[int, str], path: str
) -> None:
    """As `record_reads`, for reads outside the pages (the admin, exports)."""
    ids = sorted({p if isinstance(p, int) else p.pk for p in pupils})
    if ids:
        AccessLog.objects.bulk_create(
            [
                AccessLog(
                    staff=staff,
                    pupil_id=pk,
                    path=path[:300],
                    role=role if isinstance(role, str) else role.get(pk, "unknown"),
                )
                for pk in ids
            ]
        )


def may_read_access_log(viewer: Viewer, pupil: Pupil) -> bool:
    """Who read a pupil's record is shown to the principal of the pupil's school."""
    return (
        viewer.has(Role.PRINCIPAL)
        and pupils_visible_to(viewer, roles={Role.PRINCIPAL}).filter(pk=pupil.pk).exists()
    )


def get_pupil_access_log_or_404(request: HttpRequest, pupil_id: int) -> Pupil:
    """The pupil whose read log this viewer (their principal) may open, logged as a read."""
    viewer = viewer_for(request)
    pupil = get_object_or_404(pupils_visible_to(viewer, roles={Role.PRINCIPAL}), pk=pupil_id)
    record_reads(request, [pupil], role=Role.PRINCIPAL)
    return pupil


def names_at_school(viewer: Viewer, school: School) -> bool:
    """Whether this viewer sees the school's pupils by name (else its figures only)."""
    return viewer.named_schools.filter(pk=school.pk).exists()


def groups_taught(viewer: Viewer, today: dt.date) -> QuerySet[TeachingGroup]:
    """The groups this person teaches in the school year of `today`."""
    return TeachingGroup.objects.filter(
        teaching__staff=viewer.staff, school_year__start__lte=today, school_year__end__gte=today
    ).distinct()


def organisers_screened_by(viewer: Viewer) -> list[int]:
    """Organisers whose screening this viewer may see or start: principal or administration."""
    ids = set(viewer.organisers_with({Role.ADMINISTRATION}))
    ids |= {r.organiser_id for r in viewer.roles if r.role == Role.PRINCIPAL}
    return sorted(ids)


def administered_organiser_or_404(viewer: Viewer) -> Organiser:
    """The organiser whose figures this viewer sees as its administration."""
    org_ids = sorted(viewer.organisers_with({Role.ADMINISTRATION}))
    if not org_ids:
        raise Http404
    return Organiser.objects.get(pk=org_ids[0])


def overview_schools_or_404(viewer: Viewer) -> QuerySet[School]:
    """The schools whose figures the overview shows: the administration's organiser, or the
    principal's and student-health team's own schools. Teaching alone opens no overview."""
    if not (viewer.is_administration or viewer.school_wide_schools):
        raise Http404
    return viewer.schools


def get_school_or_404(request: HttpRequest, school_id: int) -> School:
    return get_object_or_404(viewer_for(request).schools, pk=school_id)


def get_group_or_404(request: HttpRequest, group_id: int) -> tuple[TeachingGroup, str]:
    """A teaching group and the role that opens it: its teachers, and its school's principal
    and student-health team; else 404."""
    viewer = viewer_for(request)
    may_see = Q(teaching__staff=viewer.staff) | Q(school_id__in=viewer.school_wide_schools)
    group = get_object_or_404(TeachingGroup.objects.filter(may_see).distinct(), pk=group_id)
    if group.school_id in viewer.school_wide_schools:
        return group, viewer.school_role(group.school_id)
    return group, str(Role.TEACHER)


def get_lesson_or_404(request: HttpRequest, lessons: QuerySet[T], lesson_id: int) -> T:
    """The lesson (of `lessons`) if this viewer may register it: its teacher, or a principal at
    its school."""
    viewer = viewer_for(request)
    # The principal's schools as a subquery: the lesson's teacher needs no read of the roles.
    principal_of = StaffRole.objects.filter(
        staff=viewer.staff, role=Role.PRINCIPAL, school__isnull=False
    ).values("school_id")
    may_register = Q(teacher=viewer.staff) | Q(group__school_id__in=principal_of)
    return get_object_or_404(lessons.filter(may_register), pk=lesson_id)


def lessons_taught_by(viewer: Viewer, lessons: QuerySet[T]) -> QuerySet[T]:
    """The lessons (of `lessons`) this person teaches: the registers that are theirs to keep."""
    return lessons.filter(teacher=viewer.staff)


def lesson_roster(request: HttpRequest, lesson: Any) -> tuple[Q, str]:
    """Which of a lesson's pupils this viewer sees in its register, and through which role.

    The lesson's teacher sees the pupils in the group today (at its school); the school's
    principal every pupil placed at the school today. A pupil who has left keeps their marks,
    but no longer shows to those whose role reached them only through the group.
    """
    viewer = viewer_for(request)
    today = clock.today()
    here_today = Placement.objects.active_on(today).filter(school_id=lesson.group.school_id)
    principal_of = StaffRole.objects.filter(
        staff=viewer.staff, role=Role.PRINCIPAL, school_id=lesson.group.school_id
    )
    in_group = GroupMembership.objects.active_on(today).filter(
        group_id=lesson.group_id, pupil_id__in=here_today.values("pupil_id")
    )
    principal = Q(pk__in=here_today.values("pupil_id")) & Q(Exists(principal_of))
    if lesson.teacher_id == viewer.staff.pk:
        return Q(pk__in=in_group.values("pupil_id")) | principal, str(Role.TEACHER)
    return principal, str(Role.PRINCIPAL)
