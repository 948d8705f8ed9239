"""Every screening route, every role of the cast: who gets the page, who gets 404, and no names
where names are not allowed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.lib import clock
from fullfolj.screening import actions
from fullfolj.screening.models import ScreeningRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_rules")]

# Staff who see the school list (Norrskolan) with names.
SCHOOL_LIST = {"principal", "nurse", "health_two", "doctor"}
SOUTH_LIST = {"principal_elsewhere", "mentor_principal"}
ADMINISTRATION = {"admin", "teacher_admin"}
# Staff who may start a run and read the rule figures: principal and administration.
RUNNERS = {"principal", "principal_elsewhere", "admin", "teacher_admin", "mentor_principal"}


@pytest.fixture
def screened(cast):
    """The cast after one screening today: Alva (60 of 60 minutes invalid) is flagged."""
    run = actions.run_screening(cast.org, clock.today())
    assert run.flag_rows.filter(pupil=cast.pupil).exists()
    return cast


def names_in(body: str, cast) -> set[str]:
    return {
        name
        for name in ("pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away")
        if getattr(cast, name).last_name in body
    }


@pytest.mark.parametrize("who", ROLES)
def test_school_riskzon_shows_names_only_to_principal_and_health_team(client, screened, who):
    cast = screened
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("elevakt:school-riskzon", args=[cast.north.pk]))
    body = response.content.decode()
    if who in SCHOOL_LIST:
        assert response.status_code == 200
        assert names_in(body, cast) == {"pupil"}
        assert "Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)" in body
    elif who in ADMINISTRATION:
        assert response.status_code == 302  # to the municipality's aggregates
        assert response["Location"] == reverse("elevakt:municipality-riskzon")
    else:
        assert response.status_code == 404
        assert not names_in(body, cast)


@pytest.mark.parametrize("who", ROLES)
def test_riskzon_link_leads_each_role_to_its_list(client, screened, who):
    cast = screened
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("screening:riskzon"))
    if who in SCHOOL_LIST:
        assert response["Location"] == reverse("elevakt:school-riskzon", args=[cast.north.pk])
    elif who in SOUTH_LIST:
        assert response["Location"] == reverse("elevakt:school-riskzon", args=[cast.south.pk])
    elif who in ADMINISTRATION:
        assert response["Location"] == reverse("elevakt:municipality-riskzon")
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("who", ROLES)
def test_municipality_riskzon_is_for_the_administration_without_names(client, screened, who):
    cast = screened
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("elevakt:municipality-riskzon"))
    body = response.content.decode()
    assert not names_in(body, cast)
    if who in ADMINISTRATION:
        assert response.status_code == 200
        assert "Norrskolan" in body
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("who", ROLES)
def test_rule_figures_page_is_for_principal_health_team_and_administration(client, screened, who):
    cast = screened
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("screening:evaluation"))
    assert not names_in(response.content.decode(), cast)
    readers = RUNNERS | {"nurse", "health_two", "doctor"}  # the student-health team reads
    assert response.status_code == (200 if who in readers else 404)


@pytest.mark.parametrize("who", ROLES)
def test_only_principal_and_administration_may_start_a_run(client, cast, who):
    client.force_login(getattr(cast, who).user)
    response = client.post(reverse("screening:run", args=[cast.org.pk]))
    runs = ScreeningRun.objects.filter(organiser=cast.org)
    if who in RUNNERS:
        assert response.status_code == 302
        run = runs.get()
        assert run.started_by == getattr(cast, who)
        assert run.source == ScreeningRun.Source.MANUAL
    else:
        assert response.status_code == 404
        assert not runs.exists()


def test_a_run_needs_post(client, cast):
    client.force_login(cast.principal.user)
    assert client.get(reverse("screening:run", args=[cast.org.pk])).status_code == 405
    assert not ScreeningRun.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client, screened):
    for url in (
        reverse("screening:riskzon"),
        reverse("elevakt:municipality-riskzon"),
        reverse("elevakt:school-riskzon", args=[screened.north.pk]),
        reverse("screening:evaluation"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_administration_with_the_names_permission_sees_names(client, screened):
    from django.contrib.auth.models import Permission

    cast = screened
    cast.admin.user.user_permissions.add(Permission.objects.get(codename="view_pupil_names"))
    client.force_login(cast.admin.user)
    body = client.get(reverse("elevakt:municipality-riskzon")).content.decode()
    assert names_in(body, cast) == {"pupil"}
