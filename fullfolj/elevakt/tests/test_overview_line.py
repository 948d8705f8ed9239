"""The overview counts problematic absence at the organiser's own line, set in the admin."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.attendance.queries import at_least
from tests import factories as f


def _norrskolan(client) -> tuple[str, list[str]]:
    body = client.get(reverse("elevakt:overview")).content.decode()
    row = body[body.index("Norrskolan") :]
    return body, re.findall(r'<td class="num">([^<]*)</td>', row[: row.index("</tr>")])


def test_the_count_follows_the_organisers_line(client, cast, settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1  # show every count
    lesson = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
        minutes=100,
    )
    pupil = f.pupil(cast.org, "Sixten", "Sjuprocent")
    f.place(pupil, cast.north, cast.c7a, cast.year.start)
    f.mark(lesson, pupil, absent=7)  # 7 % of the term: under the default line
    rebuild_pupil_days()
    client.force_login(cast.admin.user)
    body, cells = _norrskolan(client)
    assert "Elever med 10 % eller mer" in body  # the default line
    assert cells[-1] == "1"  # Alva
    cast.org.problematic_absence_percent = 5
    cast.org.save()
    body, cells = _norrskolan(client)
    assert "Elever med 5 % eller mer" in body
    assert cells[-1] == "2"


def test_the_line_is_edited_in_the_admin(client, cast, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.se", "pw"))
    url = reverse("admin:schools_organiser_change", args=[cast.org.pk])
    assert 'name="problematic_absence_percent"' in client.get(url).content.decode()


def test_at_least_counts_a_share_exactly_at_the_line():
    assert at_least(30, 300, 10)
    assert not at_least(29, 300, 10)
    assert not at_least(0, 0, 10)  # nothing scheduled: no share at all
