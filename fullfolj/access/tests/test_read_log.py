"""Reads are logged once per page, and the principal sees who read a pupil's record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES


def test_a_list_page_logs_every_pupil_it_names_in_one_insert(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.principal.user)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("elevakt:school-pupils", args=[cast.north.pk]))
    inserts = [
        q for q in queries if q["sql"].startswith("INSERT") and "access_accesslog" in q["sql"]
    ]
    assert len(inserts) == 1
    logged = AccessLog.objects.filter(staff=cast.principal)
    assert {e.pupil for e in logged} == {cast.pupil, cast.other_pupil, cast.protected}
    assert {e.role for e in logged} == {"principal"}


def test_the_principal_sees_who_read_the_record(client, cast):
    client.force_login(cast.teacher.user)
    client.get(reverse("elevakt:pupil", args=[cast.pupil.pk]))
    client.force_login(cast.principal.user)
    page = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    url = reverse("access:pupil-reads", args=[cast.pupil.pk])
    assert url in page
    body = client.get(url).content.decode()
    assert "Teacher Testsson" in body
    assert reverse("elevakt:pupil", args=[cast.pupil.pk]) in body
    # Opening the log is itself a read.
    assert AccessLog.objects.filter(staff=cast.principal, path=url).exists()


@pytest.mark.parametrize("who", ROLES)
def test_only_the_pupils_principal_opens_the_read_log(client, cast, who):
    client.force_login(getattr(cast, who).user)
    response = client.get(reverse("access:pupil-reads", args=[cast.pupil.pk]))
    assert response.status_code == (200 if who == "principal" else 404)
    page = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    assert (reverse("access:pupil-reads", args=[cast.pupil.pk]) in page) == (who == "principal")
