"""Every endpoint, every role and the people who hold several: a token sees exactly what its
owner sees on the pages, and every pupil it is shown is logged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import (
    LOGGED_ROLE,
    NORTH_WIDE,
    PUPIL_PAGE,
    PUPILS,
    ROLES,
    SOUTH_WIDE,
)
from fullfolj.attendance.models import LessonAttendance


def names(body: dict | list, cast) -> set[str]:
    text = str(body)
    return {name for name in PUPILS if getattr(cast, name).last_name in text}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", ["api:pupil", "api:pupil-attendance", "api:pupil-flags"])
@pytest.mark.parametrize("whom", PUPILS)
def test_a_pupil_is_read_as_on_the_pupil_page(api, cast, flags, who, whom, route):
    target = getattr(cast, whom)

    response = api.get(who, reverse(route, args=[target.pk]))

    if who in PUPIL_PAGE[whom]:
        assert response.status_code == 200
        assert response.json()["pupil" if route != "api:pupil" else "id"] == target.pk
        entry = AccessLog.objects.get(staff=getattr(cast, who), pupil=target)
        assert entry.role == LOGGED_ROLE.get((who, whom), entry.role) != "unknown"
        assert entry.path == reverse(route, args=[target.pk])
    else:
        assert response.status_code == 404
        assert target.last_name not in response.content.decode()
        assert not AccessLog.objects.filter(pupil=target).exists()


@pytest.mark.parametrize("who", ROLES)
def test_the_pupil_list_is_whom_the_gate_shows(api, cast, who):
    response = api.get(who, reverse("api:pupils"))

    assert response.status_code == 200
    expected = {whom for whom in PUPILS if who in PUPIL_PAGE[whom]}
    body = response.json()
    assert body["count"] == len(expected)
    assert names(body["results"], cast) == expected
    logged = dict(
        AccessLog.objects.filter(staff=getattr(cast, who)).values_list("pupil__last_name", "role")
    )
    assert set(logged) == {getattr(cast, whom).last_name for whom in expected}
    for whom in expected:
        role = logged[getattr(cast, whom).last_name]
        assert role == LOGGED_ROLE.get((who, whom), role) != "unknown"


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize(
    ("school", "wide", "flagged"),
    [("north", NORTH_WIDE, {"pupil"}), ("south", SOUTH_WIDE, {"pupil_elsewhere"})],
)
def test_a_schools_risk_list_is_its_principals_and_student_health_teams(
    api, cast, flags, who, school, wide, flagged
):
    response = api.get(who, reverse("api:school-flags", args=[getattr(cast, school).pk]))

    if who in wide:
        assert response.status_code == 200
        assert names(response.json()["flagged"], cast) == flagged
        logged = AccessLog.objects.filter(staff=getattr(cast, who))
        assert {entry.pupil.last_name for entry in logged} == {
            getattr(cast, name).last_name for name in flagged
        }
    else:
        assert response.status_code == 404
        assert not names(response.json(), cast)
        assert not AccessLog.objects.exists()


def _marks(cast, minutes: int) -> dict:
    return {
        "version": cast.lesson.version,
        "marks": [{"pupil": cast.pupil.pk, "absent_minutes": minutes, "status": "invalid"}],
    }


@pytest.mark.parametrize("who", ROLES)
def test_a_lesson_register_is_its_teachers_and_its_principals(api, cast, who):
    url = reverse("api:lesson-register", args=[cast.lesson.pk])
    may = who in {"teacher", "principal"}

    read = api.get(who, url)
    saved = api.post(who, url, _marks(cast, 10))

    assert read.status_code == saved.status_code == (200 if may else 404)
    mark = LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil)
    assert mark.absent_minutes == (10 if may else 60)
    if may:
        assert names(read.json()["marks"], cast) == {"pupil"}
        assert AccessLog.objects.filter(staff=getattr(cast, who), pupil=cast.pupil).exists()
    else:
        assert not names(read.json(), cast)
        assert not AccessLog.objects.exists()


@pytest.mark.parametrize("who", ROLES)
def test_only_the_administration_imports(api, cast, who):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fullfolj.exchange.tests.test_upload import HEAD, PNR

    text = "\n".join([HEAD, f"{PNR[4]};Ada;Al;{cast.north.unit_code};7A;2026-02-27"])
    data = {"kind": "pupils", "file": SimpleUploadedFile("elever.csv", text.encode(), "text/csv")}

    from fullfolj.exchange import tasks
    from fullfolj.exchange.models import FileImport
    from fullfolj.schools.models import Pupil

    response = api.post(who, reverse("api:imports"), data, multipart=True)
    for queued in FileImport.objects.all():
        tasks.import_uploaded_file.call(queued.pk)

    may = who in {"admin", "teacher_admin"}
    assert response.status_code == (202 if may else 404), response.content
    assert Pupil.objects.filter(personnummer=PNR[4]).exists() == may


@pytest.mark.parametrize("who", ROLES)
def test_only_the_administration_reads_an_imports_status(api, cast, who):
    from django.utils import timezone

    from fullfolj.exchange.models import FileImport

    sent = FileImport.objects.create(
        organiser=cast.org,
        uploaded_by=cast.admin,
        uploaded_at=timezone.now(),
        kind="pupils",
        name="elever.csv",
        data=b"",
        status=FileImport.Status.DONE,
        outcome={"rows": 1, "created": 1, "changed": 0, "unchanged": 0},
    )

    response = api.get(who, reverse("api:import", args=[sent.pk]))

    may = who in {"admin", "teacher_admin"}
    assert response.status_code == (200 if may else 404), response.content
    assert ("elever.csv" in response.content.decode()) == may


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("whom", ["pupil", "protected", "pupil_elsewhere"])
@pytest.mark.parametrize("route", ["api:pupil-cases", "api:case"])
def test_support_cases_are_read_as_on_the_support_pages(api, cast, support, who, whom, route):
    from fullfolj.support.tests.test_access import MAY_SEE

    made = support[whom]
    target = made.pupil.pk if route == "api:pupil-cases" else made.case.pk

    response = api.get(who, reverse(route, args=[target]))

    if who in MAY_SEE[whom]:
        assert response.status_code == 200
        body = response.json()
        case = body["cases"][0] if route == "api:pupil-cases" else body
        assert case["id"] == made.case.pk
        assert [m["title"] for m in case["measures"]] == ["Åtgärdsprogram"]
        assert "Behov av stöd" not in str(body)  # the programme's text stays on its page
        entry = AccessLog.objects.get(staff=getattr(cast, who), pupil=made.pupil)
        assert entry.role != "unknown"
    else:
        assert response.status_code == 404
        assert not names(response.json(), cast)
        assert not AccessLog.objects.filter(pupil=made.pupil).exists()
