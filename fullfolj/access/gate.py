"""Who may see which pupil: the one gate every view and API goes through.

Access follows role and relationship (DOMAIN.md, Personal data): a teacher sees the groups they
teach, a mentor their mentees, the principal and the student-health team their school, the
administration its organiser's schools (names hidden by default), the compulsory-school officer
the children resident in the municipality. Not allowed looks exactly like not found (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from fullfolj.attendance.models import Lesson
from fullfolj.lib import clock
from fullfolj.schools.models import STUDENT_HEALTH_ROLES, Pupil, Role, School, Staff, StaffRole

from .models import AccessLog


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
    def sees_names(self) -> bool:
        """Administration sees aggregates; names only with the explicit permission."""
        if self.has(Role.TEACHER, Role.MENTOR, Role.PRINCIPAL, Role.ATTENDANCE_OFFICER,
                    *STUDENT_HEALTH_ROLES):
            return True
        return bool(self.staff.user and self.staff.user.has_perm("schools.view_pupil_names"))

    @property
    def sees_protected_details(self) -> bool:
        user = self.staff.user
        return bool(user and user.has_perm("schools.view_protected_identity"))

    def role_for(self, pupil: Pupil) -> str:
        """The first role through which this viewer reaches the pupil, for the access log."""
        for role in (Role.MENTOR, Role.TEACHER, Role.PRINCIPAL, *sorted(STUDENT_HEALTH_ROLES),
                     Role.ATTENDANCE_OFFICER, Role.ADMINISTRATION):
            if pupils_visible_to(self, roles={role}).filter(pk=pupil.pk).exists():
                return str(role)
        return "unknown"

    @property
    def schools(self) -> QuerySet[School]:
        """Schools whose pupil lists this viewer may open."""
        admin_orgs = self.organisers_with({Role.ADMINISTRATION})
        return School.objects.filter(
            Q(pk__in=self.school_wide_schools) | Q(organiser__in=admin_orgs)
        )


def pupils_visible_to(viewer: Viewer, *, roles: set[str] | None = None) -> QuerySet[Pupil]:
    """Every pupil this viewer may see today, by role and relationship."""
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
        r.school_id for r in viewer.roles
        if r.school_id and wanted(r.role) and (r.role == Role.PRINCIPAL
                                                or r.role in STUDENT_HEALTH_ROLES)
    }
    if school_wide:
        visible |= Q(pk__in=_placed_at(school_wide, active))
    if wanted(Role.ADMINISTRATION):
        admin_orgs = viewer.organisers_with({Role.ADMINISTRATION})
        if admin_orgs:
            visible |= Q(pk__in=_placed_at_organisers(admin_orgs, active))
    if wanted(Role.ATTENDANCE_OFFICER):
        officer_orgs = viewer.organisers_with({Role.ATTENDANCE_OFFICER})
        if officer_orgs:
            visible |= Q(municipality_of_residence__in=officer_orgs)
    return Pupil.objects.filter(visible)


def _members_taught_by(staff: Staff, today: object) -> QuerySet:
    from fullfolj.schools.models import GroupMembership

    return GroupMembership.objects.active_on(today).filter(
        group__teaching__staff=staff
    ).values("pupil_id")


def _placed_at(school_ids: set[int], active: Q) -> QuerySet:
    from fullfolj.schools.models import Placement

    return Placement.objects.filter(active, school_id__in=school_ids).values("pupil_id")


def _placed_at_organisers(organiser_ids: set[int], active: Q) -> QuerySet:
    from fullfolj.schools.models import Placement

    return Placement.objects.filter(active, organiser_id__in=organiser_ids).values("pupil_id")


def viewer_for(request: HttpRequest) -> Viewer:
    """The viewer behind a request; a user without a staff record sees nothing."""
    cached = getattr(request, "_fullfolj_viewer", None)
    if cached is not None:
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
    if not viewer.sees_names:
        raise Http404  # the administration works with aggregates, not records
    AccessLog.objects.create(
        staff=viewer.staff, pupil=pupil, role=viewer.role_for(pupil), path=request.path[:300]
    )
    return pupil


def record_reads(request: HttpRequest, pupils: Iterable[Pupil | int], *, role: str) -> None:
    """Log that this viewer saw these pupils on this page: one INSERT, one row per pupil.

    Every page or export that shows identifiable pupil data calls this with the pupils it showed
    and the role through which it showed them.
    """
    record_staff_reads(viewer_for(request).staff, pupils, role=role, path=request.path)


def record_staff_reads(staff: Staff, pupils: Iterable[Pupil | int], *, role: str,
                       path: str) -> None:
    """As `record_reads`, for reads outside the pages (the admin, exports)."""
    ids = sorted({p if isinstance(p, int) else p.pk for p in pupils})
    if ids:
        AccessLog.objects.bulk_create(
            [AccessLog(staff=staff, pupil_id=pk, role=role, path=path[:300]) for pk in ids]
        )


def get_school_or_404(request: HttpRequest, school_id: int) -> School:
    return get_object_or_404(viewer_for(request).schools, pk=school_id)


def get_lesson_or_404(request: HttpRequest, lesson_id: int) -> Lesson:
    """The lesson if this viewer may register it: its teacher, or a principal at its school."""
    viewer = viewer_for(request)
    # The principal's schools as a subquery: the lesson's teacher needs no read of the roles.
    principal_of = StaffRole.objects.filter(
        staff=viewer.staff, role=Role.PRINCIPAL, school__isnull=False
    ).values("school_id")
    may_register = Q(teacher=viewer.staff) | Q(group__school_id__in=principal_of)
    lessons = Lesson.objects.filter(may_register).select_related(
        "group__school", "subject", "teacher", "registered_by"
    )
    return get_object_or_404(lessons, pk=lesson_id)
