"""The long lists of follow-up stay pages a person can read: Uppföljningar att göra 50 rows a
page, the EHT agenda 15 rows a section, each with its totals; the queries do not grow with rows,
and the access log names only the pupils shown."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from conftest import TODAY
from fullfolj.access.models import AccessLog
from fullfolj.schools.models import SchoolClass
from fullfolj.support import eht, followups
from fullfolj.support.models import Case, Measure
from tests import factories as f

MEETING = TODAY + dt.timedelta(days=7)


def _crowd(cast: SimpleNamespace, n: int) -> list[Case]:
    """`n` more pupils in 7A, each with an active case and one adaptation overdue by a number of
    days that grows with the pupil's number (the first pupil's is the oldest)."""
    klass = SchoolClass.objects.get(school=cast.north, name="7A")
    cases = []
    for i in range(n):
        pupil = f.pupil(cast.org, f"Elev{i:03d}", f"Efternamn{i:03d}")
        f.place(pupil, cast.north, klass, dt.date(2025, 8, 18))
        case = Case.objects.create(
            pupil=pupil, school=cast.north, responsible=cast.mentor, status=Case.Status.ACTIVE
        )
        Measure.objects.create(
            case=case,
            kind=Measure.Kind.EXTRA_ADAPTATION,
            title=f"Anpassning {i:03d}",
            start=TODAY - dt.timedelta(days=200),
            responsible=cast.mentor,
            follow_up_on=TODAY - dt.timedelta(days=100 - i),
        )
        cases.append(case)
    return cases


def _pupils_named(body: str) -> list[str]:
    return re.findall(r"Efternamn(\d{3})", body)


def test_the_follow_up_list_is_paged_50_rows_with_the_totals(client, cast):
    _crowd(cast, 60)
    client.force_login(cast.principal.user)
    url = reverse("followup:follow-ups")
    first = client.get(url).content.decode()
    named = _pupils_named(first)
    assert sorted(set(named)) == [f"{i:03d}" for i in range(50)]  # the oldest dates first
    assert "60" in first and "1–50" in first
    last = client.get(url, {"page": 2}).content.decode()
    assert sorted(set(_pupils_named(last))) == [f"{i:03d}" for i in range(50, 60)]
    logged = AccessLog.objects.filter(staff=cast.principal).values_list(
        "pupil__last_name", flat=True
    )
    assert len(set(logged)) == 60  # two pages read: each page's pupils logged once
    # A page past the end shows the last; a bad number the first.
    assert _pupils_named(client.get(url, {"page": 9}).content.decode()) == _pupils_named(last)
    assert _pupils_named(client.get(url, {"page": "x"}).content.decode()) == named


def test_the_follow_up_page_reads_the_same_queries_for_5_rows_and_for_50(
    cast, django_assert_max_num_queries
):
    from fullfolj.access.gate import Viewer

    _crowd(cast, 5)
    with django_assert_max_num_queries(8) as few:
        small = followups.follow_up_rows(Viewer(cast.principal), TODAY)
    _crowd(cast, 50)
    with django_assert_max_num_queries(len(few.captured_queries)):
        big = followups.follow_up_rows(Viewer(cast.principal), TODAY)
    assert len(small.rows) == 5 and len(big.rows) == 50
    assert big.overdue_total == 55 and big.soon_total == 0


def test_each_agenda_section_shows_15_rows_and_pages_to_the_rest(client, cast):
    _crowd(cast, 20)
    client.force_login(cast.nurse.user)
    url = reverse("followup:eht-agenda", args=[cast.north.pk])
    first = client.get(url, {"datum": MEETING.isoformat()}).content.decode()
    assert sorted(set(_pupils_named(first))) == [f"{i:03d}" for i in range(15)]
    assert "(20)" in first and "1–15" in first
    second = client.get(url, {"datum": MEETING.isoformat(), "fall": 2}).content.decode()
    assert sorted(set(_pupils_named(second))) == [f"{i:03d}" for i in range(15, 20)]
    # The pager keeps the meeting date and leads back to the section.
    assert "datum=" + MEETING.isoformat() in second and "fall=1#due-heading" in second


def test_the_agenda_reads_the_same_queries_for_a_few_cases_and_many(
    cast, django_assert_max_num_queries
):
    from fullfolj.access.gate import Viewer

    _crowd(cast, 3)
    with django_assert_max_num_queries(30) as few:
        small = eht.agenda(Viewer(cast.nurse), cast.north, MEETING)
    _crowd(cast, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        big = eht.agenda(Viewer(cast.nurse), cast.north, MEETING)
    assert len(small.cases) == 3 and len(big.cases) == eht.SECTION_ROWS
    assert big.case_page.paginator.count == 33


@pytest.mark.parametrize("page", [1, 3])
def test_the_agenda_logs_only_the_pupils_of_the_pages_shown(client, cast, page):
    cases = _crowd(cast, 40)
    client.force_login(cast.nurse.user)
    url = reverse("followup:eht-agenda", args=[cast.north.pk])
    client.get(url, {"datum": MEETING.isoformat(), "fall": page})
    logged = set(AccessLog.objects.filter(staff=cast.nurse).values_list("pupil_id", flat=True))
    shown = {c.pupil_id for c in cases[(page - 1) * 15 : page * 15]}
    assert shown <= logged
    assert not ({c.pupil_id for c in cases} - shown) & logged
