"""Att avgöra: the mentor settles absences left "not yet known"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.attendance import actions
from fullfolj.attendance.forms import signed_version
from fullfolj.attendance.models import AttendanceChange, LessonAttendance, PupilDay
from tests import factories as f

NAMED = ["pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away"]
URL = "/narvaro/att-avgora/"


def _unknown(cast, pupil, day=17, hour=10, minutes=40):  # type: ignore[no-untyped-def]
    """A lesson on 2026-03-`day` with `pupil` absent `minutes`, validity not yet known."""
    group = cast.group_south if pupil == cast.pupil_elsewhere else cast.group
    lesson = f.lesson(
        group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, day, hour, 0)),
    )
    row = f.mark(lesson, pupil, absent=minutes)
    actions.refresh_pupil_days({(pupil.pk, lesson.date)})
    return row


def _post(client, rows, choices):  # type: ignore[no-untyped-def]
    data = {"row": [str(r.pk) for r in rows]}
    for row in rows:
        data[f"v{row.pk}"] = signed_version(row.pk, row.lesson.version)
        data[f"s{row.pk}"] = choices.get(row.pk, "unknown")
    return client.post(reverse("attendance:settle"), data)


# role -> the pupils whose open absence that role sees on the page; unlisted roles get 404.
SEES = {
    "mentor": {"pupil", "protected"},
    "other_mentor": {"other_pupil"},
    "principal": {"pupil", "other_pupil", "protected"},
    "principal_elsewhere": {"pupil_elsewhere"},
    "mentor_principal": {"other_pupil", "pupil_elsewhere"},  # mentee here, school there
}


@pytest.mark.parametrize("who", ROLES)
def test_each_role_sees_exactly_the_absences_it_may_settle(client, cast, who):
    for name in NAMED:
        _unknown(cast, getattr(cast, name))
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("attendance:settle"))
    body = response.content.decode()
    assert response.status_code == (200 if who in SEES else 404)
    for name in NAMED:
        person = getattr(cast, name)
        assert (person.last_name in body) == (name in SEES.get(who, set())), name


@pytest.mark.parametrize("who", [r for r in ROLES if r not in SEES] + ["other_mentor"])
def test_others_cannot_settle_the_mentees_absence(client, cast, who):
    row = _unknown(cast, cast.pupil)
    client.force_login(getattr(cast, who).user)
    response = _post(client, [row], {row.pk: "SJUK"})
    assert response.status_code in (404, 409)
    assert cast.pupil.last_name not in response.content.decode()
    row.refresh_from_db()
    assert row.is_valid is None
    assert not AttendanceChange.objects.filter(attendance=row).exists()


def test_url_is_swedish_and_the_page_renders_swedish(client, cast):
    _unknown(cast, cast.pupil)
    assert reverse("attendance:settle") == URL
    client.force_login(cast.mentor.user)
    body = client.get(URL).content.decode()
    assert "<h1>Att avgöra</h1>" in body
    assert "Spara besluten" in body
    assert "40 av 60" in body
    assert f'href="{URL}"' in body  # the menu link


def test_signed_out_and_staffless_users_get_nothing(client, cast):
    response = client.get(URL)
    assert response.status_code == 302
    client.force_login(User.objects.create_user("nobody", password="x-nobody"))
    assert client.get(URL).status_code == 404


def test_mentor_settles_a_page_with_history_and_aggregates(client, cast):
    ill = _unknown(cast, cast.pupil, day=17, hour=9)
    truant = _unknown(cast, cast.pupil, day=17, hour=11, minutes=60)
    open_one = _unknown(cast, cast.protected, day=17, hour=9)
    day = dt.date(2026, 3, 17)
    assert PupilDay.objects.get(pupil=cast.pupil, date=day).unknown_minutes == 100
    client.force_login(cast.mentor.user)

    response = _post(client, [ill, truant, open_one], {ill.pk: "SJUK", truant.pk: "invalid"})

    assert response.status_code == 302
    ill.refresh_from_db()
    truant.refresh_from_db()
    open_one.refresh_from_db()
    assert (ill.is_valid, ill.reason.code) == (True, "SJUK")
    assert (truant.is_valid, truant.reason) == (False, None)
    assert open_one.is_valid is None  # left "not yet known": untouched
    changes = AttendanceChange.objects.filter(changed_by=cast.mentor)
    assert {c.attendance_id for c in changes} == {ill.pk, truant.pk}
    change = changes.get(attendance=truant)
    assert change.old["is_valid"] is None and change.new["is_valid"] is False
    assert change.old["absent_minutes"] == change.new["absent_minutes"] == 60
    summary = PupilDay.objects.get(pupil=cast.pupil, date=day)
    assert (summary.valid_minutes, summary.invalid_minutes, summary.unknown_minutes) == (40, 60, 0)
    # The settled absences leave the page; the open one stays.
    body = client.get(URL).content.decode()
    assert "2 frånvaron är avgjorda" in body
    assert f'name="s{open_one.pk}"' in body and f'name="s{ill.pk}"' not in body


def test_principal_of_the_school_may_settle(client, cast):
    row = _unknown(cast, cast.other_pupil)
    client.force_login(cast.principal.user)
    assert _post(client, [row], {row.pk: "OGIL"}).status_code == 302
    row.refresh_from_db()
    assert (row.is_valid, row.reason.code) == (False, "OGIL")


def test_already_settled_by_someone_else_saves_nothing_and_keeps_choices(client, cast):
    first = _unknown(cast, cast.pupil, hour=9)
    second = _unknown(cast, cast.protected, hour=9)
    client.force_login(cast.mentor.user)
    loaded = [
        LessonAttendance.objects.select_related("lesson").get(pk=r.pk) for r in (first, second)
    ]
    # The principal settles `first` while the mentor has the page open.
    actions.settle_absences(
        [actions.Settlement(first.pk, first.lesson.version, False)], by=cast.principal
    )
    response = _post(client, loaded, {first.pk: "SJUK", second.pk: "LEDIG"})

    assert response.status_code == 409
    body = response.content.decode()
    assert "Någon annan ändrade" in body
    assert cast.principal.full_name in body
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_valid is False  # the principal's decision stands
    assert second.is_valid is None  # nothing of the mentor's was saved
    # The mentor's choice for the row still open is kept, at the current version.
    assert '<option value="LEDIG" selected>' in body
    assert f'name="s{first.pk}"' not in body


def test_minutes_corrected_meanwhile_is_a_conflict(client, cast):
    row = _unknown(cast, cast.pupil)
    loaded = LessonAttendance.objects.select_related("lesson").get(pk=row.pk)
    actions.register_lesson(
        row.lesson, [actions.Mark(cast.pupil.pk, absent_minutes=20)], by=cast.teacher
    )
    client.force_login(cast.mentor.user)
    response = _post(client, [loaded], {row.pk: "invalid"})
    assert response.status_code == 409
    row.refresh_from_db()
    assert (row.absent_minutes, row.is_valid) == (20, None)


def test_unknown_reason_code_is_refused_with_a_message(client, cast):
    row = _unknown(cast, cast.pupil)
    client.force_login(cast.mentor.user)
    response = _post(client, [row], {row.pk: "NOPE"})
    assert response.status_code == 400
    assert "Okänd orsakskod" in response.content.decode()
    row.refresh_from_db()
    assert row.is_valid is None


def test_the_mentors_list_counts_the_absences_to_settle(client, cast):
    client.force_login(cast.mentor.user)
    assert 'id="to-settle"' not in client.get(reverse("elevakt:my-pupils")).content.decode()
    _unknown(cast, cast.pupil, hour=9)
    _unknown(cast, cast.protected, hour=9)
    _unknown(cast, cast.other_pupil, hour=9)  # another mentor's pupil: not counted
    body = client.get(reverse("elevakt:my-pupils")).content.decode()
    assert "2 frånvaron bland dina elever väntar på att avgöras." in body
    assert f'href="{URL}"' in body
    # The school's list (same template) for the principal carries no such count.
    client.force_login(cast.principal.user)
    school_list = client.get(reverse("elevakt:school-pupils", args=[cast.north.pk]))
    assert 'id="to-settle"' not in school_list.content.decode()


@pytest.mark.parametrize("value", ["²", "٣", "-1", "99999999999999999999", " 1"])
def test_a_row_id_that_is_not_a_plain_number_saves_nothing(client, cast, value):
    row = _unknown(cast, cast.pupil)
    client.force_login(cast.mentor.user)
    response = client.post(
        URL,
        {
            "row": [str(row.pk), value],
            f"v{row.pk}": signed_version(row.pk, row.lesson.version),
            f"s{row.pk}": "OGIL",
        },
    )
    assert response.status_code == 400
    assert "Formuläret är skadat" in response.content.decode()
    row.refresh_from_db()
    assert row.is_valid is None
    assert not AttendanceChange.objects.filter(attendance=row).exists()


def test_a_version_the_browser_made_up_does_not_hide_a_correction(client, cast):
    """The teacher corrects the minutes; a raised version must not settle the old absence."""
    row = _unknown(cast, cast.pupil)
    loaded_at = row.lesson.version
    actions.register_lesson(
        row.lesson, [actions.Mark(cast.pupil.pk, absent_minutes=20)], by=cast.teacher
    )
    client.force_login(cast.mentor.user)
    for forged in (
        str(loaded_at + 1),
        signed_version(row.pk, loaded_at)[:-1] + "x",
        signed_version(row.pk + 1, loaded_at + 1),
    ):
        response = client.post(
            URL, {"row": [str(row.pk)], f"v{row.pk}": forged, f"s{row.pk}": "invalid"}
        )
        assert response.status_code == 400, forged
        assert "Formuläret är skadat" in response.content.decode()
    # The version the page was signed with is trusted, and it finds the correction.
    response = client.post(
        URL,
        {
            "row": [str(row.pk)],
            f"s{row.pk}": "invalid",
            f"v{row.pk}": signed_version(row.pk, loaded_at),
        },
    )
    assert response.status_code == 409
    row.refresh_from_db()
    assert (row.absent_minutes, row.is_valid) == (20, None)
