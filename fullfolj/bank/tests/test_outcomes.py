"""An entry's before/after figures, computed by hand on a small fixed municipality."""

from __future__ import annotations

import datetime as dt

import pytest

from fullfolj.attendance.models import PupilDay
from fullfolj.attendance.store import refresh_pupil_periods
from fullfolj.bank import actions, queries
from fullfolj.bank.models import Entry
from fullfolj.grades.models import Grade
from fullfolj.schools import models as s
from fullfolj.support import actions as support
from tests import factories as f

START = dt.date(2025, 10, 6)  # a Monday: before is 8 Sep–5 Oct, after 6 Oct–2 Nov
TODAY = dt.date(2026, 3, 18)
# pupil: absent minutes of 300 before and after, passed subjects (of 3) before and after
PUPILS = [
    (60, 30, 1, 2),
    (30, 30, 2, 2),
    (90, 30, 0, 1),
    (0, 0, 3, 3),
    (30, 0, 1, 3),
]
GRADES = {0: ["F", "F", "F"], 1: ["E", "F", "F"], 2: ["E", "C", "F"], 3: ["A", "B", "C"]}


@pytest.fixture
def town(db):
    org = f.organiser("Lillby")
    school = f.school(org, "Lillbyskolan", (7, 9))
    f.school_year(dt.date(2024, 8, 19))  # spring 2025 ends 12 June: the grades before
    _year, autumn, _spring = f.school_year(dt.date(2025, 8, 18))  # autumn ends 19 Dec: after
    spring_2025 = s.Term.objects.get(start=dt.date(2025, 1, 8))
    mentor = f.staff("lillby_mentor", (s.Role.MENTOR, school), org=org)
    subjects = [f.subject(code, code) for code in ("MA", "SV", "EN")]
    entry = Entry.objects.get(slug="dagsschema")
    made = []
    for number, (absent_before, absent_after, passed_before, passed_after) in enumerate(PUPILS):
        pupil = f.pupil(org, f"Elev{number}", "Lillbysson")
        case, _new = support.open_case(pupil, school=school, responsible=mentor, by=mentor)
        measure = actions.pick_entry(
            entry,
            case=case,
            fields={"title": entry.title, "start": START, "follow_up_on": START},
            by=mentor,
        )
        for day, absent in ((dt.date(2025, 9, 15), absent_before), (START, absent_after)):
            PupilDay.objects.create(
                pupil=pupil, organiser=org, date=day, scheduled_minutes=300, absent_minutes=absent
            )
        # outside both windows: never counted
        PupilDay.objects.create(
            pupil=pupil, organiser=org, date=dt.date(2025, 11, 3), scheduled_minutes=300,
            absent_minutes=300,
        )  # fmt: skip
        for term, passed in ((spring_2025, passed_before), (autumn, passed_after)):
            for subject, grade in zip(subjects, GRADES[passed], strict=True):
                Grade.objects.create(
                    pupil=pupil, organiser=org, subject=subject, term=term, school=school,
                    grade=grade,
                )  # fmt: skip
        made.append((pupil, case, measure))
    refresh_pupil_periods()
    return org, school, mentor, entry, made


def test_before_and_after_by_hand(town):
    org, school, mentor, entry, made = town
    # judgements: the latest evaluation of each measure counts
    for (_p, _c, measure), judgements in zip(
        made, [["unchanged", "better"], ["worse"], ["better"]], strict=False
    ):
        for number, judgement in enumerate(judgements):
            support.evaluate(
                measure,
                judgement=judgement,
                text="Uppföljning",
                evaluated_on=START + dt.timedelta(weeks=4 + number),
                figures={},
                by=mentor,
                close=number == len(judgements) - 1,
                next_follow_up=START + dt.timedelta(weeks=10),
            )
    # a second use by the first pupil counts as a use, not as a second pupil
    _first_pupil, first_case, _m = made[0]
    actions.pick_entry(
        entry,
        case=first_case,
        fields={"title": "Igen", "start": dt.date(2026, 1, 12), "follow_up_on": TODAY},
        by=mentor,
    )
    # a pupil who started two weeks ago: used, but too recent for the figures
    late = f.pupil(org, "Sen", "Lillbysson")
    late_case, _new = support.open_case(late, school=school, responsible=mentor, by=mentor)
    actions.pick_entry(
        entry,
        case=late_case,
        fields={"title": entry.title, "start": dt.date(2026, 3, 2), "follow_up_on": TODAY},
        by=mentor,
    )

    figures = queries.outcomes(entry, [org.pk], TODAY)

    assert figures.uses == 7
    assert figures.pupils == 6
    assert figures.too_recent == 1
    assert figures.judgements == {"better": 2, "unchanged": 0, "worse": 1}
    assert figures.evaluated == 3
    # attendance before 80, 90, 70, 100, 90; after 90, 90, 90, 100, 100 (percent)
    # changes 10, 0, 20, 0, 10: mean 8, sample variance 280/4 = 70, t(4) = 2.776
    attendance = figures.attendance
    assert attendance.pupils == 5
    assert attendance.before == pytest.approx(86)
    assert attendance.after == pytest.approx(94)
    assert attendance.mean == pytest.approx(8)
    half = 2.776 * (70**0.5) / (5**0.5)
    assert attendance.low == pytest.approx(8 - half)
    assert attendance.high == pytest.approx(8 + half)
    # passed subjects 1, 2, 0, 3, 1 -> 2, 2, 1, 3, 3: changes 1, 0, 1, 0, 2, mean 0.8, var 0.7
    passed = figures.passed
    assert (passed.pupils, passed.before, passed.after) == (5, pytest.approx(1.4), 2.2)
    assert passed.mean == pytest.approx(0.8)
    assert passed.high == pytest.approx(0.8 + 2.776 * (0.7**0.5) / (5**0.5))


def test_another_municipality_is_not_counted(town):
    org, _school, _mentor, entry, _made = town
    elsewhere = f.organiser("Annanstad")
    assert queries.outcomes(entry, [elsewhere.pk], TODAY).uses == 0
    assert queries.outcomes(entry, [org.pk], TODAY).uses == 5


def test_below_five_pupils_it_is_too_few_to_say(town):
    org, _school, _mentor, entry, made = town
    pupil, _case, _measure = made[-1]
    PupilDay.objects.filter(pupil=pupil).delete()
    refresh_pupil_periods()
    Grade.objects.filter(pupil=pupil).delete()
    figures = queries.outcomes(entry, [org.pk], TODAY)
    assert figures.pupils == 5
    assert figures.attendance.pupils == 4 and figures.attendance.too_few
    assert figures.attendance.mean is None and figures.attendance.low is None
    assert figures.passed.too_few


def test_the_page_says_too_few_and_what_the_figures_cannot_say(client, town):
    _org, _school, mentor, entry, made = town
    pupil, _case, _measure = made[-1]
    PupilDay.objects.filter(pupil=pupil).delete()
    refresh_pupil_periods()
    client.force_login(mentor.user)
    body = client.get(f"/resursbank/{entry.slug}/").content.decode()
    assert "För få för att säga" in body
    assert "inte orsak och verkan" in body
    assert "8,4" not in body  # no interval is shown for four pupils


def test_t_table():
    assert queries.t95(4) == 2.776
    assert queries.t95(35) == 2.042  # the nearest smaller row: a slightly wider interval
    assert queries.t95(500) == 1.96
