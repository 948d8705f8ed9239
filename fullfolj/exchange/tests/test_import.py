"""The SS 12000 import against our own fixture server: mapping, paging, incremental runs,
deletions, atomicity and idempotence."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance, PupilDay
from fullfolj.exchange import actions
from fullfolj.exchange.models import ImportRun, Source
from fullfolj.grades.models import Grade
from fullfolj.schools import models as s

from . import server as srv

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 16)


def table_counts() -> dict[str, int]:
    models = [
        s.Organiser, s.School, s.Pupil, s.Guardian, s.Guardianship, s.Staff, s.StaffRole,
        s.SchoolClass, s.TeachingGroup, s.GroupMembership, s.Placement, s.Mentorship,
        s.TeachingAssignment, s.Subject, Lesson, LessonAttendance, PupilDay, Grade,
    ]  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


def test_a_first_import_maps_the_school_system_into_fullfolj(run, source):
    outcome = run()

    assert outcome.run.status == ImportRun.Status.DONE
    assert outcome.report.total("change") == 0  # a first import only creates
    organiser = s.Organiser.objects.get(name="Ekby kommun")
    assert organiser.municipality_code == "1234"
    school = s.School.objects.get(unit_code="12345678")
    assert school.organiser == organiser
    assert not s.School.objects.filter(unit_code="87654321").exists()  # a gymnasium: not ours

    alva = s.Pupil.objects.get(first_name="Alva")
    assert alva.personnummer.replace("-", "") == srv.PNR_ALVA
    assert alva.address == "Storgatan 1, 123 45 Ekby"
    cora = s.Pupil.objects.get(first_name="Cora")
    assert cora.protected_identity
    assert cora.address == ""  # skyddad folkbokföring: the address is never stored
    assert cora.guardianships.get().guardian.address == ""
    assert alva.guardianships.get().guardian.email == "greta@example.se"

    placement = alva.placements.get()
    assert (placement.school, placement.start, placement.end) == (
        school,
        dt.date(2025, 8, 18),
        None,
    )
    assert placement.school_class.name == "7A"
    group = s.TeachingGroup.objects.get(name="7A")
    assert set(group.memberships.values_list("pupil__first_name", flat=True)) == {
        "Alva", "Bilal", "Cora",
    }  # fmt: skip

    lena = s.Staff.objects.get(username="lena.larsson@ekby.se")
    assert set(lena.roles.values_list("role", "school")) == {
        ("teacher", school.pk),
        ("mentor", school.pk),
    }
    assert set(lena.mentorships.values_list("pupil__first_name", flat=True)) == {
        "Alva", "Bilal", "Cora",
    }  # fmt: skip
    assert s.TeachingAssignment.objects.get().staff == lena

    lesson = Lesson.objects.get(date=MONDAY)
    assert (lesson.minutes, lesson.teacher, lesson.subject.code) == (60, lena, "MA")
    assert lesson.registered_at is not None  # registered at the source, not a to-do of ours
    mark = LessonAttendance.objects.get(lesson=lesson, pupil=alva)
    assert (mark.absent_minutes, mark.is_valid) == (20, False)
    day = PupilDay.objects.get(pupil=alva, date=MONDAY)
    assert (day.scheduled_minutes, day.invalid_minutes, day.valid_minutes) == (60, 20, 0)
    bilal_day = PupilDay.objects.get(pupil__first_name="Bilal", date=MONDAY)
    assert (bilal_day.absent_minutes, bilal_day.valid_minutes) == (60, 60)

    grade = Grade.objects.get()
    assert (grade.pupil, grade.grade, grade.term.kind, grade.teacher) == (alva, "E", "HT", lena)

    source.refresh_from_db()
    assert source.modified_since == dt.datetime.fromisoformat(srv.T0)
    assert source.deleted_since is not None


def test_a_first_import_reads_the_marks_with_this_years_lessons_and_later_ones_by_change(
    run, world
):
    run()
    paths = dict(reversed(world.requests))  # each path's first request
    assert "/attendances" not in paths  # all the marks the source ever held: not wanted
    assert paths["/calendarEvents"]["expand"] == ["attendance"]
    assert paths["/calendarEvents"]["startTime.onOrAfter"] == ["2025-08-17T22:00:00Z"]
    world.requests.clear()

    run()

    first = next(query for path, query in world.requests if path == "/attendances")
    assert "meta.modified.after" in first


def test_paging_sends_only_the_token_after_the_first_page(run, world):
    run(page_size=2)

    persons = [query for path, query in world.requests if path == "/persons"]
    assert len(persons) == 3  # five persons, two a page
    assert persons[0]["limit"] == ["2"]
    assert set(persons[1]) == {"limit", "pageToken"}


def test_running_again_changes_nothing(run):
    run()
    before = table_counts()

    again = run()  # incremental: nothing changed since
    full = run(since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))  # everything read once more

    for outcome in (again, full):
        assert outcome.report.lines == []
        assert outcome.run.status == ImportRun.Status.DONE
    assert table_counts() == before


def test_the_next_run_asks_only_for_changes_and_applies_them(run, world):
    run()
    world.requests.clear()
    later = "2026-03-18T07:00:00+01:00"
    world.change(
        "attendances",
        srv.ATT_ALVA_MON,
        later,
        invalidAbsenceMinutes=0,
        validAbsenceMinutes=60,
        attendanceMinutes=0,
    )
    world.change("persons", srv.BILAL, later, familyName="Ekholm")

    outcome = run()

    asked = {path: query for path, query in world.requests if "pageToken" not in query}
    assert asked["/persons"]["meta.modified.after"] == ["2026-03-01T08:59:55Z"]
    assert asked["/deletedEntities"]["entities"][:2] == ["Person", "Group"]
    assert sorted(outcome.report.lines) == [
        f"change mark {srv.ATT_ALVA_MON}",
        f"change pupil {srv.BILAL} (last_name)",
    ]
    day = PupilDay.objects.get(pupil__first_name="Alva", date=MONDAY)
    assert (day.absent_minutes, day.valid_minutes, day.invalid_minutes) == (60, 60, 0)
    assert AttendanceChange.objects.count() == 3  # the two absences as first read, and this
    change = AttendanceChange.objects.order_by("-pk").first()
    assert (change.old["absent_minutes"], change.new["absent_minutes"]) == (20, 60)
    assert change.changed_by is None  # the import, not a member of staff


def test_deleted_entities_are_removed_and_the_aggregates_follow(run, world):
    run()
    world.delete("calendarEvents", srv.MONDAY, "2026-12-31T00:00:00+01:00")
    world.delete("grades", srv.GRADE, "2026-12-31T00:00:00+01:00")
    world.delete("duties", srv.DUTY, "2026-12-31T00:00:00+01:00")

    outcome = run()

    assert not Lesson.objects.filter(date=MONDAY).exists()
    assert not PupilDay.objects.filter(date=MONDAY).exists()
    assert PupilDay.objects.filter(date=MONDAY + dt.timedelta(days=1)).exists()
    assert not Grade.objects.exists()
    assert not s.Mentorship.objects.exists()
    assert not s.StaffRole.objects.exists()
    removed = {key: n for key, n in outcome.report.counts.items() if key.startswith("remove")}
    assert removed == {
        "remove lesson": 1,
        "remove grade": 1,
        "remove duty": 1,  # the teacher role
        "remove mentor role": 1,
        "remove mentorship": 3,
    }


def test_a_deleted_person_keeps_the_records_and_ends_the_placement(run, world):
    run()
    world.delete("persons", srv.BILAL, "2026-12-31T00:00:00+01:00")

    run()

    bilal = s.Pupil.objects.get(first_name="Bilal")
    assert bilal.placements.get().end == dt.date(2026, 3, 18)
    assert bilal.attendance.exists()


def test_a_server_error_mid_import_writes_nothing_and_the_next_run_resumes(run, world, source):
    world.fail[("persons", 2)] = 500

    with pytest.raises(actions.ImportStopped) as stopped:
        run(page_size=2)

    assert "person (page 2)" in str(stopped.value)
    assert "500" in str(stopped.value)
    assert not s.Pupil.objects.exists() and not Lesson.objects.exists()
    failed = ImportRun.objects.get()
    assert failed.status == ImportRun.Status.FAILED and "person (page 2)" in failed.message
    source.refresh_from_db()
    assert source.modified_since is None and source.deleted_since is None

    world.fail.clear()
    run(page_size=2)
    assert LessonAttendance.objects.count() == 3


def test_a_failure_while_writing_rolls_back_every_row(run, world):
    # Two enrolments at once at one school: our placements may not overlap.
    alva = world.find("persons", srv.ALVA)
    alva["enrolments"].append(dict(alva["enrolments"][0], startDate="2025-09-01"))

    with pytest.raises(actions.ImportStopped) as stopped:
        run()

    assert "placement" in str(stopped.value) and srv.ALVA in str(stopped.value)
    assert table_counts() == dict.fromkeys(table_counts(), 0)


def test_an_object_that_breaks_the_specification_is_named(run, world):
    del world.find("persons", srv.BILAL)["familyName"]

    with pytest.raises(actions.ImportStopped) as stopped:
        run()

    assert str(stopped.value) == (
        f"The SS 12000 person {srv.BILAL} does not match the specification: "
        "“familyName” is missing."
    )
    assert not s.Pupil.objects.exists()


def test_a_server_repeating_its_page_token_cannot_loop_the_import(run, world):
    world.repeat_pages_of = "persons"

    with pytest.raises(actions.ImportStopped) as stopped:
        run()

    assert "repeated a page token" in str(stopped.value)
    assert len([1 for path, _query in world.requests if path == "/persons"]) == 2


def test_a_wrong_token_is_refused_with_the_servers_reason(run, source):
    source.token = "fel"  # noqa: S105 - a wrong one on purpose
    source.save()

    with pytest.raises(actions.ImportStopped) as stopped:
        run()

    assert "401" in str(stopped.value) and "Ogiltig token" in str(stopped.value)


def test_oauth2_client_credentials_fetch_a_token_once(run, world, source, url):
    world.oauth = True
    source.auth = Source.Auth.OAUTH2
    source.token = ""
    source.token_url = url + "/token"
    source.client_id, source.client_secret = "fullfolj", "klienthemlighet"
    source.save()

    run()

    assert world.issued == ["oauth-1"]
    assert s.Pupil.objects.count() == 3


def test_the_dry_run_command_prints_what_would_change_and_writes_nothing(source, world, url):
    out = io.StringIO()

    call_command(
        "import",
        "ss12000",
        "--url",
        url,
        "--token",
        srv.TOKEN,
        "--dry-run",
        stdout=out,
        stderr=io.StringIO(),
    )

    text = out.getvalue()
    assert f"would create pupil {srv.ALVA}" in text
    assert "Would create" in text
    assert "Alva" not in text  # names stay out of the logs
    assert not s.Pupil.objects.exists()
    source.refresh_from_db()
    assert source.modified_since is None
    assert ImportRun.objects.get().status == ImportRun.Status.DRY_RUN


def test_the_command_names_the_failure(source, world, url):
    world.fail[("grades", 1)] = 503

    with pytest.raises(CommandError, match=r"Nothing was imported\. Reading grade \(page 1\)"):
        call_command("import", "ss12000", "--url", url, "--token", srv.TOKEN, stdout=io.StringIO())


def test_the_command_imports_and_keeps_a_source_per_url(db, world, url):
    from tests import factories as f

    f.school_year()
    call_command("import", "ss12000", "--url", url, "--token", srv.TOKEN, stdout=io.StringIO())
    call_command(
        "import", "ss12000", "--url", url + "/", "--token", srv.TOKEN, stdout=io.StringIO()
    )

    source = Source.objects.get()
    assert source.token == ""  # the command line's token is not stored
    assert list(source.runs.values_list("status", flat=True)) == ["done", "done"]
    assert s.Pupil.objects.count() == 3


def test_a_deleted_attendance_removes_the_mark_and_its_minutes(run, world):
    run()
    world.delete("attendances", srv.ATT_BILAL_MON, "2026-12-31T00:00:00+01:00")

    outcome = run()

    assert outcome.report.lines == [f"remove mark {srv.ATT_BILAL_MON}"]
    assert not PupilDay.objects.filter(pupil__first_name="Bilal").exists()
    assert LessonAttendance.objects.count() == 2


def test_marks_are_written_in_batches(run, monkeypatch):
    from fullfolj.exchange.ss12000 import importer

    monkeypatch.setattr(importer, "BATCH", 2)

    run()
    again = run(since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    assert LessonAttendance.objects.count() == 3
    assert again.report.lines == []


def test_an_enrolment_the_source_drops_ends_the_placement(run, world):
    run()
    world.change("persons", srv.BILAL, "2026-03-18T07:00:00+01:00", enrolments=[])

    outcome = run()

    placement = s.Placement.objects.get(pupil__first_name="Bilal")
    assert placement.end == dt.date(2026, 3, 18)  # history kept, not deleted
    assert outcome.report.counts["change placement"] == 1


def test_a_longer_lesson_moves_its_marks_and_the_days_along(run, world):
    run()
    world.change(
        "calendarEvents", srv.MONDAY, "2026-03-18T07:00:00+01:00",
        startTime="2026-03-16T08:00:00+01:00", endTime="2026-03-16T09:20:00+01:00",
    )  # fmt: skip

    run()

    assert set(
        LessonAttendance.objects.filter(date=MONDAY).values_list("scheduled_minutes", flat=True)
    ) == {80}
    assert PupilDay.objects.get(pupil__first_name="Alva", date=MONDAY).scheduled_minutes == 80


def test_a_clash_with_a_row_of_ours_is_named_and_nothing_is_kept(run, world):
    s.Staff.objects.create(first_name="Annan", last_name="Person", username="lena.larsson@ekby.se")
    run()
    world.change(
        "persons", srv.LENA, "2026-03-18T07:00:00+01:00", eduPersonPrincipalNames=["upptagen"]
    )
    s.Staff.objects.create(first_name="Tredje", last_name="Person", username="upptagen")
    before = table_counts()

    with pytest.raises(actions.ImportStopped, match=f"staff {srv.LENA} clashes with a row"):
        run()

    assert table_counts() == before
    assert ImportRun.objects.latest("pk").status == ImportRun.Status.FAILED


def test_a_server_error_while_lessons_are_written_rolls_back_what_was_written(run, world):
    world.fail[("calendarEvents", 2)] = 502  # the first page's lesson and marks are written

    with pytest.raises(actions.ImportStopped, match=r"calendar event \(page 2\).*502"):
        run(page_size=1)

    assert table_counts() == dict.fromkeys(table_counts(), 0)
    world.fail.clear()
    run(page_size=1)
    assert (Lesson.objects.count(), LessonAttendance.objects.count()) == (2, 3)
