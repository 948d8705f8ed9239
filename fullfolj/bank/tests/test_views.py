"""The bank's pages for every role: search and read for all staff, picking into a case only for
those who read the case; the pick writes the measure and remembers the entry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.bank.models import Use
from fullfolj.support import actions as support
from fullfolj.support.models import Measure

# who reads Alva's case (support/tests/test_access.py)
MAY_SEE = {"mentor", "principal", "nurse", "health_two", "doctor"}


@pytest.fixture
def case(cast):
    made, _new = support.open_case(cast.pupil, school=cast.north, responsible=cast.mentor, by=None)
    return made


@pytest.mark.parametrize("who", ROLES)
def test_every_staff_member_searches_and_reads_the_bank(client, cast, who):
    client.force_login(getattr(cast, who).user)
    index = client.get(reverse("bank:index"), {"q": "schema"})
    assert index.status_code == 200
    assert "Dagsschema med bilder" in index.content.decode()
    entry = client.get(reverse("bank:entry", args=["dagsschema"]))
    assert entry.status_code == 200
    assert "gånger använd" in entry.content.decode()


@pytest.mark.parametrize("who", ROLES)
def test_picking_into_a_case_follows_the_case(client, cast, case, who):
    staff = getattr(cast, who)
    client.force_login(staff.user)
    url = reverse("bank:pick", args=["dagsschema"])
    form = client.get(url, {"case": case.pk})
    posted = client.post(
        url,
        {
            "case": case.pk,
            "title": "Dagsschema med bilder",
            "description": "Schema på bänken",
            "start": "2026-03-18",
            "follow_up_on": "2026-04-15",
            "responsible": cast.mentor.pk,
        },
    )
    chooser = client.get(url).content.decode()
    if who in MAY_SEE:
        assert form.status_code == 200
        assert "Dagsschema med bilder" in form.content.decode()
        assert posted.status_code == 302
        measure = Measure.objects.get(case=case)
        assert measure.kind == "extra_adaptation" and measure.bank_use.entry.slug == "dagsschema"
        assert cast.pupil.full_name in chooser
        assert AccessLog.objects.filter(staff=staff, pupil=cast.pupil).exists()
    else:
        assert form.status_code == 404 and posted.status_code == 404
        assert not Use.objects.exists()
        assert cast.pupil.last_name not in chooser


def test_a_bad_date_is_named_and_nothing_is_written(client, cast, case):
    client.force_login(cast.mentor.user)
    posted = client.post(
        reverse("bank:pick", args=["dagsschema"]),
        {"case": case.pk, "title": "x", "start": "2026-03-18", "follow_up_on": "2026-03-01"},
    )
    assert posted.status_code == 400
    assert 'id="id_follow_up_on-error"' in posted.content.decode()
    assert not Measure.objects.exists() and not Use.objects.exists()


def test_the_case_page_leads_to_the_bank(client, cast, case):
    client.force_login(cast.mentor.user)
    body = client.get(reverse("support:case", args=[case.pk])).content.decode()
    assert f"{reverse('bank:index')}?case={case.pk}" in body
    listing = client.get(reverse("bank:index"), {"case": case.pk}).content.decode()
    assert f"{reverse('bank:pick', args=['dagsschema'])}?case={case.pk}" in listing


def test_a_closed_or_hidden_case_is_not_offered(client, cast, case):
    client.force_login(cast.other_mentor.user)
    assert client.get(reverse("bank:index"), {"case": case.pk}).status_code == 404
