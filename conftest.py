"""Shared fixtures. The `cast`: one municipality with two schools, a person for every role, and
people who hold several roles at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone, translation
from hypothesis import HealthCheck, settings

from fullfolj.schools import models as s
from tests import factories as f
from tests.shipped import snapshot

# Timing belongs in the benchmarks: on a shared machine Hypothesis's own clocks (a deadline per
# example, "input generation is slow") would fail honest tests.
settings.register_profile("fullfolj", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fullfolj")

TODAY = dt.date(2026, 3, 18)  # a Wednesday in the spring term


@pytest.fixture(scope="session")
def shipped_rows(
    django_db_setup: object, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The rows the migrations ship, as a fixture file (tests/shipped.py), read before any test
    has run: `_shipped_rows_first` asks for it at the start of the session."""
    with django_db_blocker.unblock():
        return snapshot(tmp_path_factory.mktemp("shipped"))


@pytest.fixture(scope="session", autouse=True)
def _shipped_rows_first(request: pytest.FixtureRequest) -> None:
    """Read the shipped rows while the database is as the migrations left it.

    pytest-django creates the test database only when a collected test asks for it (through
    its `_django_db_helper`), so a run of pure tests has none to read."""
    if any(
        "_django_db_helper" in getattr(item, "fixturenames", ()) for item in request.session.items
    ):
        request.getfixturevalue("shipped_rows")


@pytest.fixture(autouse=True)
def _pinned_today(settings: object) -> None:
    settings.FULLFOLJ_TODAY = TODAY.isoformat()  # type: ignore[attr-defined]
    # Real hashing costs a third of a second per user; tests create dozens.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    # Login throttling needs the request, which the test client's login() does not pass;
    # the login tests and the browser tests (real login form) switch it on.
    settings.AXES_ENABLED = False  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _swedish_first() -> None:
    """Each test starts in Swedish, the product's language: a request in English (a cookie, a
    switch of language) leaves English active in the thread for whatever runs next."""
    translation.activate("sv")


@pytest.fixture
def cast(db: object) -> SimpleNamespace:
    org = f.organiser()
    north = f.school(org, "Norrskolan", (7, 9))
    south = f.school(org, "Söderskolan", (0, 6))
    year, autumn, spring = f.school_year()
    c7a = s.SchoolClass.objects.create(school=north, school_year=year, name="7A", grade=7)
    c3b = s.SchoolClass.objects.create(school=south, school_year=year, name="3B", grade=3)

    pupil = f.pupil(org, "Alva", "Åkesson")
    other_pupil = f.pupil(org, "Bilal", "Bäckström")
    protected = f.pupil(org, "Cora", "Cöster", protected=True)
    pupil_elsewhere = f.pupil(org, "Dino", "Dählgren", born=dt.date(2017, 2, 3))
    moved_away = f.pupil(org, "Elis", "Ekström")
    for p in (pupil, other_pupil, protected):
        f.place(p, north, c7a, year.start)
    f.place(pupil_elsewhere, south, c3b, year.start)
    f.place(moved_away, north, c7a, year.start, end=dt.date(2026, 1, 31))
    guardian = s.Guardian.objects.create(
        first_name="Gustav",
        last_name="Carlsson",
        email="gustav@example.se",
        address="Hemliga gatan 1",
    )
    s.Guardianship.objects.create(pupil=protected, guardian=guardian)
    parent = s.Guardian.objects.create(
        first_name="Greta", last_name="Andersson", email="greta@example.se", address="Allén 2"
    )
    s.Guardianship.objects.create(pupil=pupil, guardian=parent)

    R = s.Role
    mentor = f.staff("mentor", (R.TEACHER, north), (R.MENTOR, north), org=org)
    other_mentor = f.staff("other_mentor", (R.MENTOR, north), org=org)
    teacher = f.staff("teacher", (R.TEACHER, north), org=org)
    teacher_elsewhere = f.staff("teacher_elsewhere", (R.TEACHER, south), org=org)
    principal = f.staff("principal", (R.PRINCIPAL, north), org=org)
    principal_elsewhere = f.staff("principal_elsewhere", (R.PRINCIPAL, south), org=org)
    nurse = f.staff("nurse", (R.SCHOOL_NURSE, north), org=org)
    admin = f.staff("admin", (R.ADMINISTRATION, None), org=org)
    officer = f.staff("officer", (R.ATTENDANCE_OFFICER, None), org=org)
    outsider = f.staff("outsider", org=org)
    # People with several roles: each relationship must count on its own.
    teacher_admin = f.staff("teacher_admin", (R.TEACHER, south), (R.ADMINISTRATION, None), org=org)
    mentor_principal = f.staff("mentor_principal", (R.MENTOR, north), (R.PRINCIPAL, south), org=org)
    health_two = f.staff("health_two", (R.COUNSELLOR, north), (R.COUNSELLOR, south), org=org)
    doctor = f.staff("doctor", (R.SCHOOL_DOCTOR, north), (R.SCHOOL_DOCTOR, south), org=org)

    for p in (pupil, protected):
        s.Mentorship.objects.create(pupil=p, mentor=mentor, start=year.start)
    s.Mentorship.objects.create(pupil=other_pupil, mentor=other_mentor, start=year.start)
    s.Mentorship.objects.create(pupil=other_pupil, mentor=mentor_principal, start=year.start)
    s.Mentorship.objects.create(
        pupil=moved_away, mentor=mentor, start=year.start, end=dt.date(2026, 1, 31)
    )

    maths = f.subject()
    group = s.TeachingGroup.objects.create(
        school=north, school_year=year, name="7A-MA", school_class=c7a
    )
    s.GroupMembership.objects.create(group=group, pupil=pupil, start=year.start)
    s.TeachingAssignment.objects.create(staff=teacher, group=group, subject=maths)
    group_south = s.TeachingGroup.objects.create(
        school=south, school_year=year, name="3B", school_class=c3b
    )
    s.GroupMembership.objects.create(group=group_south, pupil=pupil_elsewhere, start=year.start)
    s.TeachingAssignment.objects.create(staff=teacher_elsewhere, group=group_south, subject=maths)
    s.TeachingAssignment.objects.create(staff=teacher_admin, group=group_south, subject=maths)

    reasons = f.reasons()
    lesson = f.lesson(
        group, maths, teacher, spring, timezone.make_aware(dt.datetime(2026, 3, 16, 9, 0))
    )
    f.mark(lesson, pupil, absent=60, valid=False, reason=reasons["OGIL"])
    from fullfolj.attendance.actions import rebuild_pupil_days

    rebuild_pupil_days()
    return SimpleNamespace(**{k: v for k, v in locals().items() if not k.startswith("_")})
