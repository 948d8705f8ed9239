"""A window's sums read from PupilMonth's whole months, PupilWeek's whole weeks and PupilDay's
days left over are the plain sums of PupilDay over the window, for any window and any pupil
set, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fullfolj.attendance import queries
from fullfolj.attendance.models import PupilDay
from fullfolj.attendance.store import refresh_pupil_periods
from fullfolj.schools.models import Pupil
from tests import factories as f

FIRST = dt.date(2026, 1, 1)
SPAN = 160  # days of history: January to early June, five month boundaries
FIGURES = ("scheduled", "absent", "valid", "invalid", "unknown")  # late is not summed


@pytest.fixture
def history(db):
    """Five pupils with a random school-day history (a fixed seed, a few weekend days too, as
    an import may bring), PupilMonth and PupilWeek kept from it."""
    org = f.organiser()
    pupils = [f.pupil(org, f"Elev{i}", "Prov") for i in range(5)]
    rng = random.Random(16)  # noqa: S311 - test data, not secrets
    days = []
    for pupil in pupils:
        for offset in range(SPAN):
            day = FIRST + dt.timedelta(days=offset)
            if (day.weekday() >= 5 and rng.random() < 0.9) or rng.random() < 0.1:
                continue
            scheduled = rng.choice([0, 120, 300, 360])
            valid, invalid, unknown = (rng.randint(0, scheduled // 3) for _ in range(3))
            days.append(
                PupilDay(
                    pupil=pupil,
                    organiser=org,
                    date=day,
                    lessons=scheduled // 60,
                    scheduled_minutes=scheduled,
                    absent_minutes=valid + invalid + unknown,
                    valid_minutes=valid,
                    invalid_minutes=invalid,
                    unknown_minutes=unknown,
                    late_minutes=rng.randint(0, 20),
                )
            )
    PupilDay.objects.bulk_create(days)
    refresh_pupil_periods()
    return pupils


def _plain(ids: list[int], start: dt.date, until: dt.date) -> dict[int, queries.Absence]:
    rows = (
        PupilDay.objects.filter(pupil_id__in=ids, date__gte=start, date__lte=until)
        .values("pupil_id")
        .annotate(**{n: Sum(f"{n}_minutes") for n in FIGURES})
    )
    return {r.pop("pupil_id"): queries.Absence(**r) for r in rows}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.integers(-20, SPAN + 20),
    length=st.integers(0, SPAN),
    chosen=st.sets(st.integers(0, 4), min_size=1),
    line=st.sampled_from([None, 0, 5, 15, 40]),
)
def test_a_window_read_by_months_weeks_and_days_is_the_plain_day_sum(
    history, first, length, chosen, line
):
    start = FIRST + dt.timedelta(days=first)
    until = start + dt.timedelta(days=length)
    ids = [history[i].pk for i in chosen]
    pupils = Pupil.objects.filter(pk__in=ids).values("pk")
    plain = _plain(ids, start, until)
    if line is not None:
        plain = {k: v for k, v in plain.items() if queries.at_least(v.absent, v.scheduled, line)}
    assert queries.absence_over(pupils, start, until, at_least_percent=line) == plain

    summed = queries.absence_in_all(pupils, start, until, line=line)
    together, counted = summed.absence, summed.pupils
    if line is not None:
        assert summed.at_line == len(plain)
        # Counted per school the same way: here every pupil's "school" is the organiser.
        placed = Pupil.objects.filter(pk__in=ids).values("pk", "organiser_id")
        invalid = sum(1 for a in plain.values() if queries.at_least(a.invalid, a.scheduled, line))
        school = history[0].organiser_id
        assert queries.at_line_per_school(placed, start, until, line) == {
            school: queries.AtLine(len(ids), len(plain), invalid)
        }
    days = PupilDay.objects.filter(pupil_id__in=ids, date__gte=start, date__lte=until)
    expected = days.aggregate(
        **{n: Sum(f"{n}_minutes") for n in FIGURES}, n=Count("pupil_id", distinct=True)
    )
    assert counted == expected.pop("n")
    assert together == queries.Absence(**{n: v or 0 for n, v in expected.items()})
    assert all(type(getattr(together, n)) is int for n in FIGURES)  # no Decimal from PG

    per_week: dict[dt.date, list[int]] = {}
    for day, *figures in days.values_list("date", *(f"{n}_minutes" for n in FIGURES)):
        monday = day - dt.timedelta(days=day.weekday())
        per_week[monday] = [
            a + b for a, b in zip(per_week.get(monday, [0] * 5), figures, strict=True)
        ]
    assert queries.absence_per_week(ids, start, until) == {
        monday: queries.Absence(*sums) for monday, sums in per_week.items()
    }

    later = until + dt.timedelta(days=length // 2)
    both = queries.absence_in_windows(pupils, {"a": (start, until), "b": (until, later)})
    assert both == {"a": _plain(ids, start, until), "b": _plain(ids, until, later)}


def test_an_empty_window_and_no_pupils_sum_to_nothing(history):
    everyone = Pupil.objects.values("pk")
    assert queries.absence_over(everyone, dt.date(2026, 3, 2), dt.date(2026, 3, 1)) == {}
    nobody = queries.absence_in_all(Pupil.objects.none().values("pk"), FIRST, FIRST, line=5)
    assert nobody == queries.Together(queries.Absence(), 0, 0)


def test_a_window_reads_whole_months_then_whole_weeks_then_days():
    # Thursday 5 February to Wednesday 8 April 2026: March whole; of February's part the weeks
    # of 9 and 16 February; April's eight days hold no whole week.
    months, weeks, days = queries._split(dt.date(2026, 2, 5), dt.date(2026, 4, 8))
    assert months == [dt.date(2026, 3, 1)]
    assert weeks == [dt.date(2026, 2, 9), dt.date(2026, 2, 16)]
    assert len(days) == 3  # 5–8 February, 23–28 February, 1–8 April
    # The officer's four weeks up to a Wednesday: three whole weeks between two stretches.
    months, weeks, days = queries._split(dt.date(2026, 3, 12), dt.date(2026, 4, 8))
    assert months == [] and len(days) == 2
    assert weeks == [dt.date(2026, 3, 16), dt.date(2026, 3, 23), dt.date(2026, 3, 30)]
