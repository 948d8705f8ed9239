"""Every attendance route, every role of the cast: who gets the page, who gets 404 and no names."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES

NAMED = ["pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away"]


def _urls(cast) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "today": reverse("attendance:today"),
        "register": reverse("attendance:lesson-register", args=[cast.lesson.pk]),
        "group-absence": reverse("attendance:group-absence", args=[cast.group.pk]),
        "mentees-absence": reverse("attendance:mentees-absence"),
        "pupil-calendar": reverse("attendance:pupil-calendar", args=[cast.pupil.pk]),
        "protected-calendar": reverse("attendance:pupil-calendar", args=[cast.protected.pk]),
    }


# route -> role -> the pupils that role sees named there; a role not listed gets 404.
SEES = {
    "today": {role: set() for role in ROLES},
    "register": {"teacher": {"pupil"}, "principal": {"pupil"}},
    "group-absence": {
        r: {"pupil"} for r in ("teacher", "principal", "nurse", "health_two", "doctor")
    },
    "mentees-absence": {
        "mentor": {"pupil", "protected"},
        "other_mentor": {"other_pupil"},
        "mentor_principal": {"other_pupil"},
    },
    "pupil-calendar": {
        r: {"pupil"} for r in ("mentor", "teacher", "principal", "nurse", "health_two", "doctor")
    },
    "protected-calendar": {
        r: {"protected"} for r in ("mentor", "principal", "nurse", "health_two", "doctor")
    },
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", list(SEES))
def test_each_route_shows_exactly_the_related_pupils(client, cast, who, route):
    client.force_login(getattr(cast, who).user)
    response = client.get(_urls(cast)[route])
    body = response.content.decode()
    allowed = SEES[route]
    if who in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
    for name in NAMED:
        person = getattr(cast, name)
        assert (person.last_name in body) == (name in allowed.get(who, set())), (name, route)


@pytest.mark.parametrize("who", ["mentor", "principal", "nurse"])
def test_reading_a_calendar_is_logged_and_keeps_protected_details_out(client, cast, who):
    staff = getattr(cast, who)
    client.force_login(staff.user)
    body = client.get(_urls(cast)["protected-calendar"]).content.decode()
    assert AccessLog.objects.filter(staff=staff, pupil=cast.protected).exists()
    assert "Hemliga gatan" not in body and cast.protected.address not in body
    assert "Gustav" not in body  # the guardian


@pytest.mark.parametrize("who", ["teacher_elsewhere", "outsider", "admin", "officer"])
def test_a_refused_calendar_is_not_logged(client, cast, who):
    client.force_login(getattr(cast, who).user)
    assert client.get(_urls(cast)["pupil-calendar"]).status_code == 404
    assert not AccessLog.objects.filter(pupil=cast.pupil).exists()


@pytest.mark.parametrize("route", list(SEES))
def test_signed_out_visitors_are_sent_to_log_in(client, cast, route):
    response = client.get(_urls(cast)[route])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("route", list(SEES))
def test_a_user_without_a_staff_record_sees_nothing(client, cast, route):
    client.force_login(User.objects.create_user(username="nobody", password="x"))
    response = client.get(_urls(cast)[route])
    assert response.status_code == 404
    assert cast.pupil.last_name not in response.content.decode()
