"""Every route, every role: nobody sees a pupil they have no relation to."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog

ROLES = ["mentor", "other_mentor", "teacher", "teacher_elsewhere", "principal",
         "principal_elsewhere", "nurse", "admin", "officer", "outsider"]

# pupil -> the roles that may open the pupil's page
PUPIL_PAGE = {
    "pupil": {"mentor", "teacher", "principal", "nurse", "officer"},
    "other_pupil": {"other_mentor", "principal", "nurse", "officer"},
    "protected": {"mentor", "principal", "nurse", "officer"},
    "pupil_elsewhere": {"teacher_elsewhere", "principal_elsewhere", "officer"},
    "moved_away": {"officer"},
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("whom", list(PUPIL_PAGE))
def test_pupil_page_follows_role_and_relation(client, cast, who, whom):
    target = getattr(cast, whom)
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("schools:pupil", args=[target.pk]))
    body = response.content.decode()
    if who in PUPIL_PAGE[whom]:
        assert response.status_code == 200
        assert target.full_name in body
        assert AccessLog.objects.filter(staff=getattr(cast, who), pupil=target).exists()
    else:
        assert response.status_code == 404
        assert target.last_name not in body
        assert not AccessLog.objects.filter(pupil=target).exists()


# route -> (url builder, roles that get 200, pupils each such role must see there)
def _routes(cast):
    return {
        "my-pupils": reverse("schools:my-pupils"),
        "my-groups": reverse("schools:my-groups"),
        "group": reverse("schools:group", args=[cast.group.pk]),
        "school-pupils": reverse("schools:school-pupils", args=[cast.north.pk]),
        "overview": reverse("schools:overview"),
    }


VISIBLE = {
    ("my-pupils", "mentor"): {"pupil", "protected"},
    ("my-pupils", "other_mentor"): {"other_pupil"},
    ("group", "teacher"): {"pupil"},
    ("school-pupils", "principal"): {"pupil", "other_pupil", "protected"},
    ("school-pupils", "nurse"): {"pupil", "other_pupil", "protected"},
}
FORBIDDEN = {("group", r) for r in ROLES if r != "teacher"} | {
    ("school-pupils", r) for r in ROLES if r not in {"principal", "nurse", "admin"}
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", ["my-pupils", "my-groups", "group", "school-pupils", "overview"])
def test_lists_show_exactly_the_related_pupils(client, cast, who, route):
    client.force_login(getattr(cast, who).user)
    response = client.get(_routes(cast)[route], follow=True)
    body = response.content.decode()
    if (route, who) in FORBIDDEN:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
    expected = VISIBLE.get((route, who), set())
    for name in PUPIL_PAGE:
        person = getattr(cast, name)
        assert (person.last_name in body) == (name in expected), (name, body[:200])


def test_administration_sees_aggregates_without_names(client, cast):
    client.force_login(cast.admin.user)
    response = client.get(reverse("schools:school-pupils", args=[cast.north.pk]), follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Norrskolan" in body
    assert cast.pupil.last_name not in body


def test_anonymous_visitor_is_sent_to_login(client, cast):
    response = client.get(reverse("schools:pupil", args=[cast.pupil.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_user_without_staff_record_sees_nothing(client, cast, django_user_model):
    user = django_user_model.objects.create_user("stranger", password="x-stranger")
    client.force_login(user)
    assert client.get(reverse("schools:pupil", args=[cast.pupil.pk])).status_code == 404
    assert client.get(reverse("schools:my-pupils")).status_code == 404


def test_protected_identity_hides_address_and_guardians(client, cast):
    client.force_login(cast.mentor.user)
    body = client.get(reverse("schools:pupil", args=[cast.protected.pk])).content.decode()
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
    body = client.get(reverse("schools:pupil", args=[cast.protected.pk])).content.decode()
    assert "Gustav" in body


def test_access_log_names_the_role(client, cast):
    client.force_login(cast.teacher.user)
    client.get(reverse("schools:pupil", args=[cast.pupil.pk]))
    entry = AccessLog.objects.get(staff=cast.teacher)
    assert entry.role == "teacher"
    assert entry.pupil == cast.pupil
