"""Registering a lesson: the teacher's register, corrections, conflicts, bad input and access."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from fullfolj.attendance.actions import Loaded, Mark, StaleRegister, register_lesson
from fullfolj.attendance.forms import RegisterForm, read_register_state
from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance, PupilDay
from fullfolj.schools import models as s
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 3, 18)


@pytest.fixture(autouse=True)
def _noon() -> object:
    """It is 12:00 on the pinned day: morning lessons have started, afternoon ones have not."""
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM), tick=False):
        yield


@pytest.fixture
def client(client):  # type: ignore[no-untyped-def]
    client.cookies["django_language"] = "en"  # assert on the msgids, not on translations
    return client


@pytest.fixture
def lesson(cast) -> Lesson:  # type: ignore[no-untyped-def]
    """Today's 10:00 maths lesson of 7A-MA, with Alva and Bilal in the group."""
    s.GroupMembership.objects.create(
        group=cast.group, pupil=cast.other_pupil, start=cast.year.start
    )
    return f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 18, 10, 0)),
    )


def url(lesson: Lesson) -> str:
    return reverse("attendance:lesson-register", args=[lesson.pk])


def register_data(
    lesson: Lesson,
    marks: dict[int, dict[str, str]],
    *,
    pupils: list[int] | None = None,
    state: str | None = None,
) -> dict:
    """What the register form posts: every pupil's id, their entries and the signed state it
    was loaded in (by default: loaded now)."""
    ids = pupils if pupils is not None else list(lesson.members().values_list("pk", flat=True))
    data: dict[str, object] = {
        "state": RegisterForm(lesson).state if state is None else state,
        "pupil": [str(pk) for pk in ids],
    }
    for pk in ids:
        data[f"p{pk}-status"] = "unknown"
        for name, value in marks.get(pk, {}).items():
            data[f"p{pk}-{name}"] = value
    return data


def test_today_lists_the_teachers_lessons_of_today(client, cast, lesson):
    client.force_login(cast.teacher.user)
    response = client.get(reverse("attendance:today"))
    assert response.status_code == 200
    assert url(lesson) in response.content.decode()
    assert url(cast.lesson) not in response.content.decode()  # Monday's lesson


def test_the_register_starts_with_everyone_present(client, cast, lesson):
    client.force_login(cast.teacher.user)
    response = client.get(url(lesson))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Åkesson, Alva" in page and "Bäckström, Bilal" in page
    assert not re.search(r"<input[^>]*\bchecked\b", page)  # nobody marked absent
    assert page.count('<option value="unknown" selected>') == 2
    for row in response.context["form"].rows:
        assert f'<label class="cell-label" for="id_p{row.pupil.pk}-absent_minutes">' in page


def test_teacher_saves_the_register_for_the_whole_group(client, cast, lesson):
    client.force_login(cast.teacher.user)
    data = register_data(
        lesson,
        {
            cast.pupil.pk: {"absent_whole": "on", "status": "OGIL"},
            cast.other_pupil.pk: {"late_minutes": "5"},
        },
    )
    response = client.post(url(lesson), data)
    assert response.status_code == 302
    alva = LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil)
    assert (alva.absent_minutes, alva.is_valid, alva.reason.code) == (60, False, "OGIL")
    bilal = LessonAttendance.objects.get(lesson=lesson, pupil=cast.other_pupil)
    assert (bilal.absent_minutes, bilal.late_minutes, bilal.is_valid) == (0, 5, None)
    day = PupilDay.objects.get(pupil=cast.pupil, date=TODAY)
    assert (day.scheduled_minutes, day.invalid_minutes) == (60, 60)
    lesson.refresh_from_db()
    assert (lesson.version, lesson.registered_by) == (1, cast.teacher)
    page = client.get(url(lesson)).content.decode()
    assert "The register is saved." in page
    assert "Absent 60 min, invalid (Ogiltig frånvaro)" in page  # in the history


def test_an_unchanged_present_group_leaves_no_history(cast, lesson):
    register_lesson(lesson, [Mark(cast.pupil.pk), Mark(cast.other_pupil.pk)], by=cast.teacher)
    assert LessonAttendance.objects.filter(lesson=lesson).count() == 2
    assert not AttendanceChange.objects.exists()


def test_pupil_days_change_in_the_same_transaction_as_the_lesson_rows(cast, lesson):
    with pytest.raises(RuntimeError), transaction.atomic():
        register_lesson(lesson, [Mark(cast.pupil.pk, absent_minutes=20)], by=cast.teacher)
        assert PupilDay.objects.get(pupil=cast.pupil, date=TODAY).unknown_minutes == 20
        raise RuntimeError  # roll back: the rows and their aggregate go together
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()
    assert not PupilDay.objects.filter(pupil=cast.pupil, date=TODAY).exists()


def test_a_correction_is_kept_as_history_and_shown(client, cast, lesson):
    register_lesson(lesson, [Mark(cast.pupil.pk, absent_minutes=60)], by=cast.teacher)
    client.force_login(cast.principal.user)
    data = register_data(lesson, {cast.pupil.pk: {"absent_whole": "on", "status": "SJUK"}})
    assert client.post(url(lesson), data).status_code == 302
    change = AttendanceChange.objects.get(version=2)
    assert change.changed_by == cast.principal
    assert change.attendance.pupil == cast.pupil
    assert change.old["is_valid"] is None and change.new["reason"] == "SJUK"
    assert change.changed_at == dt.datetime(2026, 3, 18, 12, 0, tzinfo=STOCKHOLM)
    assert PupilDay.objects.get(pupil=cast.pupil, date=TODAY).valid_minutes == 60
    page = client.get(url(lesson)).content.decode()
    assert "Absent 60 min, not yet known → Absent 60 min, valid (Sjukdom)" in page
    assert "Principal Testsson" in page


def test_a_stale_form_is_refused_with_what_changed_and_keeps_the_entries(client, cast, lesson):
    client.force_login(cast.teacher.user)
    loaded = RegisterForm(lesson).state
    register_lesson(
        lesson,
        [Mark(cast.pupil.pk, absent_minutes=60, is_valid=True, reason=cast.reasons["SJUK"])],
        by=cast.principal,
    )
    data = register_data(lesson, {cast.other_pupil.pk: {"late_minutes": "7"}}, state=loaded)
    response = client.post(url(lesson), data)
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this register" in page
    assert "Alva Åkesson: Not registered → Absent 60 min, valid (Sjukdom)" in page
    assert f'name="p{cast.other_pupil.pk}-late_minutes" value="7"' in page
    rebased = response.context["form"].state  # the merge view stands on version 1
    assert f'name="state" value="{rebased}"' in page
    assert read_register_state(rebased, lesson.pk)[0] == 1
    # Nothing of the teacher's save reached the table, and the principal's mark stands.
    assert not LessonAttendance.objects.filter(lesson=lesson, pupil=cast.other_pupil).exists()
    assert LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil).absent_minutes == 60
    # Alva's mark, untouched in this form, now shows the principal's; Bilal's entry stays.
    rows = {row.pupil.pk: row for row in response.context["form"].rows}
    assert not rows[cast.pupil.pk].posted
    assert rows[cast.pupil.pk].form.initial["status"] == "SJUK"
    assert "You had not changed this mark: the new one is in the form." in page
    # Saving the refreshed form as shown keeps both registrations.
    resubmit = register_data(
        lesson,
        {
            cast.pupil.pk: {"absent_whole": "on", "status": "SJUK"},
            cast.other_pupil.pk: {"late_minutes": "7"},
        },
        state=rebased,
    )
    assert client.post(url(lesson), resubmit).status_code == 302
    assert LessonAttendance.objects.get(lesson=lesson, pupil=cast.other_pupil).late_minutes == 7
    assert LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil).reason.code == "SJUK"


def test_when_both_changed_a_mark_the_conflict_keeps_this_users_entry(client, cast, lesson):
    client.force_login(cast.teacher.user)
    loaded = RegisterForm(lesson).state
    register_lesson(
        lesson,
        [Mark(cast.pupil.pk, absent_minutes=60, is_valid=True, reason=cast.reasons["SJUK"])],
        by=cast.principal,
    )
    data = register_data(
        lesson, {cast.pupil.pk: {"absent_whole": "on", "status": "OGIL"}}, state=loaded
    )
    response = client.post(url(lesson), data)
    page = response.content.decode()
    assert response.status_code == 409
    row = next(r for r in response.context["form"].rows if r.pupil == cast.pupil)
    assert row.posted and row.form["status"].value() == "OGIL"
    assert "You changed this mark too: your entry is in the form." in page
    assert "Changed meanwhile by Principal Testsson" in page
    mark = LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil)
    assert mark.reason.code == "SJUK"  # nothing of the refused save was written


def test_a_save_that_changed_no_mark_does_not_conflict(cast, lesson):
    register_lesson(lesson, [Mark(cast.pupil.pk)], by=cast.principal, expected_version=0)
    register_lesson(
        lesson, [Mark(cast.pupil.pk, late_minutes=3)], by=cast.teacher, expected_version=0
    )
    assert LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil).late_minutes == 3
    with pytest.raises(StaleRegister):
        register_lesson(lesson, [Mark(cast.pupil.pk)], by=cast.principal, expected_version=0)


def test_marks_read_before_someone_elses_save_are_read_again(cast, lesson):
    """What the form read is trusted only when the swap proves it current."""
    before = Loaded(rows={}, organisers={cast.pupil.pk: cast.pupil.organiser_id})  # at v0
    register_lesson(lesson, [Mark(cast.pupil.pk)], by=cast.principal, expected_version=0)
    [change] = register_lesson(
        lesson,
        [Mark(cast.pupil.pk, late_minutes=3)],
        by=cast.teacher,
        expected_version=0,
        loaded=before,
    )
    assert change.old is not None and change.old["late_minutes"] == 0  # the principal's row
    assert LessonAttendance.objects.filter(lesson=lesson, pupil=cast.pupil).count() == 1


BAD_INPUT = [
    ({"absent_whole": "on", "status": "NOPE"}, "status", "Unknown reason code “NOPE”."),
    (
        {"absent_minutes": "75"},
        "absent_minutes",
        "75 absent minutes is longer than the lesson (60 minutes).",
    ),
    ({"absent_minutes": "-5"}, "absent_minutes", "Absent minutes cannot be negative (-5)."),
    ({"late_minutes": "-3"}, "late_minutes", "Late minutes cannot be negative (-3)."),
    (
        {"absent_minutes": "55", "late_minutes": "10"},
        "late_minutes",
        "10 late minutes and 55 absent minutes are longer than the lesson (60 minutes).",
    ),
    ({"absent_minutes": "tio"}, "absent_minutes", "Enter absent minutes as a whole number."),
]


@pytest.mark.parametrize(("entries", "field", "message"), BAD_INPUT)
def test_bad_input_names_the_pupil_and_field_and_saves_nothing(
    client, cast, lesson, entries, field, message
):
    client.force_login(cast.teacher.user)
    data = register_data(
        lesson, {cast.pupil.pk: entries, cast.other_pupil.pk: {"late_minutes": "7"}}
    )
    response = client.post(url(lesson), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    label = response.context["form"].rows[0].form.fields[field].label
    assert f"Alva Åkesson, {label}: {message}" in page  # the summary names pupil and field
    assert f'href="#id_p{cast.pupil.pk}-{field}"' in page
    assert f'name="p{cast.other_pupil.pk}-late_minutes" value="7"' in page
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()
    lesson.refresh_from_db()
    assert lesson.version == 0


def test_a_pupil_outside_the_group_that_day_is_refused(client, cast, lesson):
    client.force_login(cast.teacher.user)
    ids = [cast.pupil.pk, cast.other_pupil.pk, cast.pupil_elsewhere.pk]
    data = register_data(lesson, {cast.other_pupil.pk: {"late_minutes": "7"}}, pupils=ids)
    response = client.post(url(lesson), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert f"Pupil id {cast.pupil_elsewhere.pk} is not in group 7A-MA" in page
    assert f'name="p{cast.other_pupil.pk}-late_minutes" value="7"' in page
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()
    with pytest.raises(ValidationError):
        register_lesson(lesson, [Mark(cast.pupil_elsewhere.pk)], by=cast.teacher)


def test_a_lesson_that_has_not_started_cannot_be_registered(client, cast, lesson):
    later = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 18, 14, 0)),
    )
    client.force_login(cast.teacher.user)
    page = client.get(url(later)).content.decode()
    assert "This lesson has not started yet" in page
    assert 'id="register"' not in page
    response = client.post(
        url(later), register_data(later, {cast.pupil.pk: {"absent_whole": "on"}})
    )
    assert response.status_code == 400
    assert "This lesson has not started yet" in response.content.decode()
    assert not LessonAttendance.objects.filter(lesson=later).exists()
    with pytest.raises(ValidationError):
        register_lesson(later, [Mark(cast.pupil.pk)], by=cast.teacher)


@pytest.mark.parametrize(
    "who",
    [
        "teacher_elsewhere",
        "outsider",
        "mentor",
        "other_mentor",
        "nurse",
        "principal_elsewhere",
        "admin",
        "officer",
    ],
)
def test_the_register_is_hidden_from_staff_who_may_not_register(client, cast, lesson, who):
    client.force_login(getattr(cast, who).user)
    assert client.get(url(lesson)).status_code == 404
    data = register_data(lesson, {cast.pupil.pk: {"absent_whole": "on"}})
    assert client.post(url(lesson), data).status_code == 404
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()


def test_the_principal_of_the_school_may_open_the_register(client, cast, lesson):
    client.force_login(cast.principal.user)
    assert client.get(url(lesson)).status_code == 200


def test_signed_out_visitors_are_sent_to_log_in(client, lesson):
    assert client.get(url(lesson)).status_code == 302


def test_saving_a_30_pupil_lesson_takes_a_bounded_number_of_queries(
    client, cast, django_assert_max_num_queries
):
    group = s.TeachingGroup.objects.create(school=cast.north, school_year=cast.year, name="9C")
    pupils = [f.pupil(cast.org, f"Elev{n}", "Trettio") for n in range(30)]
    for p in pupils:
        f.place(p, cast.north, None, cast.year.start)
    s.GroupMembership.objects.bulk_create(
        s.GroupMembership(group=group, pupil=p, start=cast.year.start) for p in pupils
    )
    big = f.lesson(
        group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 18, 8, 0)),
    )
    client.force_login(cast.teacher.user)
    marks = {p.pk: {"absent_whole": "on", "status": "SJUK"} for p in pupils[:5]}
    marks |= {p.pk: {"late_minutes": "5"} for p in pupils[5:10]}
    data = register_data(big, marks)
    # Fixed, not one per pupil: bulk writes, the aggregates and the notice as one statement each.
    # PostgreSQL takes the reads, and the version swap with the writes, in one round trip each;
    # one more reads the pupils' active adaptations (support), shown beside the names. The
    # per-month and per-week sums are one statement more each (in PostgreSQL's round trip with
    # the others).
    postgres = connection.vendor == "postgresql"
    with django_assert_max_num_queries(8 if postgres else 16):
        response = client.post(url(big), data)
    assert response.status_code == 302
    assert LessonAttendance.objects.filter(lesson=big).count() == 30
    assert AttendanceChange.objects.filter(lesson=big).count() == 10
    # A correction of the same register stays within about the same bound.
    marks[pupils[0].pk] = {"absent_minutes": "20", "status": "invalid"}
    big.refresh_from_db()
    data = register_data(big, marks)
    with django_assert_max_num_queries(8 if postgres else 17):  # + the invalid absence's notice
        assert client.post(url(big), data).status_code == 302
    assert AttendanceChange.objects.filter(lesson=big).count() == 11
    with django_assert_max_num_queries(14):  # + the access log's one insert
        assert client.get(url(big)).status_code == 200


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return found.group(1) if found else ""


@pytest.mark.parametrize("forged", ["raised", "current", "resigned"])
def test_a_made_up_version_does_not_overwrite_another_teachers_change(client, cast, lesson, forged):
    """The teacher's page was loaded before the principal's save; whatever version the
    browser then claims, the principal's mark is not overwritten by the stale form."""
    client.force_login(cast.teacher.user)
    page = client.get(url(lesson)).content.decode()
    state = _hidden(page, "state")
    register_lesson(  # the principal marks Alva ill meanwhile: version 1
        lesson,
        [Mark(cast.pupil.pk, absent_minutes=60, is_valid=True, reason=cast.reasons["SJUK"])],
        by=cast.principal,
    )
    data = register_data(lesson, {cast.other_pupil.pk: {"late_minutes": "7"}}, state=state)
    if forged == "raised":
        data["version"] = "99"
    elif forged == "current":
        data["version"] = "1"
        data["state"] = state.replace(f"{lesson.pk}.0.", f"{lesson.pk}.1.", 1)
    else:  # signed, but for another lesson
        other = f.lesson(
            cast.group,
            cast.maths,
            cast.teacher,
            cast.spring,
            timezone.make_aware(dt.datetime(2026, 3, 18, 8, 0)),
        )
        data["version"] = "1"
        data["state"] = RegisterForm(other).state
    response = client.post(url(lesson), data)
    assert response.status_code in (400, 409)
    mark = LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil)
    assert (mark.absent_minutes, mark.reason.code) == (60, "SJUK")
    assert not LessonAttendance.objects.filter(lesson=lesson, pupil=cast.other_pupil).exists()
    lesson.refresh_from_db()
    assert lesson.version == 1
    if forged != "raised":
        assert response.status_code == 400
        assert "Reload the page and enter the register again." in response.content.decode()


def test_a_form_without_its_state_is_refused(client, cast, lesson):
    client.force_login(cast.teacher.user)
    data = register_data(lesson, {cast.pupil.pk: {"late_minutes": "3"}})
    del data["state"]
    data["version"] = "0"
    response = client.post(url(lesson), data)
    assert response.status_code == 400
    assert "it was altered. Reload the page" in response.content.decode()
    assert not LessonAttendance.objects.filter(lesson=lesson).exists()


@pytest.mark.parametrize("read_first", [True, False])
def test_a_version_the_register_never_had_is_refused_by_the_action(cast, lesson, read_first):
    """On PostgreSQL `loaded` takes the single-statement path, else the ORM path."""
    register_lesson(lesson, [Mark(cast.pupil.pk, absent_minutes=60)], by=cast.principal)
    loaded = RegisterForm(lesson).loaded if read_first else None
    with pytest.raises(ValidationError, match="aldrig har haft"):
        register_lesson(
            lesson, [Mark(cast.pupil.pk)], by=cast.teacher, expected_version=5, loaded=loaded
        )
    assert LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil).absent_minutes == 60
    lesson.refresh_from_db()
    assert (lesson.version, lesson.registered_by) == (1, cast.principal)


def test_a_save_that_changed_no_mark_since_the_page_was_loaded_is_no_conflict(client, cast, lesson):
    client.force_login(cast.teacher.user)
    state = _hidden(client.get(url(lesson)).content.decode(), "state")
    register_lesson(lesson, [Mark(cast.pupil.pk)], by=cast.principal)  # v1: no mark changed
    data = register_data(lesson, {cast.pupil.pk: {"late_minutes": "3"}}, state=state)
    assert client.post(url(lesson), data).status_code == 302
    assert LessonAttendance.objects.get(lesson=lesson, pupil=cast.pupil).late_minutes == 3
    lesson.refresh_from_db()
    assert lesson.version == 2
