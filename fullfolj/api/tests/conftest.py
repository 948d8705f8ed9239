from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.api.models import ApiToken
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support.tests.test_access import support as support


@pytest.fixture
def keys(cast) -> dict[str, str]:
    """A token for every person of the cast."""
    return {who: ApiToken.issue(getattr(cast, who))[1] for who in ROLES}


@pytest.fixture
def api(client, keys):
    """GET or POST as a person of the cast, with their token."""

    class Api:
        def get(self, who: str, url: str, **kwargs):
            return client.get(url, HTTP_AUTHORIZATION=f"Bearer {keys[who]}", **kwargs)

        def post(self, who: str, url: str, data, *, multipart: bool = False, **kwargs):
            if not multipart:
                kwargs.setdefault("content_type", "application/json")
            return client.post(url, data, HTTP_AUTHORIZATION=f"Bearer {keys[who]}", **kwargs)

    return Api()


@pytest.fixture
def flags(cast) -> ScreeningRun:
    """A finished run flagging Alva (Norrskolan) and Dino (Söderskolan)."""
    moment = timezone.make_aware(dt.datetime(2026, 3, 17, 22, 0))
    run = ScreeningRun.objects.create(
        organiser=cast.org,
        as_of=dt.date(2026, 3, 17),
        started_at=moment,
        finished_at=moment,
        flagged_pupils=2,
        flags=2,
    )
    for pupil, school in ((cast.pupil, cast.north), (cast.pupil_elsewhere, cast.south)):
        Flag.objects.create(
            run=run,
            pupil=pupil,
            organiser=cast.org,
            school=school,
            rule_code="invalid_absence",
            threshold=5,
            explanation="Ogiltig frånvaro över 5 %",
        )
    return run
