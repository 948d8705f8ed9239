"""`fullfolj demo` builds a municipality that is alive today for every printed login."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.test import override_settings

from fullfolj.attendance.models import Lesson, LessonAttendance
from fullfolj.grades.models import GradeWarning
from fullfolj.ladder.models import Actor, LadderRecord, LadderTask
from fullfolj.notices.models import GuardianNotice, Status
from fullfolj.schools.models import Mentorship, Organiser, Role, School, Staff
from fullfolj.screening.models import RuleEvaluation, ScreeningRun
from fullfolj.simulation import demo

from .conftest import restore, snapshot

SATURDAY = dt.date(2026, 12, 5)
FRIDAY = SATURDAY - dt.timedelta(days=1)
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with django_db_blocker.unblock():
        shipped = snapshot(data)
    with (
        django_db_blocker.unblock(),
        override_settings(FULLFOLJ_TODAY=SATURDAY.isoformat(), DATA_DIR=data),
    ):
        call_command("demo", pupils=150, no_serve=True, stdout=out)
        cast = demo.saved_cast()
        again = io.StringIO()
        call_command("demo", pupils=150, no_serve=True, stdout=again)
    yield out.getvalue(), again.getvalue(), cast
    with django_db_blocker.unblock():
        restore(shipped)


@pytest.fixture
def today(settings):
    settings.FULLFOLJ_TODAY = SATURDAY.isoformat()
    return SATURDAY


def test_each_phase_prints_its_progress_and_every_role_a_login(built):
    output, again, cast = built
    for phase in ("absence ladder", "screening run", "rule evaluation", "guardian notices",
                  "support cases", "compulsory-school oversight", "handovers",
                  "resource bank and KASAM", "unregistered lessons", "unsettled absences",
                  "grades", "file imports", "retention"):  # fmt: skip
        assert f"demo: {phase}" in output
        assert f"demo: {phase}" not in again  # a second run keeps the data
    assert set(cast.usernames) == set(Role.values)
    for username in cast.usernames.values():
        assert f" {username} " in output
        assert f" {username} " in again  # the same logins the second time
    assert "/admin/" in output


@pytest.mark.django_db
def test_the_printed_mentor_has_current_mentees_with_open_ladder_tasks(built, today):
    mentor = built[2].mentor
    mentees = Mentorship.objects.active_on(today).filter(mentor=mentor).values("pupil_id")
    assert mentees.count() >= 5
    open_tasks = LadderTask.objects.filter(pupil__in=mentees, closed_at__isnull=True)
    assert open_tasks.filter(assignee=mentor).exists()


@pytest.mark.django_db
def test_the_ladder_has_open_tasks_for_every_actor_and_documented_closed_ones(built):
    open_tasks = LadderTask.objects.filter(closed_at__isnull=True)
    assert set(open_tasks.values_list("actor", flat=True)) == set(Actor.values)
    assert open_tasks.filter(due__lt=SATURDAY).exists()  # some are overdue
    assert open_tasks.filter(due__gte=SATURDAY).exists()
    closed = LadderTask.objects.filter(closed_at__isnull=False)
    assert closed.exists()
    assert LadderRecord.objects.filter(task__in=closed).count() == closed.count()


@pytest.mark.django_db
def test_the_mentors_pupils_have_absences_to_settle(built, today):
    mentees = Mentorship.objects.active_on(today).filter(mentor=built[2].mentor)
    unsettled = LessonAttendance.objects.filter(
        pupil__in=mentees.values("pupil_id"), absent_minutes__gt=0, is_valid__isnull=True
    )
    assert unsettled.exists()
    assert not unsettled.filter(reason__isnull=False).exists()


@pytest.mark.django_db
def test_guardian_notices_were_sent_and_some_are_pending(built):
    statuses = set(GuardianNotice.objects.values_list("status", flat=True))
    assert {Status.SENT, Status.SCHEDULED} <= statuses
    assert not GuardianNotice.objects.filter(status=Status.SCHEDULED, date__lt=FRIDAY).exists()


@pytest.mark.django_db
def test_a_screening_run_and_a_rule_evaluation_exist(built):
    municipality = Organiser.objects.get(kind=Organiser.Kind.MUNICIPALITY)
    assert ScreeningRun.objects.filter(organiser=municipality, as_of=SATURDAY).exists()
    assert RuleEvaluation.objects.filter(organiser=municipality).exists()


@pytest.mark.django_db
def test_lessons_are_in_local_time_and_past_ones_registered_but_a_few_of_the_teacher(built):
    friday = Lesson.objects.filter(date=FRIDAY)
    starts = [lesson.start.astimezone(STOCKHOLM) for lesson in friday]
    assert min(s.time() for s in starts) >= dt.time(8, 0)
    assert min(s.time() for s in starts) <= dt.time(8, 30)
    assert max((s + dt.timedelta(minutes=60)).time() for s in starts) <= dt.time(17, 0)
    teacher = built[2].teacher
    unregistered = Lesson.objects.filter(date__lt=SATURDAY, registered_at__isnull=True)
    assert 1 <= unregistered.count() <= demo.UNREGISTERED
    assert set(unregistered.values_list("teacher", flat=True)) == {teacher.pk}
    assert not LessonAttendance.objects.filter(lesson__in=unregistered).exists()
    assert not Lesson.objects.filter(date__gt=SATURDAY, registered_at__isnull=False).exists()
    registered = Lesson.objects.filter(date=FRIDAY).exclude(registered_at=None).first()
    assert registered is not None
    assert registered.registered_by_id == registered.teacher_id
    assert registered.registered_at > registered.end


@pytest.mark.django_db
def test_this_terms_f_warnings_are_there(built):
    assert GradeWarning.objects.filter(term__start__lte=SATURDAY, term__end__gte=SATURDAY).exists()


@pytest.mark.django_db
def test_the_administration_login_opens_the_admin_of_its_own_organiser_only(built, client):
    admin = Staff.objects.get(username=built[2].usernames[Role.ADMINISTRATION])
    own = admin.roles.get(role=Role.ADMINISTRATION).organiser
    friskola = School.objects.exclude(organiser=own).first()
    assert friskola is not None
    client.force_login(admin.user)
    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/schools/school/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == School.objects.filter(organiser=own).count()
    assert friskola.name not in response.content.decode()
    assert client.get(f"/admin/schools/school/{friskola.pk}/change/").status_code in (302, 404)
    assert not admin.user.has_perm("schools.view_pupil_names")
    # The organiser sets which student-health data asks for a second factor.
    assert client.get("/admin/access/secondfactorrequirement/add/").status_code == 200
    assert not admin.user.has_perm("access.change_accesslog")


@pytest.mark.django_db
def test_every_organiser_has_retention_periods_its_administration_sees(built, client):
    from fullfolj.records.models import RetentionPolicy, RetentionRun

    assert RetentionPolicy.objects.count() == Organiser.objects.count()
    assert RetentionRun.objects.count() == 1  # the second build made no second run
    admin = Staff.objects.get(username=built[2].usernames[Role.ADMINISTRATION])
    own = admin.roles.get(role=Role.ADMINISTRATION).organiser
    client.force_login(admin.user)
    response = client.get("/admin/records/retentionpolicy/")
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [own.retention_policy]


@pytest.mark.django_db
def test_the_demo_holds_support_of_every_kind_with_overdue_follow_ups(built, today):
    from fullfolj.support import followups
    from fullfolj.support.models import AgreedAction, Case, CaseEntry, Evaluation, Mapping, Measure

    assert Case.objects.filter(status=Case.Status.CLOSED).exists()  # earlier terms
    assert Case.objects.open().exists()
    assert set(Measure.objects.values_list("kind", flat=True)) == set(Measure.Kind.values)
    assert Mapping.objects.exists()
    assert set(Evaluation.objects.values_list("judgement", flat=True)) == set(
        Evaluation.Judgement.values
    )
    assert Measure.objects.filter(decision=Measure.Decision.DECIDED).exists()
    minutes = CaseEntry.objects.filter(kind=CaseEntry.Kind.EHT_MINUTES)
    assert minutes.filter(health_restricted=True).exists()
    assert AgreedAction.objects.filter(entry__in=minutes).exists()
    # The printed mentor has follow-ups overdue, and the printed teacher's pupils adaptations.
    mentor = built[2].mentor
    assert followups.overdue(today).filter(responsible=mentor).count() >= 2
    assert Measure.objects.active().filter(kind=Measure.Kind.EXTRA_ADAPTATION).exists()


@pytest.mark.django_db
def test_no_case_is_opened_after_the_first_measure_or_entry_on_it(built):
    # The ladder opens cases for the student-health team; the term's support joins them with
    # measures begun earlier: the case was opened when its support began.
    from django.db.models import Min
    from django.utils import timezone

    from fullfolj.support.models import Case

    cases = Case.objects.annotate(
        first_measure=Min("measures__start"), first_entry=Min("entries__occurred_on")
    )
    joined = cases.filter(ladder_task__isnull=False, measures__isnull=False).distinct()
    assert joined.exists()  # the ladder opened cases that the term's support joined
    for case in cases:
        opened = timezone.localdate(case.opened_at)
        first = [d for d in (case.first_measure, case.first_entry) if d is not None]
        assert opened <= min(first, default=opened), (case.pk, opened, first)


@pytest.mark.django_db
def test_the_printed_logins_see_follow_ups_agenda_and_adaptations(built, today, client):
    from django.urls import reverse

    from fullfolj.schools.models import GroupMembership, StaffRole, TeachingAssignment

    cast = built[2]
    client.force_login(cast.mentor.user)
    body = client.get(reverse("followup:follow-ups")).content.decode()
    assert body.count("dagar sen") + body.count("dag sen") >= 2
    home = client.get(reverse("elevakt:home")).content.decode()
    assert "Uppföljning" in home
    counsellor = Staff.objects.get(username=cast.usernames[Role.COUNSELLOR])
    school = StaffRole.objects.filter(staff=counsellor, role=Role.COUNSELLOR).first().school
    client.force_login(counsellor.user)
    agenda = client.get(reverse("followup:eht-agenda", args=[school.pk])).content.decode()
    assert "Skriv protokoll" in agenda
    teacher = cast.teacher
    client.force_login(teacher.user)
    group = TeachingAssignment.objects.filter(staff=teacher).values("group_id")
    groups = set(
        GroupMembership.objects.active_on(today)
        .filter(group_id__in=group)
        .values_list("group_id", flat=True)
    )
    pages = [client.get(reverse("elevakt:group", args=[g])).content.decode() for g in groups]
    assert any('class="adaptations"' in page for page in pages)


@pytest.mark.django_db
def test_support_cases_join_the_cases_already_open_and_never_open_a_second(built, today):
    # Every pupil of this term's plans may already have an open case (here: all of them, from
    # the build; in a real build, those the ladder opened for the student-health team).
    from fullfolj.simulation.support import simulate_support
    from fullfolj.support.models import Case

    cast = built[2]
    open_before = Case.objects.open().count()
    simulate_support(today, mentor=cast.mentor, teacher=cast.teacher)
    assert Case.objects.open().count() == open_before


@pytest.mark.django_db
def test_the_demo_holds_handovers_for_the_pupils_moving_to_year_7(built, today, client):
    from django.urls import reverse

    from fullfolj.handover.models import Handover, HandoverVersion
    from fullfolj.schools.models import Placement

    output, _again, cast = built
    coming = Placement.objects.filter(start__gt=today, school_class__grade=7)
    assert coming.exists()
    assert Handover.objects.count() < coming.count()  # some are missing
    assert HandoverVersion.objects.filter(status="sent", reads__isnull=False).exists()
    assert HandoverVersion.objects.filter(number=2).exists()  # edited after it was read
    principal = Staff.objects.get(username=cast.usernames[Role.PRINCIPAL])
    client.force_login(principal.user)
    arriving = client.get(reverse("handover:arriving")).content.decode()
    assert "Saknas" in arriving and "Läst" in arriving
    client.force_login(cast.mentor.user)
    assert "Elever som börjar hos oss" in client.get(reverse("elevakt:home")).content.decode()
    assert cast.sender and f" {cast.sender} " in output
    client.force_login(Staff.objects.get(username=cast.sender).user)
    to_write = client.get(reverse("handover:to-write")).content.decode()
    assert "Saknas" in to_write or "Utkast" in to_write


@pytest.mark.django_db
def test_the_administration_finds_its_imported_and_refused_files(built, client):
    from fullfolj.exchange.models import FileImport

    admin = Staff.objects.get(username=built[2].usernames[Role.ADMINISTRATION])
    client.force_login(admin.user)

    page = client.get("/importera/")

    assert page.status_code == 200
    assert [(f.kind, f.status) for f, _kind in page.context["recent"]] == [
        ("grades", FileImport.Status.REFUSED),
        ("guardians", FileImport.Status.DONE),
    ]
    refused = client.get(f"/importera/{page.context['recent'][0][0].pk}/")
    assert [p.column for p in refused.context["problems"]] == ["Betyg"]


@pytest.mark.django_db
def test_the_officer_has_a_case_of_every_kind_with_overdue_steps(built, today, client):
    from django.urls import reverse

    from fullfolj.compulsory.models import OversightCase, Step

    _output, _again, cast = built
    kinds = set(OversightCase.objects.values_list("kind", flat=True))
    assert kinds >= {"no_school", "ended", "two_placements", "elsewhere", "moved_in", "moved_out"}
    assert OversightCase.objects.filter(closed_on__isnull=False).exists()
    assert OversightCase.objects.filter(protected_identity=True, closed_on__isnull=True).exists()
    overdue = Step.objects.filter(done_on__isnull=True, due__lt=today, case__closed_on=None)
    assert overdue.exists()
    officer = Staff.objects.get(username=cast.usernames[Role.ATTENDANCE_OFFICER])
    client.force_login(officer.user)
    page = client.get(reverse("compulsory:home")).content.decode()
    assert overdue.first().case.last_name in page


@pytest.mark.django_db
def test_the_mentor_opens_a_case_its_measures_and_mapping_and_the_principal_its_programme(
    built, today, client
):
    from django.urls import reverse

    from fullfolj.support.models import Case, Measure

    cast = built[2]
    client.force_login(cast.mentor.user)
    case = Case.objects.open().filter(responsible=cast.mentor, measures__isnull=False).first()
    assert case is not None, "the printed mentor is responsible for a case with measures"
    page = client.get(reverse("support:case", args=[case.pk])).content.decode()
    measure = case.measures.first()
    assert measure.title in page
    measure_page = client.get(reverse("support:measure", args=[measure.pk]))
    assert measure_page.status_code == 200 and measure.title in measure_page.content.decode()
    mapping = client.get(reverse("support:mapping", args=[case.pk])).content.decode()
    assert "Skolsituation" in mapping or "skolsituation" in mapping
    # A decided action programme prints, for the principal of its school.
    programme = Measure.objects.filter(
        kind=Measure.Kind.ACTION_PROGRAMME, decided_on__isnull=False
    ).first()
    assert programme is not None
    principal = Staff.objects.filter(
        roles__role=Role.PRINCIPAL, roles__school_id=programme.case.school_id
    ).first()
    client.force_login(principal.user)
    pdf = client.get(reverse("support:measure-pdf", args=[programme.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_the_bank_is_used_with_evaluations_and_kasam_answered_over_several_terms(
    built, today, client
):
    from django.db.models import Count

    from fullfolj.bank import queries as bank
    from fullfolj.bank.models import Entry, Use
    from fullfolj.kasam.models import Response
    from fullfolj.support.models import Evaluation

    cast = built[2]
    uses = Use.objects.count()
    assert uses > 0
    evaluated = Evaluation.objects.filter(measure__bank_use__isnull=False)
    assert evaluated.values("judgement").distinct().count() >= 2  # not all judged alike
    terms = Response.objects.values("answered_on").distinct().count()
    assert terms >= 3
    assert Response.objects.filter(pupil__mentorships__mentor=cast.mentor).exists()
    # The most used entry has its figures, not "too few", across the municipality.
    top = Entry.objects.annotate(n=Count("uses")).order_by("-n").first()
    organisers = list(Organiser.objects.values_list("pk", flat=True))
    assert bank.outcomes(top, organisers, today).pupils >= 5
