"""The risk list pages its two tables 50 rows at a time, keeps the filter and the sort across
pages, and logs only the pupils a page names."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse

from conftest import TODAY
from fullfolj.access.models import AccessLog
from fullfolj.lib import clock
from fullfolj.schools.models import SchoolClass
from fullfolj.screening.models import Flag, ScreeningRun
from tests import factories as f


def _flag_many(cast, n: int) -> None:
    klass = SchoolClass.objects.get(school=cast.north, name="7A")
    run = ScreeningRun.objects.create(
        organiser=cast.org, as_of=TODAY, started_at=clock.now(), finished_at=clock.now()
    )
    for i in range(n):
        pupil = f.pupil(cast.org, f"Elev{i:03d}", f"Flaggad{i:03d}")
        f.place(pupil, cast.north, klass, dt.date(2025, 8, 18))
        Flag.objects.create(
            run=run,
            pupil=pupil,
            organiser=cast.org,
            school=cast.north,
            rule_code="invalid_4w",
            value=20,
            threshold=15,
            explanation="Ogiltig frånvaro 20 %",
        )


def _named(body: str) -> set[str]:
    return set(re.findall(r"Flaggad(\d{3})", body))


def test_the_risk_list_pages_the_flagged_with_no_action(client, cast):
    _flag_many(cast, 60)
    client.force_login(cast.principal.user)
    url = reverse("elevakt:school-riskzon", args=[cast.north.pk])
    first = client.get(url).content.decode()
    assert _named(first) == {f"{i:03d}" for i in range(50)}  # by name, the first 50
    assert "(60)" in first  # the heading counts them all
    assert "page=2#no-action-heading" in first
    second = client.get(url, {"page": 2, "sort": "-name"}).content.decode()
    assert _named(second) == {f"{i:03d}" for i in range(10)}  # the sort holds across pages
    logged = AccessLog.objects.filter(staff=cast.principal).values_list("pupil__last_name")
    named = {name[-3:] for (name,) in logged if name.startswith("Flaggad")}
    assert named == _named(first) | _named(second)  # 050-059 were on no page shown
    # A sort link starts the list over from its first page.
    assert 'href="?sort=name"' in second or "sort=name&amp;" in second or "?sort=name" in second
