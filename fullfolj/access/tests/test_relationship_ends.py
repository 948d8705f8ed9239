"""Access ends with the relationship: a teacher sees a pupil's lessons only while the pupil is in
the group; history stays readable to those whose role still reaches the pupil."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fullfolj.access import gate
from fullfolj.access.models import AccessLog
from fullfolj.attendance.models import LessonAttendance
from fullfolj.schools import models as s
from tests import factories as f


@pytest.fixture
def left_in_january(cast):
    """Elis was in 7A-MA and left Norrskolan on 31 January; nobody ended the membership.

    Ebba moved from 7A-MA to another group at Norrskolan: she is still at the school."""
    s.GroupMembership.objects.create(group=cast.group, pupil=cast.moved_away, start=cast.year.start)
    moved_group = f.pupil(cast.org, "Ebba", "Eriksdotter")
    f.place(moved_group, cast.north, cast.c7a, cast.year.start)
    s.GroupMembership.objects.create(
        group=cast.group, pupil=moved_group, start=cast.year.start, end=dt.date(2026, 1, 31)
    )
    january = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 1, 20, 10, 0)),
    )
    for who in (cast.pupil, cast.moved_away, moved_group):
        f.mark(january, who, absent=60, valid=True)
    cast.moved_group, cast.january = moved_group, january
    return cast


def test_teacher_no_longer_sees_a_pupil_who_left_the_school(client, left_in_january):
    cast = left_in_january
    client.force_login(cast.teacher.user)
    assert client.get(reverse("elevakt:pupil", args=[cast.moved_away.pk])).status_code == 404
    assert (
        client.get(reverse("attendance:pupil-calendar", args=[cast.moved_away.pk])).status_code
        == 404
    )
    body = client.get(reverse("elevakt:group", args=[cast.group.pk])).content.decode()
    assert cast.moved_away.last_name not in body
    assert not AccessLog.objects.filter(pupil=cast.moved_away).exists()


def test_the_old_register_hides_pupils_who_left_the_group(client, left_in_january):
    cast = left_in_january
    client.force_login(cast.teacher.user)
    response = client.get(reverse("attendance:lesson-register", args=[cast.january.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert cast.pupil.last_name in body
    assert cast.moved_away.last_name not in body
    assert cast.moved_group.last_name not in body
    assert set(AccessLog.objects.filter(staff=cast.teacher).values_list("pupil", flat=True)) == {
        cast.pupil.pk
    }


def test_a_teacher_cannot_edit_the_marks_of_a_pupil_who_left(client, left_in_january):
    from fullfolj.attendance.tests.test_register import register_data

    cast = left_in_january
    client.force_login(cast.teacher.user)
    january = cast.january
    gone = cast.moved_away.pk
    data = register_data(
        january, {gone: {"status": "OGIL", "absent_whole": "on"}}, pupils=[cast.pupil.pk, gone]
    )
    response = client.post(reverse("attendance:lesson-register", args=[january.pk]), data)
    assert response.status_code == 400
    assert cast.moved_away.last_name not in response.content.decode()
    mark = LessonAttendance.objects.get(lesson=january, pupil=cast.moved_away)
    assert mark.is_valid is True
    # The same post without the pupil who left saves.
    data = register_data(january, {}, pupils=[cast.pupil.pk])
    response = client.post(reverse("attendance:lesson-register", args=[january.pk]), data)
    assert response.status_code == 302


def test_the_principal_still_reads_the_history_of_a_pupil_still_at_the_school(
    client, left_in_january
):
    cast = left_in_january
    client.force_login(cast.principal.user)
    body = client.get(
        reverse("attendance:lesson-register", args=[cast.january.pk])
    ).content.decode()
    assert cast.moved_group.last_name in body  # still at Norrskolan, in another group
    assert cast.moved_away.last_name not in body  # left the school: the principal's role ended


def test_the_school_doctor_sees_the_pupils_of_the_schools_served(cast):
    viewer = gate.Viewer(cast.doctor)
    visible = set(gate.pupils_visible_to(viewer))
    assert visible == {cast.pupil, cast.other_pupil, cast.protected, cast.pupil_elsewhere}


def test_a_school_role_without_a_school_is_refused(cast):
    from django.core.exceptions import ValidationError

    role = s.StaffRole(
        staff=cast.outsider, organiser=cast.org, school=None, role=s.Role.SCHOOL_DOCTOR
    )
    with pytest.raises(ValidationError, match="Välj skolan"):
        role.full_clean()
    admin = s.StaffRole(
        staff=cast.outsider, organiser=cast.org, school=cast.north, role=s.Role.ADMINISTRATION
    )
    with pytest.raises(ValidationError, match="hela huvudmannen"):
        admin.full_clean()
