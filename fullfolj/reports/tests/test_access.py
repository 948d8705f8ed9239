"""Every report route, every role of the cast and the people with several: who gets the page,
who gets 404, and that no page names a pupil."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.reports.models import Cohort, Region, RegionMember

NORTH_WIDE = {"principal", "nurse", "health_two", "doctor"}
SOUTH_WIDE = {"principal_elsewhere", "mentor_principal", "health_two", "doctor"}
MUNICIPAL = {"admin", "officer", "teacher_admin"}
ADMINISTRATION = {"admin", "teacher_admin"}
MAY_OPEN = {
    "school_north": NORTH_WIDE,
    "school_south": SOUTH_WIDE,
    "municipality": MUNICIPAL,
    # the principals, the student-health team and the administration (each offered only their
    # own lists: see below)
    "evaluation": NORTH_WIDE | SOUTH_WIDE | ADMINISTRATION,
    "region": {"admin"},
    # the page that makes a list by hand: the school's principal and student-health team
    "new_list_north": NORTH_WIDE,
    "new_list_south": SOUTH_WIDE,
    "index": NORTH_WIDE | SOUTH_WIDE | MUNICIPAL,
}
NAMES = ["Åkesson", "Bäckström", "Cöster", "Dählgren", "Ekström"]


@pytest.fixture
def lists(cast):
    north = Cohort.objects.create(
        name="Norrskolans riskzon", organiser=cast.org, school=cast.north, chosen_on=cast.year.start
    )
    north.pupils.set([cast.pupil, cast.other_pupil, cast.protected])
    whole = Cohort.objects.create(
        name="Kommunens lista", organiser=cast.org, chosen_on=cast.year.start
    )
    whole.pupils.set([cast.pupil, cast.pupil_elsewhere])
    region = Region.objects.create(name="Testregionen")
    region.analysts.add(cast.admin)
    RegionMember.objects.create(region=region, organiser=cast.org, shares=True)
    return {"north": north, "whole": whole, "region": region}


def _url(route, cast, lists):
    return {
        "school_north": reverse("reports:school", args=[cast.north.pk]),
        "school_south": reverse("reports:school", args=[cast.south.pk]),
        "municipality": reverse("reports:municipality"),
        "evaluation": reverse("reports:evaluation"),
        "region": reverse("reports:region", args=[lists["region"].pk]),
        "index": reverse("reports:index"),
        "new_list_north": reverse("reports:cohort_new", args=[cast.north.pk]),
        "new_list_south": reverse("reports:cohort_new", args=[cast.south.pk]),
    }[route]


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", list(MAY_OPEN))
def test_report_pages_follow_the_roles(client, cast, lists, who, route):
    client.force_login(getattr(cast, who).user)
    response = client.get(_url(route, cast, lists))
    body = response.content.decode()
    assert response.status_code == (200 if who in MAY_OPEN[route] else 404), (who, route)
    for name in NAMES:
        assert name not in body


@pytest.mark.parametrize("who", sorted(MAY_OPEN["evaluation"]))
def test_each_viewer_is_offered_only_the_lists_they_may_evaluate(client, cast, lists, who):
    client.force_login(getattr(cast, who).user)
    body = client.get(reverse("reports:evaluation")).content.decode()
    assert ("Norrskolans riskzon" in body) == (who in NORTH_WIDE | ADMINISTRATION)
    assert ("Kommunens lista" in body) == (who in ADMINISTRATION)


def test_a_list_not_offered_cannot_be_asked_for(client, cast, lists):
    client.force_login(cast.principal.user)
    response = client.get(
        reverse("reports:evaluation"),
        {
            "source": f"cohort-{lists['whole'].pk}",
            "first": cast.autumn.pk,
            "second": cast.spring.pk,
            "threshold": "5",
        },
    )
    assert response.status_code == 200
    assert "Rätta valen" in response.content.decode()
    assert b"format=pdf" not in response.content


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_downloads_follow_the_same_rules(client, cast, lists, fmt):
    url = reverse("reports:school", args=[cast.north.pk]) + f"?format={fmt}"
    client.force_login(cast.principal_elsewhere.user)
    assert client.get(url).status_code == 404
    client.force_login(cast.principal.user)
    assert client.get(url).status_code == 200


def test_home_pages_link_the_dashboards(client, cast):
    client.force_login(cast.principal.user)
    assert reverse("reports:school", args=[cast.north.pk]) in client.get("/").content.decode()
    client.force_login(cast.admin.user)
    assert reverse("reports:municipality") in client.get("/").content.decode()
