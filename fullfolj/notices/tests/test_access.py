"""Who sees a pupil's guardian notices and the guardians not reached, in Swedish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from fullfolj.access.tests.test_routes import PUPIL_PAGE, ROLES
from fullfolj.notices.channels import MALFORMED_EMAIL
from fullfolj.notices.models import Channel, GuardianNotice, Status

from .helpers import at

DAY = dt.date(2026, 3, 17)


@pytest.fixture
def unreached(cast):  # type: ignore[no-untyped-def]
    """Alva's guardian has a malformed address; Cora's (protected) guardian was held back."""
    GuardianNotice.objects.create(
        pupil=cast.pupil,
        guardian=cast.parent,
        date=DAY,
        channel=Channel.EMAIL,
        status=Status.FAILED,
        error=MALFORMED_EMAIL,
        send_after=at(10, day=17),
    )
    GuardianNotice.objects.create(
        pupil=cast.protected,
        guardian=cast.guardian,
        date=DAY,
        channel=Channel.EMAIL,
        status=Status.HELD,
        send_after=at(10, day=17),
    )
    return cast


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("whom", ["pupil", "protected"])
def test_the_pupil_page_shows_unreached_guardians_only_to_who_may_see_the_pupil(
    client, unreached, who, whom
):
    cast = unreached
    target = getattr(cast, whom)
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("elevakt:pupil", args=[target.pk]), HTTP_ACCEPT_LANGUAGE="sv")
    body = response.content.decode()
    if who not in PUPIL_PAGE[whom]:
        assert response.status_code == 404
        for hidden in (target.last_name, "Andersson", "Carlsson", "vårdnadshavare"):
            assert hidden not in body
        return
    assert response.status_code == 200
    assert "Vårdnadshavare som inte nåtts" in body
    if whom == "pupil":
        assert "Greta Andersson (e-post) – misslyckades: felaktig e-postadress" in body
    else:  # protected identity: the mentor learns a guardian needs a call, not who it is
        assert "en vårdnadshavare (skyddad identitet)" in body
        assert "ej skickat: kontakta vårdnadshavaren själv" in body
        for leak in ("Gustav", "Carlsson", "gustav@example.se", "Hemliga gatan"):
            assert leak not in body


def test_staff_allowed_protected_details_see_who_the_guardian_is(client, unreached):
    from django.contrib.auth.models import Permission

    cast = unreached
    cast.principal.user.user_permissions.add(
        Permission.objects.get(codename="view_protected_identity")
    )
    client.force_login(cast.principal.user)
    body = client.get(reverse("elevakt:pupil", args=[cast.protected.pk])).content.decode()
    assert "Gustav Carlsson" in body


def test_the_mentor_s_list_counts_guardians_not_reached(client, unreached):
    client.force_login(unreached.mentor.user)
    response = client.get(reverse("elevakt:my-pupils"), HTTP_ACCEPT_LANGUAGE="sv")
    body = response.content.decode()
    assert "Vårdnadshavare som inte nåtts" in body
    rows = {row.pupil.pk: row.unreached_guardians for row in response.context["rows"]}
    assert rows == {unreached.pupil.pk: 1, unreached.protected.pk: 1}


def test_a_guardian_reached_again_after_30_days_drops_off_the_list(client, unreached):
    GuardianNotice.objects.update(date=DAY - dt.timedelta(days=31))
    client.force_login(unreached.mentor.user)
    response = client.get(reverse("elevakt:my-pupils"))
    assert {row.unreached_guardians for row in response.context["rows"]} == {0}


def test_the_outbox_admin_is_for_superusers_only(client, unreached, django_user_model):
    url = reverse("admin:notices_guardiannotice_changelist")
    client.force_login(unreached.mentor.user)
    assert client.get(url).status_code == 302  # to the admin login
    root = django_user_model.objects.create_superuser("root", "root@example.se", "x")
    client.force_login(root)
    response = client.get(url)
    assert response.status_code == 200
    assert "misslyckades" in response.content.decode()
