"""The administration's overview: key figures, charts with their tables, no small groups."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.elevakt.overview import _total, municipality_overview
from fullfolj.lib import disclosure
from tests import factories as f

# Nine more pupils at Norrskolan, one 100-minute lesson each, absent this many minutes. With
# Alva (absent all of her only lesson) ten pupils: five at 10 % or more, three at 15 %, two
# at 20 %.
NORTH_ABSENT = [0, 0, 0, 0, 0, 12, 12, 16, 25]


def _norrskolan_ten(cast) -> None:
    lesson = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
        minutes=100,
    )
    for n, absent in enumerate(NORTH_ABSENT):
        pupil = f.pupil(cast.org, f"Extra{n}", "Elev")
        f.place(pupil, cast.north, cast.c7a, cast.year.start)
        f.mark(lesson, pupil, absent=absent, valid=bool(absent))


def _dino_at_south(cast) -> None:
    lesson = f.lesson(
        cast.group_south,
        cast.maths,
        cast.teacher_elsewhere,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 17, 9, 0)),
    )
    f.mark(lesson, cast.pupil_elsewhere, absent=60, valid=False)


def _overview(cast):
    today = dt.date(2026, 3, 18)
    return municipality_overview(
        [cast.north, cast.south], today, cast.spring.start, today, minimum=5
    )


def test_the_overview_shows_key_figures_and_two_charts_each_with_its_numbers(client, cast):
    _norrskolan_ten(cast)
    rebuild_pupil_days()
    client.force_login(cast.admin.user)
    body = client.get(reverse("elevakt:overview")).content.decode()

    figures = re.findall(r'<span class="value">([^<]*)</span>', body)
    # ten pupils; 125 of 960 minutes absent (13.0 %), 60 invalid (6.3 %); five at 10 %
    assert figures == ["10", "13,0\xa0%", "6,3\xa0%", "5", "1"]
    assert "(50,0\xa0%)" in body  # five of ten at the organiser's line
    for chart in ("absence-per-school", "share-at-levels", "absence-per-week"):
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in body and f'id="{chart}"' in body
    # the share table: Norrskolan five at 10 % (50 %); three and two hidden as small
    row = body[body.index('<caption class="sr-only">Elever på varje') :]
    row = row[row.index("Norrskolan") : row.index("</tr>", row.index("Norrskolan"))]
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["10", "5 (50,0\xa0%)", "–", "–"]
    # the charts write their figures as the tables do
    labels = re.findall(r"<text[^>]*>([^<]*%)</text>", body)
    assert labels and all(re.fullmatch(r"\d+(,\d)?\xa0%", t) for t in labels)
    assert "Söderskolan" in body and "För få elever för att visas" in body
    assert "Alva" not in body and "Åkesson" not in body  # no names


def test_a_municipal_total_that_would_give_a_small_school_away_is_hidden(cast):
    _norrskolan_ten(cast)
    _dino_at_south(cast)
    rebuild_pupil_days()
    overview = _overview(cast)
    north, south = overview.schools
    assert (north.pupils, north.hidden, south.pupils, south.hidden) == (10, False, 1, True)
    # 11 beside Norrskolan's 10 would tell that Söderskolan has one pupil, and that he is absent
    assert overview.pupils is None
    assert overview.problematic is None
    assert all(count is None for count in overview.at_level.values())
    assert overview.absence.scheduled == 60 + 900 + 60  # rates reveal no count


def test_the_total_is_shown_where_the_small_school_has_nobody_with_lessons(cast):
    _norrskolan_ten(cast)
    rebuild_pupil_days()
    overview = _overview(cast)
    assert overview.pupils == 10
    assert overview.problematic == 5
    assert overview.at_level == {10: 5, 15: None, 20: None}
    assert overview.shares[0] == (10, 5, 50.0)


def test_the_overview_asks_the_database_a_fixed_number_of_times(
    client, cast, django_assert_max_num_queries
):
    _norrskolan_ten(cast)
    rebuild_pupil_days()
    client.force_login(cast.admin.user)
    client.get(reverse("elevakt:overview"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("elevakt:overview")).status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=40), st.booleans()), min_size=1, max_size=6
    )
)
def test_a_shown_total_never_gives_a_single_hidden_cell_away(cells):
    raw = [count for count, _hidden in cells]
    shown = [None if hidden or disclosure.is_small(count, 5) else count for count, hidden in cells]
    total = _total(raw, shown, 5)
    if total is not None:
        hidden = [r for r, s in zip(raw, shown, strict=True) if s is None and r]
        assert total == sum(raw)
        assert len(hidden) != 1
        assert not disclosure.is_small(sum(hidden), 5)
        assert not disclosure.is_small(total, 5)
