"""Every route, every role, and the people who hold several: nobody sees a pupil they have no
relation to, and each relationship counts on its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog

SINGLE_ROLES = [
    "mentor",
    "other_mentor",
    "teacher",
    "teacher_elsewhere",
    "principal",
    "principal_elsewhere",
    "nurse",
    "admin",
    "officer",
    "outsider",
]
# teacher at Söderskolan + administration; mentor at Norrskolan + principal at Söderskolan;
# counsellor at both schools; the school doctor, at the two schools the doctor serves.
MULTI_ROLES = ["teacher_admin", "mentor_principal", "health_two", "doctor"]
ROLES = SINGLE_ROLES + MULTI_ROLES
PUPILS = ["pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away"]
NORTH = frozenset({"pupil", "other_pupil", "protected"})
SOUTH = frozenset({"pupil_elsewhere"})
ALVA = frozenset({"pupil"})
NOBODY: frozenset[str] = frozenset()

# pupil -> the people who may open the pupil's page
# The compulsory-school officer reaches by name only resident children placed at no school (the
# home municipality's oversight, skollagen 7 kap. 21 §): Elis, who moved away; the rest are the
# schools' to follow and show to the officer as figures.
PUPIL_PAGE = {
    "pupil": {"mentor", "teacher", "principal", "nurse", "health_two", "doctor"},
    "other_pupil": {
        "other_mentor",
        "principal",
        "nurse",
        "mentor_principal",
        "health_two",
        "doctor",
    },
    "protected": {"mentor", "principal", "nurse", "health_two", "doctor"},
    "pupil_elsewhere": {
        "teacher_elsewhere",
        "principal_elsewhere",
        "teacher_admin",
        "mentor_principal",
        "health_two",
        "doctor",
    },
    "moved_away": {"officer"},
}
# (person, pupil) -> the role the access log names when several reach the pupil
LOGGED_ROLE = {
    ("teacher_admin", "pupil_elsewhere"): "teacher",
    ("mentor_principal", "other_pupil"): "mentor",
    ("mentor_principal", "pupil_elsewhere"): "principal",
    ("health_two", "pupil"): "counsellor",
    ("doctor", "pupil_elsewhere"): "school_doctor",
    ("officer", "moved_away"): "attendance_officer",
}


def names_in(body: str, cast) -> set[str]:
    return {name for name in PUPILS if getattr(cast, name).last_name in body}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", ["elevakt:pupil", "attendance:pupil-calendar"])
@pytest.mark.parametrize("whom", PUPILS)
def test_pupil_record_follows_role_and_relation(client, cast, who, whom, route):
    target = getattr(cast, whom)
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse(route, args=[target.pk]))
    body = response.content.decode()
    if who in PUPIL_PAGE[whom]:
        assert response.status_code == 200
        assert target.last_name in body
        entry = AccessLog.objects.get(staff=getattr(cast, who), pupil=target)
        assert entry.role == LOGGED_ROLE.get((who, whom), entry.role)
        assert entry.role != "unknown"
    else:
        assert response.status_code == 404
        assert target.last_name not in body
        assert not AccessLog.objects.filter(pupil=target).exists()


def _route(cast, name: str) -> str:
    return {
        "my-pupils": reverse("elevakt:my-pupils"),
        "my-groups": reverse("elevakt:my-groups"),
        "group-north": reverse("elevakt:group", args=[cast.group.pk]),
        "group-south": reverse("elevakt:group", args=[cast.group_south.pk]),
        "absence-north": reverse("attendance:group-absence", args=[cast.group.pk]),
        "absence-south": reverse("attendance:group-absence", args=[cast.group_south.pk]),
        "school-north": reverse("elevakt:school-pupils", args=[cast.north.pk]),
        "school-south": reverse("elevakt:school-pupils", args=[cast.south.pk]),
        "overview": reverse("elevakt:overview"),
        "home": reverse("elevakt:home"),
        "mentees-absence": reverse("attendance:mentees-absence"),
        "settle": reverse("attendance:settle"),
        "today": reverse("attendance:today"),
        "week": reverse("attendance:week"),
        "to-register": reverse("attendance:to-register"),
        "register": reverse("attendance:lesson-register", args=[cast.lesson.pk]),
        "tasks": reverse("ladder:my-tasks"),
        "riskzon-north": reverse("elevakt:school-riskzon", args=[cast.north.pk]),
        "riskzon-south": reverse("elevakt:school-riskzon", args=[cast.south.pk]),
        "municipality": reverse("elevakt:municipality-riskzon"),
        "search-7a": reverse("elevakt:search") + "?q=7A",
        "follow-ups": reverse("followup:follow-ups"),
        "eht-north": reverse("followup:eht-agenda", args=[cast.north.pk]),
        "eht-south": reverse("followup:eht-agenda", args=[cast.south.pk]),
        "search-moved": reverse("elevakt:search")
        + "?q=ekstr",  # not the whole name: the query is echoed
    }[name]


NORTH_WIDE = {"principal", "nurse", "health_two", "doctor"}
SOUTH_WIDE = {"principal_elsewhere", "mentor_principal", "health_two", "doctor"}
ADMINISTRATION = {"admin", "teacher_admin"}
MENTORS = {"mentor", "other_mentor", "mentor_principal"}
# route -> {person: the pupils named there}; people not listed get 404 unless in OPEN or
# REDIRECTED.
VISIBLE: dict[str, dict[str, frozenset[str]]] = {
    "my-pupils": {
        "mentor": frozenset({"pupil", "protected"}),
        "other_mentor": frozenset({"other_pupil"}),
        "mentor_principal": frozenset({"other_pupil"}),
    },
    "group-north": {"teacher": ALVA} | dict.fromkeys(NORTH_WIDE, ALVA),
    "group-south": dict.fromkeys({"teacher_elsewhere", "teacher_admin"} | SOUTH_WIDE, SOUTH),
    "absence-north": {"teacher": ALVA} | dict.fromkeys(NORTH_WIDE, ALVA),
    "absence-south": dict.fromkeys({"teacher_elsewhere", "teacher_admin"} | SOUTH_WIDE, SOUTH),
    "school-north": dict.fromkeys(NORTH_WIDE, NORTH),
    "school-south": dict.fromkeys(SOUTH_WIDE, SOUTH),
    "mentees-absence": {
        "mentor": frozenset({"pupil", "protected"}),
        "other_mentor": frozenset({"other_pupil"}),
        "mentor_principal": frozenset({"other_pupil"}),
    },
    "settle": dict.fromkeys(MENTORS | {"principal", "principal_elsewhere"}, NOBODY),
    "register": {"teacher": ALVA, "principal": ALVA},
    "riskzon-north": dict.fromkeys(NORTH_WIDE, NOBODY),
    "riskzon-south": dict.fromkeys(SOUTH_WIDE, NOBODY),
    "municipality": dict.fromkeys(ADMINISTRATION, NOBODY),
    # The student-health team's meeting: the school's team and principal.
    "eht-north": dict.fromkeys(NORTH_WIDE, NOBODY),
    "eht-south": dict.fromkeys(SOUTH_WIDE, NOBODY),
    # The search finds whom the gate shows.
    "search-7a": {
        "mentor": frozenset({"pupil", "protected"}),
        "other_mentor": frozenset({"other_pupil"}),
        "mentor_principal": frozenset({"other_pupil"}),
        "teacher": ALVA,
    }
    | dict.fromkeys(NORTH_WIDE, NORTH),
    "search-moved": {"officer": frozenset({"moved_away"})},
    # The figures per school: the administration, and the principal's and student-health
    # team's own schools; teaching alone opens no overview.
    "overview": dict.fromkeys(ADMINISTRATION | NORTH_WIDE | SOUTH_WIDE, NOBODY),
    # Every home shows counts, not names; only the officer's names the resident child placed at
    # no school.
    "home": dict.fromkeys(ROLES, NOBODY) | {"officer": frozenset({"moved_away"})},
}
# Routes every signed-in staff member gets (showing only their own), and where the
# administration is sent on to its aggregates.
OPEN = {
    "my-pupils",
    "my-groups",
    "today",
    "week",
    "to-register",
    "tasks",
    "follow-ups",
    "search-7a",
    "search-moved",
}
REDIRECTED = (
    {("school-north", who) for who in ADMINISTRATION}
    | {("school-south", who) for who in ADMINISTRATION}
    | {("riskzon-north", who) for who in ADMINISTRATION}
    | {("riskzon-south", who) for who in ADMINISTRATION}
)


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", list(VISIBLE) + sorted(OPEN - set(VISIBLE)))
def test_lists_show_exactly_the_related_pupils(client, cast, who, route):
    client.force_login(getattr(cast, who).user)
    response = client.get(_route(cast, route), follow=True)
    body = response.content.decode()
    allowed = VISIBLE.get(route, {})
    if who in allowed or route in OPEN or (route, who) in REDIRECTED:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
    expected = allowed.get(who, NOBODY)
    assert names_in(body, cast) == expected, (route, who, body[:300])
    # Every pupil named on the page is in the access log, through a role that reaches them.
    logged = set(
        AccessLog.objects.filter(staff=getattr(cast, who)).values_list(
            "pupil__last_name", flat=True
        )
    )
    assert {getattr(cast, name).last_name for name in expected} <= logged


def test_teacher_who_is_also_administration_sees_aggregates_not_names(client, cast):
    """The teacher role reaches the pupils taught; it must not switch names on for the
    organiser's other pupils, which the administration role shows only as figures."""
    client.force_login(cast.teacher_admin.user)
    for whom in ("pupil", "other_pupil", "protected"):
        target = getattr(cast, whom)
        assert client.get(reverse("elevakt:pupil", args=[target.pk])).status_code == 404
    overview = client.get(reverse("elevakt:overview")).content.decode()
    assert "Norrskolan" in overview and not names_in(overview, cast)
    assert client.get(reverse("elevakt:pupil", args=[cast.pupil_elsewhere.pk])).status_code == 200


def test_names_permission_opens_the_administration_scope(client, cast):
    from django.contrib.auth.models import Permission

    cast.teacher_admin.user.user_permissions.add(
        Permission.objects.get(codename="view_pupil_names")
    )
    client.force_login(cast.teacher_admin.user)
    response = client.get(reverse("elevakt:pupil", args=[cast.other_pupil.pk]))
    assert response.status_code == 200
    assert AccessLog.objects.get(pupil=cast.other_pupil).role == "administration"
    body = client.get(reverse("elevakt:school-pupils", args=[cast.north.pk])).content.decode()
    assert names_in(body, cast) == NORTH


def test_administration_sees_aggregates_without_names(client, cast):
    client.force_login(cast.admin.user)
    response = client.get(reverse("elevakt:school-pupils", args=[cast.north.pk]), follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Norrskolan" in body
    assert cast.pupil.last_name not in body


def test_anonymous_visitor_is_sent_to_login(client, cast):
    response = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_user_without_staff_record_sees_nothing(client, cast, django_user_model):
    user = django_user_model.objects.create_user("stranger", password="x-stranger")
    client.force_login(user)
    assert client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).status_code == 404
    assert client.get(reverse("elevakt:my-pupils")).status_code == 404


def test_protected_identity_hides_address_and_guardians(client, cast):
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:pupil", args=[cast.protected.pk])).content.decode()
    assert cast.protected.full_name in body
    assert "Hemliga gatan" not in body
    assert "Gustav" not in body
    assert "gustav@example.se" not in body


def test_protected_details_need_the_explicit_permission(client, cast):
    from django.contrib.auth.models import Permission

    cast.principal.user.user_permissions.add(
        Permission.objects.get(codename="view_protected_identity")
    )
    client.force_login(cast.principal.user)
    body = client.get(reverse("elevakt:pupil", args=[cast.protected.pk])).content.decode()
    assert "Gustav" in body


def test_access_log_names_the_role(client, cast):
    client.force_login(cast.teacher.user)
    client.get(reverse("elevakt:pupil", args=[cast.pupil.pk]))
    entry = AccessLog.objects.get(staff=cast.teacher)
    assert entry.role == "teacher"
    assert entry.pupil == cast.pupil
