"""What the pages show, for the people allowed to see them."""

from __future__ import annotations

import re

from django.urls import reverse

from fullfolj.lib import charts


def test_mentor_list_shows_term_and_recent_absence(client, cast):
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:my-pupils")).content.decode()
    row = body[body.index("Åkesson") :]
    row = row[: row.index("</tr>")]
    # one 60-minute lesson, wholly and invalidly absent: 100 % both this term and recently
    assert re.findall(r"100[,.]0", row) and len(re.findall(r"100[,.]0", row)) == 4


def test_pupil_page_has_chart_with_table_and_grades(client, cast):
    from fullfolj.grades.models import Grade

    Grade.objects.create(
        pupil=cast.pupil,
        organiser=cast.org,
        subject=cast.maths,
        term=cast.autumn,
        school=cast.north,
        grade="F",
    )
    client.force_login(cast.mentor.user)
    body = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    assert "<svg" in body and 'role="img"' in body
    assert "<details>" in body and "v12" in body  # week 12 of 2026 holds the absence
    assert 'id="grades"' in body and ">F<" in body
    assert "Matematik" in body  # absence by subject


def test_stacked_bars_scale_to_the_largest_total():
    svg = charts.stacked_bars(
        "c", "Test", ["a", "b"], [charts.Series("x", [10, 5]), charts.Series("y", [10, 0])]
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert '<title id="c-title">Test</title>' in svg
    heights = [
        float(h)
        for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    ]
    # a 20 % bar fills the plot (172 px), so the two 10 % parts are half each
    assert heights[:2] == [86.0, 86.0]


def test_overview_hides_a_small_count_of_pupils_with_high_absence(client, cast):
    """Six pupils with days at Norrskolan, one of them (Alva) at 10 % or more: the count of 1
    is hidden, and so would be the count of the five below it."""
    import datetime as dt

    from django.utils import timezone

    from fullfolj.attendance.actions import rebuild_pupil_days
    from tests import factories as f

    lesson = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
    )
    for n in range(5):
        p = f.pupil(cast.org, f"Extra{n}", f"Närvarande{n}")
        f.place(p, cast.north, cast.c7a, cast.year.start)
        f.mark(lesson, p)
    rebuild_pupil_days()
    client.force_login(cast.admin.user)
    body = client.get(reverse("elevakt:overview")).content.decode()
    row = body[body.index("Norrskolan") :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[0] == "6"  # pupils
    assert cells[-1] == "–"  # 1 pupil at 10 % or more: hidden
