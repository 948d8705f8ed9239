"""Small builders for test data; the `cast` fixture in conftest.py uses them."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from fullfolj.attendance.models import AbsenceReason, Lesson, LessonAttendance
from fullfolj.lib import personnummer
from fullfolj.schools import models as s

_serial = itertools.count(100)  # three digits: wraps after 999, long before a test needs it
_code = itertools.count(10000001)


def organiser(name: str = "Testkommun") -> s.Organiser:
    return s.Organiser.objects.create(name=name, kind="municipality", municipality_code="9999")


def school(
    org: s.Organiser, name: str = "Norrskolan", grades: tuple[int, int] = (7, 9)
) -> s.School:
    return s.School.objects.create(
        organiser=org,
        name=name,
        unit_code=str(next(_code)),
        grade_from=grades[0],
        grade_to=grades[1],
    )


def school_year(start: dt.date = dt.date(2025, 8, 18)) -> tuple[s.SchoolYear, s.Term, s.Term]:
    year = s.SchoolYear.objects.create(
        name=f"{start.year}/{(start.year + 1) % 100:02d}",
        start=start,
        end=dt.date(start.year + 1, 6, 12),
    )
    autumn = s.Term.objects.create(
        school_year=year, kind="HT", start=start, end=dt.date(start.year, 12, 19)
    )
    spring = s.Term.objects.create(
        school_year=year,
        kind="VT",
        start=dt.date(start.year + 1, 1, 8),
        end=dt.date(start.year + 1, 6, 12),
    )
    return year, autumn, spring


def pupil(
    org: s.Organiser,
    first: str,
    last: str,
    *,
    protected: bool = False,
    born: dt.date = dt.date(2012, 5, 4),
) -> s.Pupil:
    return s.Pupil.objects.create(
        organiser=org,
        personnummer=personnummer.make(born, 100 + next(_serial) % 900),
        first_name=first,
        last_name=last,
        legal_gender="F",
        birth_date=born,
        protected_identity=protected,
        address=f"{last}vägen 3, 123 45 Testby",
        municipality_of_residence=org,
    )


def staff(username: str, *roles: tuple[str, s.School | None], org: s.Organiser) -> s.Staff:
    user = User.objects.create_user(username=username, password="pw-" + username)
    member = s.Staff.objects.create(
        user=user, first_name=username.title(), last_name="Testsson", username=username
    )
    for role, where in roles:
        s.StaffRole.objects.create(staff=member, organiser=org, school=where, role=role)
    return member


def place(
    p: s.Pupil,
    sch: s.School,
    klass: s.SchoolClass | None,
    start: dt.date,
    end: dt.date | None = None,
) -> s.Placement:
    return s.Placement.objects.create(
        pupil=p, organiser=sch.organiser, school=sch, school_class=klass, start=start, end=end
    )


def subject(code: str = "MA", name: str = "Matematik") -> s.Subject:
    return s.Subject.objects.get_or_create(code=code, defaults={"name": name})[0]


def reasons() -> dict[str, AbsenceReason]:
    rows = [
        ("SJUK", "Sjukdom", True),
        ("LEDIG", "Beviljad ledighet", True),
        ("OGIL", "Ogiltig frånvaro", False),
    ]
    return {
        code: AbsenceReason.objects.get_or_create(code=code, defaults={"name": n, "is_valid": v})[0]
        for code, n, v in rows
    }


def lesson(
    group: s.TeachingGroup,
    subj: s.Subject,
    teacher: s.Staff,
    term: s.Term,
    when: dt.datetime,
    minutes: int = 60,
) -> Lesson:
    return Lesson.objects.create(
        group=group,
        subject=subj,
        teacher=teacher,
        term=term,
        date=when.date(),
        start=when,
        minutes=minutes,
    )


def mark(
    les: Lesson,
    p: s.Pupil,
    *,
    absent: int = 0,
    late: int = 0,
    valid: bool | None = None,
    reason: AbsenceReason | None = None,
) -> LessonAttendance:
    return LessonAttendance.objects.create(
        lesson=les,
        pupil=p,
        organiser=p.organiser,
        date=les.date,
        scheduled_minutes=les.minutes,
        absent_minutes=absent,
        late_minutes=late,
        is_valid=valid,
        reason=reason,
    )


def login_with_second_factor(client: Client, user: User) -> TOTPDevice:
    """Log the user in as having entered a code from a confirmed TOTP device (what
    django_otp.login keeps in the session), for tests of the data a second factor guards."""
    device, _new = TOTPDevice.objects.get_or_create(
        user=user, name="Test", defaults={"confirmed": True}
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
