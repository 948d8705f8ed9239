"""Every follow-up route for every role, and the people who hold several: each sees exactly the
pupils their own relationship reaches, and every name shown is in the access log."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse

from conftest import TODAY
from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.support.models import Case, Measure

NORTH_WIDE = {"principal", "nurse", "health_two", "doctor"}
SOUTH_WIDE = {"principal_elsewhere", "mentor_principal", "health_two", "doctor"}
ALVA, DINO = frozenset({"pupil"}), frozenset({"pupil_elsewhere"})
NOBODY: frozenset[str] = frozenset()


@pytest.fixture
def cases(cast: SimpleNamespace) -> SimpleNamespace:
    """Alva's adaptation, the mentor's, and Dino's, the teacher's at Söderskolan: both overdue."""
    north = Case.objects.create(
        pupil=cast.pupil, school=cast.north, responsible=cast.mentor, status=Case.Status.ACTIVE
    )
    south = Case.objects.create(
        pupil=cast.pupil_elsewhere,
        school=cast.south,
        responsible=cast.principal_elsewhere,
        status=Case.Status.ACTIVE,
    )
    for case, responsible in ((north, cast.mentor), (south, cast.teacher_elsewhere)):
        Measure.objects.create(
            case=case,
            kind=Measure.Kind.EXTRA_ADAPTATION,
            title="Extra tid vid prov",
            start=TODAY - dt.timedelta(days=30),
            responsible=responsible,
            follow_up_on=TODAY - dt.timedelta(days=2),
        )
    return SimpleNamespace(north=north, south=south)


def _url(name: str, cast: SimpleNamespace, cases: SimpleNamespace) -> str:
    return {
        "follow-ups": reverse("followup:follow-ups"),
        "eht-north": reverse("followup:eht-agenda", args=[cast.north.pk]),
        "eht-south": reverse("followup:eht-agenda", args=[cast.south.pk]),
        "minutes-north": reverse("followup:eht-minutes", args=[cases.north.pk]),
        "minutes-south": reverse("followup:eht-minutes", args=[cases.south.pk]),
    }[name]


# route -> {person: the pupils named}; everyone else gets 404, except on the open list.
VISIBLE: dict[str, dict[str, frozenset[str]]] = {
    "follow-ups": dict.fromkeys(ROLES, NOBODY)
    | {
        "mentor": ALVA,  # responsible
        "principal": ALVA,  # every follow-up at the school
        "teacher_elsewhere": DINO,  # responsible, and teaches him
        "principal_elsewhere": DINO,
        "mentor_principal": DINO,  # as principal at Söderskolan, not as mentor at Norrskolan
    },
    "eht-north": dict.fromkeys(NORTH_WIDE, ALVA),
    "eht-south": dict.fromkeys(SOUTH_WIDE, DINO),
    "minutes-north": dict.fromkeys(NORTH_WIDE, ALVA),
    "minutes-south": dict.fromkeys(SOUTH_WIDE, DINO),
}
PUPILS = ("pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away")


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", list(VISIBLE))
def test_follow_up_routes_show_exactly_the_related_pupils(client, cast, cases, who, route):
    person = getattr(cast, who)
    client.force_login(person.user)
    response = client.get(_url(route, cast, cases))
    body = response.content.decode()
    allowed = VISIBLE[route]
    assert response.status_code == (200 if who in allowed else 404), (route, who)
    named = {name for name in PUPILS if getattr(cast, name).last_name in body}
    expected = allowed.get(who, NOBODY)
    assert named == expected, (route, who)
    logged = set(AccessLog.objects.filter(staff=person).values_list("pupil__last_name", flat=True))
    assert {getattr(cast, name).last_name for name in expected} == logged


@pytest.mark.parametrize("who", ROLES)
def test_the_menu_leads_the_team_and_the_principal_to_their_school_agenda(client, cast, who):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("followup:eht"))
    if who in NORTH_WIDE | SOUTH_WIDE:
        assert response.status_code == 302
        school = cast.south if who in SOUTH_WIDE - NORTH_WIDE else cast.north
        assert response["Location"] == reverse("followup:eht-agenda", args=[school.pk])
    else:
        assert response.status_code == 404
    menu = client.get(reverse("elevakt:home")).content.decode()
    assert (reverse("followup:eht") in menu) == (who in NORTH_WIDE | SOUTH_WIDE)
