"""Who may see which pupil: the one gate every view and API goes through.

Access follows role and relationship (docs/privacy.md): a teacher sees the groups they
teach, a mentor their mentees, the principal and the student-health team their school, the
administration its organiser's schools (names hidden by default), the compulsory-school officer
the children resident in the municipality who attend no school (figures for the rest). Not allowed looks exactly like not found (404).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, TypeVar

from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from fullfolj.lib import clock
from fullfolj.schools.models import (
    STUDENT_HEALTH_ROLES,
    GroupMembership,
    Mentorship,
    Organiser,
    Placement,
    Pupil,
    Role,
    School,
    Staff,
    StaffRole,
    TeachingGroup,
)

from .models import AccessLog, SecondFactorRequirement
from .models import SecondFactorKind as SecondFactorKind
from .sso import IDP_SECOND_FACTOR

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
    # Whether this login gave a second factor: our own code, or the identity provider's.
    second_factor: bool = False

    @cached_property
    def roles(self) -> list[StaffRole]:
        return list(self.staff.roles.select_related("school", "organiser"))

    @cached_property
    def _second_factor_rules(self) -> dict[int | None, SecondFactorRequirement]:
        return {}

    def second_factor_required(self, school_id: int | None, kind: str) -> bool:
        """Whether the organiser of the school guards this kind of data with a second factor."""
        organiser_id = next(
            (r.school.organiser_id for r in self.roles if r.school and r.school_id == school_id),
            None,
        )
        if organiser_id is None and school_id is not None:
            school = School.objects.filter(pk=school_id).values("organiser_id").first()
            organiser_id = school["organiser_id"] if school else None
        return self.organiser_requires(organiser_id, kind)

    def organiser_requires(self, organiser_id: int | None, kind: str) -> bool:
        """The organiser's SecondFactorRequirement for this kind, or the defaults without one."""
        rules = self._second_factor_rules
        if organiser_id not in rules:
            found = None
            if organiser_id is not None:
                found = SecondFactorRequirement.objects.filter(organiser_id=organiser_id).first()
            rules[organiser_id] = found or SecondFactorRequirement()
        return rules[organiser_id].requires(kind)

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
    def is_attendance_officer(self) -> bool:
        return self.has(Role.ATTENDANCE_OFFICER)

    @property
    def names_in_administration(self) -> bool:
        """The administration scope shows names only with the explicit permission.

        Decided for that scope alone: another role this person holds (say, teacher at one
        school) never switches names on for the organiser's other pupils.
        """
        user = self.staff.user
        return bool(user and user.has_perm("schools.view_pupil_names"))

    @property
    def sees_pupil_names(self) -> bool:
        """Whether some role shows this person pupils by name (the pupil search is for them)."""
        return (
            self.is_teacher
            or self.is_mentor
            or bool(self.school_wide_schools)
            or self.has(Role.ATTENDANCE_OFFICER)
            or (self.is_administration and self.names_in_administration)
        )

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
    viewer = Viewer(staff, second_factor=has_second_factor(request))
    request._fullfolj_viewer = viewer  # type: ignore[attr-defined]
    return viewer


def has_second_factor(request: HttpRequest) -> bool:
    """Whether this signed-in session gave a second factor: a django-otp code, or an identity
    provider that asserted one. Only a session counts: an API token carries no second factor
    (the user it sets has no `is_verified`), so a token never reads guarded data."""
    is_verified = getattr(request.user, "is_verified", None)
    if not callable(is_verified):
        return False
    return bool(is_verified() or request.session.get(IDP_SECOND_FACTOR))


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


def organisers_with_rule_figures(viewer: Viewer) -> list[int]:
    """Organisers whose rules and their figures (aggregates only) this viewer may read:
    principal, student-health team and administration."""
    ids = set(organisers_screened_by(viewer))
    ids |= {r.organiser_id for r in viewer.roles if r.role in STUDENT_HEALTH_ROLES}
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


# The absence ladder's tasks. A task names the role that acts on it (`actor`: mentor, principal,
# student_health), its school and its pupil; the ladder app owns the model, the gate the rules.
LADDER_ROLES = frozenset({Role.MENTOR, Role.PRINCIPAL, *STUDENT_HEALTH_ROLES})
ACTOR_MENTOR, ACTOR_PRINCIPAL, ACTOR_STUDENT_HEALTH = "mentor", "principal", "student_health"


class LadderTaskLike(Protocol):
    actor: str
    school_id: int | None
    pupil_id: int
    assignee_id: int | None

    @property
    def is_open(self) -> bool: ...


def ladder_pupils(viewer: Viewer) -> QuerySet[Pupil]:
    """Pupils whose ladder tasks this viewer sees: through a ladder role, never as teacher."""
    return pupils_visible_to(viewer, roles=LADDER_ROLES)


def get_task_or_404(request: HttpRequest, tasks: QuerySet[T], task_id: int) -> T:
    """The task (of `tasks`) if its pupil is reached through a ladder role; else 404."""
    viewer = viewer_for(request)
    return get_object_or_404(tasks.filter(pupil__in=ladder_pupils(viewer)), pk=task_id)


def assigned_tasks(viewer: Viewer) -> Q:
    """Mina uppgifter: tasks assigned to this person or to a role they hold for the pupil."""
    mine = Q(assignee=viewer.staff)
    student_health = viewer.schools_with(STUDENT_HEALTH_ROLES)
    if student_health:
        mine |= Q(actor=ACTOR_STUDENT_HEALTH, school_id__in=student_health)
    principal = viewer.schools_with({Role.PRINCIPAL})
    if principal:
        mine |= Q(actor=ACTOR_PRINCIPAL, assignee__isnull=True, school_id__in=principal)
    if viewer.is_mentor:  # the pupil's mentor now, also when the task went to the one before
        mine |= Q(actor=ACTOR_MENTOR, pupil__in=pupils_visible_to(viewer, roles={Role.MENTOR}))
    return mine


def task_records_access(viewer: Viewer, task: LadderTaskLike) -> HealthAccess:
    """What the student-health team documented (the investigation, utredning) is health data
    (OSL 25 kap., GDPR art. 9): only the team, the school's principal and the assignee read it,
    after a second factor where the organiser asks for one; others see that it was done."""
    if task.actor != ACTOR_STUDENT_HEALTH:
        return HealthAccess.READ
    return health_access(
        viewer,
        task.school_id,
        SecondFactorKind.INVESTIGATIONS,
        assignee=task.assignee_id == viewer.staff.pk,
    )


def may_read_task_records(viewer: Viewer, task: LadderTaskLike) -> bool:
    return task_records_access(viewer, task) is HealthAccess.READ


def may_close_task(viewer: Viewer, task: LadderTaskLike) -> bool:
    """Who may document and close a task: the person it is assigned to, whoever holds the
    acting role for the pupil (their mentor, the school's principal or student-health team),
    and the school's principal, who answers for the whole ladder (Skollagen 7 kap. 19 a §)."""
    if not task.is_open:
        return False
    if task.assignee_id == viewer.staff.pk:
        return True
    if task.school_id in viewer.schools_with({Role.PRINCIPAL}):
        return True
    if task.actor == ACTOR_STUDENT_HEALTH:
        return task.school_id in viewer.schools_with(STUDENT_HEALTH_ROLES)
    if task.actor == ACTOR_MENTOR:  # also a new mentor, after a change of mentor
        return pupils_visible_to(viewer, roles={Role.MENTOR}).filter(pk=task.pupil_id).exists()
    return False


# Support (elevärenden). A case names its pupil, school, responsible person and the people
# working on it; the support app owns the models, the gate the rules. The people who act on the
# ladder read the case; the people on it too, while they reach the pupil at all.
SUPPORT_ROLES = LADDER_ROLES
# Staff under the student-health team's professional secrecy (OSL 25 kap.): what they write on a
# case is health data, read only by the team and the principal.
HEALTH_SECRECY_ROLES = frozenset(
    {Role.COUNSELLOR, Role.PSYCHOLOGIST, Role.SCHOOL_NURSE, Role.SCHOOL_DOCTOR}
)


class CaseLike(Protocol):
    school_id: int
    pupil_id: int


def support_pupils(viewer: Viewer) -> QuerySet[Pupil]:
    """Pupils whose cases this viewer reaches through a support role (never as teacher)."""
    return pupils_visible_to(viewer, roles=SUPPORT_ROLES)


def cases_visible_to(viewer: Viewer, cases: QuerySet[T]) -> QuerySet[T]:
    """The cases (of `cases`) this viewer may read: the pupil's mentor, the school's principal
    and student-health team, and whoever is on the case while they still reach the pupil."""
    staff = viewer.staff
    on_case = cases.filter(Q(responsible=staff) | Q(participants=staff)).values("pk")
    by_role = Q(pupil__in=support_pupils(viewer))
    as_member = Q(pk__in=on_case, pupil__in=pupils_visible_to(viewer))
    return cases.filter(by_role | as_member)


def may_open_case(viewer: Viewer, pupil: Pupil) -> bool:
    """Who may open a case for a pupil: whoever reaches the pupil through a support role."""
    return support_pupils(viewer).filter(pk=pupil.pk).exists()


def get_case_or_404(request: HttpRequest, cases: QuerySet[T], case_id: int) -> T:
    """The case (of `cases`) if this viewer may read it; else 404. The pupil's read is logged."""
    viewer = viewer_for(request)
    case = get_object_or_404(cases_visible_to(viewer, cases), pk=case_id)
    pupil_id = case.pupil_id  # type: ignore[attr-defined]
    record_reads(request, [pupil_id], role=viewer.role_map([pupil_id]).get(pupil_id, "unknown"))
    return case


class HealthAccess(enum.Enum):
    """How a viewer meets one kind of student-health data."""

    READ = "read"
    VERIFY = "verify"  # their role reads it once they give a second factor
    NONE = "none"


def health_access(
    viewer: Viewer, school_id: int | None, kind: str, *, assignee: bool = False
) -> HealthAccess:
    """The one rule for student-health data at a school, every route's: the team and the
    principal of the school (and the assignee of a task) read it, after a second factor where
    the organiser requires one for this kind (SecondFactorRequirement)."""
    if not assignee and school_id not in viewer.schools_with(
        STUDENT_HEALTH_ROLES | {Role.PRINCIPAL}
    ):
        return HealthAccess.NONE
    if viewer.second_factor or not viewer.second_factor_required(school_id, kind):
        return HealthAccess.READ
    return HealthAccess.VERIFY


def second_factor_missing_for(viewer: Viewer, organiser_id: int) -> bool:
    """For what shows all of a pupil's data at once (the register extract): whether the
    organiser guards some kind of student-health data and this login has not given the factor."""
    if viewer.second_factor:
        return False
    return any(viewer.organiser_requires(organiser_id, kind) for kind in SecondFactorKind)


def health_entries_access(
    viewer: Viewer, case: CaseLike, kind: str = SecondFactorKind.HEALTH_ENTRIES
) -> HealthAccess:
    return health_access(viewer, case.school_id, kind)


def may_read_health_entries(
    viewer: Viewer, case: CaseLike, kind: str = SecondFactorKind.HEALTH_ENTRIES
) -> bool:
    """Entries written under the student-health team's secrecy (and, with `kind`, the health
    section of mappings): see `health_access`; everyone else sees only that there is such an
    entry."""
    return health_entries_access(viewer, case, kind) is HealthAccess.READ


def writes_health_entries(viewer: Viewer, case: CaseLike) -> bool:
    """Whether what this viewer writes on the case falls under health secrecy: they are
    counsellor, psychologist, nurse or doctor at the case's school."""
    return case.school_id in viewer.schools_with(HEALTH_SECRECY_ROLES)


def may_decide_support(viewer: Viewer, case: CaseLike) -> bool:
    """The principal decides on an åtgärdsprogram (or not to draw one up), an adapted study
    path, a special teaching group and individual teaching (Skollagen 3 kap. 9-12 §§)."""
    return case.school_id in viewer.schools_with({Role.PRINCIPAL})


def may_edit_measure(viewer: Viewer, case: CaseLike, *, decided: bool) -> bool:
    """Whoever reads the case changes its measures, until the principal has decided on one:
    changing a decided measure is a new decision, the principal's alone."""
    return not decided or may_decide_support(viewer, case)


def get_support_pupil_or_404(request: HttpRequest, pupil_id: int, cases: QuerySet[T]) -> Pupil:
    """The pupil whose cases this viewer may see (a support role, or a case of theirs they are
    on), logged as a read; else 404. Teaching alone shows no cases."""
    viewer = viewer_for(request)
    reach = Q(pk__in=support_pupils(viewer).values("pk")) | Q(
        pk__in=cases_visible_to(viewer, cases).values("pupil_id")
    )
    pupil = get_object_or_404(Pupil.objects.filter(reach), pk=pupil_id)
    record_reads(request, [pupil], role=viewer.role_for(pupil))
    return pupil


# The compulsory-school oversight (skolpliktsbevakning). Its cases name children by personnummer,
# many of them in no school's records; the compulsory-school officer of the municipality alone
# reads them. The term report for the board holds figures only: the administration reads it too.
def overseen_organiser_or_404(viewer: Viewer) -> Organiser:
    """The municipality whose oversight this viewer keeps as its compulsory-school officer."""
    org_ids = sorted(viewer.organisers_with({Role.ATTENDANCE_OFFICER}))
    if not org_ids:
        raise Http404
    return Organiser.objects.get(pk=org_ids[0])


def oversight_report_organiser_or_404(viewer: Viewer) -> Organiser:
    """The municipality whose oversight figures (no names) this viewer reads: officer or
    administration."""
    org_ids = sorted(viewer.organisers_with({Role.ATTENDANCE_OFFICER, Role.ADMINISTRATION}))
    if not org_ids:
        raise Http404
    return Organiser.objects.get(pk=org_ids[0])


def get_oversight_case_or_404(request: HttpRequest, cases: QuerySet[T], case_id: int) -> T:
    """An oversight case (of `cases`) of the officer's municipality; else 404. A case naming a
    pupil of our records is logged as a read of that pupil."""
    viewer = viewer_for(request)
    organisers = viewer.organisers_with({Role.ATTENDANCE_OFFICER})
    case = get_object_or_404(cases.filter(organiser_id__in=organisers), pk=case_id)
    pupil_id = getattr(case, "pupil_id", None)
    if pupil_id:
        record_reads(request, [pupil_id], role=Role.ATTENDANCE_OFFICER)
    return case


# Handovers (överlämningar). A handover names its pupil, the sending school (where the pupil is
# placed while it is written), the receiving school and the placement there; the handover app
# owns the models, the gate the rules. The sending school writes; the receiving school's
# principal, student-health team and the pupil's mentor there read what was sent, before the
# first day too (docs/handover.md).


class HandoverLike(Protocol):
    pupil_id: int
    sending_school_id: int | None
    receiving_school_id: int


def _placed_here_today(school_field: str) -> Exists:
    today = clock.today()
    return Exists(
        Placement.objects.active_on(today).filter(
            pupil_id=OuterRef("pupil_id"), school_id=OuterRef(school_field)
        )
    )


def handovers_written_by(viewer: Viewer, handovers: QuerySet[T]) -> QuerySet[T]:
    """The handovers (of `handovers`) this viewer writes: the pupil's mentor at the sending
    school, and its principal and student-health team while the pupil is placed there."""
    mentor_at = viewer.schools_with({Role.MENTOR})
    school_wide = viewer.school_wide_schools
    writes = Q(pk__in=[])
    if mentor_at:
        mentees = pupils_visible_to(viewer, roles={Role.MENTOR}).values("pk")
        writes |= Q(sending_school_id__in=mentor_at, pupil_id__in=mentees)
    if school_wide:
        writes |= Q(sending_school_id__in=school_wide) & Q(_placed_here_today("sending_school_id"))
    return handovers.filter(writes)


def _receiving_mentor(viewer: Viewer) -> Q:
    """The pupil's mentor at the receiving school: a mentorship that starts with the new
    placement (or later) and has not ended, held by a mentor of that school."""
    mentor_at = viewer.schools_with({Role.MENTOR})
    if not mentor_at:
        return Q(pk__in=[])
    today = clock.today()
    coming = Mentorship.objects.filter(
        Q(end__isnull=True) | Q(end__gte=today),
        mentor=viewer.staff,
        pupil_id=OuterRef("pupil_id"),
        start__gte=OuterRef("placement__start"),
    )
    return Q(receiving_school_id__in=mentor_at) & Q(Exists(coming))


def handovers_received_by(viewer: Viewer, handovers: QuerySet[T]) -> QuerySet[T]:
    """The handovers (of `handovers`) this viewer receives: the receiving school's principal
    and student-health team, and the pupil's mentor there once named."""
    receives = Q(receiving_school_id__in=viewer.school_wide_schools) | _receiving_mentor(viewer)
    return handovers.filter(receives)


def handover_role(viewer: Viewer, handover: HandoverLike, *, writing: bool) -> str:
    """The role through which this viewer opens a handover, for the access log."""
    school = handover.sending_school_id if writing else handover.receiving_school_id
    for r in viewer.roles:
        if r.school_id == school and (r.role == Role.PRINCIPAL or r.role in STUDENT_HEALTH_ROLES):
            return str(r.role)
    return str(Role.MENTOR)


def may_start_handover(viewer: Viewer, pupil: Pupil) -> bool:
    """Who starts a pupil's handover: whoever reaches the pupil today through a support role
    (their mentor, their school's principal and student-health team)."""
    return pupils_visible_to(viewer, roles=SUPPORT_ROLES).filter(pk=pupil.pk).exists()


def handover_pupils(viewer: Viewer) -> QuerySet[Pupil]:
    """Pupils whose coming move this viewer prepares a handover for (the support roles)."""
    return pupils_visible_to(viewer, roles=SUPPORT_ROLES)


def arrivals_visible_to(viewer: Viewer, placements: QuerySet[T]) -> QuerySet[T]:
    """Coming placements (of `placements`) whose pupils this viewer may see arrive: the
    receiving school's principal and student-health team, and the pupil's coming mentor."""
    today = clock.today()
    visible = Q(school_id__in=viewer.school_wide_schools)
    mentor_at = viewer.schools_with({Role.MENTOR})
    if mentor_at:
        coming = Mentorship.objects.filter(
            Q(end__isnull=True) | Q(end__gte=today),
            mentor=viewer.staff,
            pupil_id=OuterRef("pupil_id"),
            start__gte=OuterRef("start"),
        )
        visible |= Q(school_id__in=mentor_at) & Q(Exists(coming))
    return placements.filter(visible)
