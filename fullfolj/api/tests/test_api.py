"""Tokens, the protected identity, and the writes: the register's rules and the import's."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from fullfolj.api.models import ApiToken, digest
from fullfolj.attendance.models import AttendanceChange, LessonAttendance, PupilDay
from fullfolj.exchange import tasks
from fullfolj.exchange.models import FileImport
from fullfolj.exchange.tests.test_upload import HEAD, PNR
from fullfolj.schools.models import Pupil
from tests import factories as f

# --- Tokens -------------------------------------------------------------------------------


def test_without_a_token_the_answer_is_401(client, cast):
    response = client.get(reverse("api:pupils"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_refused_in_swedish(client, cast):
    response = client.get(reverse("api:pupils"), HTTP_AUTHORIZATION="Bearer ff_nonsense")

    assert response.status_code == 401
    assert response.json()["detail"] == "Token är inte giltig."


def test_a_revoked_token_and_an_inactive_login_are_refused(client, cast):
    token, key = ApiToken.issue(cast.mentor)
    header = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(reverse("api:pupils"), **header).status_code == 200

    token.is_active = False
    token.save()
    assert client.get(reverse("api:pupils"), **header).status_code == 401

    token.is_active = True
    token.save()
    cast.mentor.user.is_active = False
    cast.mentor.user.save()
    assert client.get(reverse("api:pupils"), **header).status_code == 401


def test_only_the_digest_is_stored_and_the_last_use_noted(client, cast):
    token, key = ApiToken.issue(cast.mentor, "Skolsystemet")
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert token.digest == digest(key)

    client.get(reverse("api:pupils"), HTTP_AUTHORIZATION=f"Token {key}")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_command_issues_a_token_that_works(client, cast):
    out = io.StringIO()

    call_command("api", "token", "mentor", "--name", "Schema", stdout=out, stderr=io.StringIO())

    key = out.getvalue().strip()
    assert ApiToken.objects.get(digest=digest(key)).staff == cast.mentor
    response = client.get(reverse("api:pupils"), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.json()["count"] == 2


def test_the_command_names_an_unknown_username(cast):
    with pytest.raises(CommandError, match="nobody"):
        call_command("api", "token", "nobody")


# --- Protected identity -------------------------------------------------------------------


def test_a_protected_identity_shows_no_address(api, cast):
    cast.protected.address = "Hemliga gatan 1"
    cast.protected.save()

    body = api.get("mentor", reverse("api:pupil", args=[cast.protected.pk])).json()

    assert body["last_name"] == "Cöster"
    assert body["address"] is None
    assert "Hemliga" not in str(body)


def test_the_address_needs_the_explicit_permission(api, cast):
    cast.protected.address = "Hemliga gatan 1"
    cast.protected.save()
    cast.principal.user.user_permissions.add(
        Permission.objects.get(codename="view_protected_identity")
    )

    body = api.get("principal", reverse("api:pupil", args=[cast.protected.pk])).json()

    assert body["address"] == "Hemliga gatan 1"


def test_the_administration_does_not_see_where_a_protected_pupil_goes(api, cast):
    cast.admin.user.user_permissions.add(Permission.objects.get(codename="view_pupil_names"))

    rows = api.get("admin", reverse("api:pupils")).json()["results"]

    by_name = {row["last_name"]: row for row in rows}
    assert by_name["Cöster"]["school"] is None
    assert by_name["Åkesson"]["school"]["name"] == "Norrskolan"


# --- Attendance summary -------------------------------------------------------------------


def test_the_summary_counts_the_pupils_absence(api, cast):
    url = reverse("api:pupil-attendance", args=[cast.pupil.pk])

    body = api.get("mentor", url, data={"start": "2026-03-16", "end": "2026-03-16"}).json()

    assert body["term"]["invalid_minutes"] == 60
    assert body["period"]["absent_minutes"] == 60
    assert body["period"]["start"] == "2026-03-16"


def test_a_bad_period_is_named_and_nothing_read(api, cast):
    from fullfolj.access.models import AccessLog

    url = reverse("api:pupil-attendance", args=[cast.pupil.pk])

    response = api.get("mentor", url, data={"start": "2026-03-20", "end": "2026-03-01"})

    assert response.status_code == 400
    assert "Till" in " ".join(response.json()["problems"])
    assert not AccessLog.objects.exists()
    other = api.get("teacher_elsewhere", url, data={"start": "x", "end": "y"})
    assert other.status_code == 404


# --- The register -------------------------------------------------------------------------


def register(api, cast, who="teacher", **mark):
    url = reverse("api:lesson-register", args=[cast.lesson.pk])
    version = api.get(who, url).json()["version"]
    body = {"version": version, "marks": [{"pupil": cast.pupil.pk, **mark}]}
    return api.post(who, url, body)


def test_a_saved_register_updates_the_marks_history_and_day_aggregates(api, cast):
    response = register(api, cast, absent_minutes=15, status="OGIL")

    assert response.status_code == 200, response.content
    assert response.json()["marks"][0]["absent_minutes"] == 15
    mark = LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil)
    assert (mark.absent_minutes, mark.is_valid) == (15, False)
    assert AttendanceChange.objects.filter(attendance=mark, changed_by=cast.teacher).exists()
    day = PupilDay.objects.get(pupil=cast.pupil, date=cast.lesson.date)
    assert day.invalid_minutes == 15


def test_a_stale_version_is_a_conflict_and_saves_nothing(api, cast):
    url = reverse("api:lesson-register", args=[cast.lesson.pk])
    version = api.get("teacher", url).json()["version"]
    first = {"version": version, "marks": [{"pupil": cast.pupil.pk, "absent_minutes": 5}]}
    assert api.post("principal", url, first).status_code == 200

    second = {"version": version, "marks": [{"pupil": cast.pupil.pk, "absent_minutes": 30}]}
    response = api.post("teacher", url, second)

    assert response.status_code == 409
    assert response.json()["changes"][0]["pupil"] == cast.pupil.pk
    assert response.json()["version"] == version + 1
    assert LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil).absent_minutes == 5


@pytest.mark.parametrize(
    ("mark", "words"),
    [
        ({"absent_minutes": 500}, "längre än lektionen"),
        ({"absent_minutes": 10, "status": "NOPE"}, "NOPE"),
        ({"late_minutes": -1}, "late_minutes"),
    ],
)
def test_a_bad_mark_is_named_and_nothing_saved(api, cast, mark, words):
    response = register(api, cast, **mark)

    assert response.status_code == 400
    assert words in " ".join(response.json()["problems"])
    assert LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil).absent_minutes == 60


def test_a_pupil_outside_the_group_is_refused(api, cast):
    url = reverse("api:lesson-register", args=[cast.lesson.pk])
    body = {
        "version": cast.lesson.version,
        "marks": [
            {"pupil": cast.pupil.pk, "absent_minutes": 5},
            {"pupil": cast.pupil_elsewhere.pk, "absent_minutes": 5},
        ],
    }

    response = api.post("teacher", url, body)

    assert response.status_code == 400
    assert str(cast.pupil_elsewhere.pk) in " ".join(response.json()["problems"])
    assert "Dählgren" not in response.content.decode()
    assert not LessonAttendance.objects.filter(pupil=cast.pupil_elsewhere).exists()
    assert LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil).absent_minutes == 60


def test_a_lesson_not_yet_started_is_not_registered(api, cast):
    later = f.lesson(
        cast.group,
        cast.maths,
        cast.teacher,
        cast.spring,
        timezone.make_aware(dt.datetime(2026, 3, 19, 9, 0)),
    )
    url = reverse("api:lesson-register", args=[later.pk])

    response = api.post(
        "teacher", url, {"version": 0, "marks": [{"pupil": cast.pupil.pk, "absent_whole": True}]}
    )

    assert response.status_code == 400
    assert not LessonAttendance.objects.filter(lesson=later).exists()


# --- Imports ------------------------------------------------------------------------------


def send(api, text: str, **extra):
    data = {"kind": "pupils", "file": SimpleUploadedFile("elever.csv", text.encode(), "text/csv")}
    return api.post("admin", reverse("api:imports"), data | extra, multipart=True)


def imported(api, sent, who: str = "admin"):
    """Let the worker run a sent file; its status as the sender then reads it."""
    assert sent.status_code == 202, sent.content
    tasks.import_uploaded_file.call(sent.json()["id"])
    return api.get(who, sent["Location"])


def test_a_sent_file_is_queued_and_its_status_named(api, cast):
    sent = send(api, f"{HEAD}\n{PNR[3]};Ada;Al;{cast.north.unit_code};;")

    assert sent.status_code == 202
    upload = FileImport.objects.get(pk=sent.json()["id"])
    assert (upload.status, upload.uploaded_by) == (FileImport.Status.QUEUED, cast.admin)
    assert sent["Location"] == reverse("api:import", args=[upload.pk])
    assert sent.json()["url"].endswith(sent["Location"])
    waiting = api.get("admin", sent["Location"])
    assert waiting.status_code == 200
    assert waiting.json() | {"status": "queued", "running": True, "result": None} == waiting.json()
    assert not Pupil.objects.filter(personnummer=PNR[3]).exists()  # not yet: the worker's


def test_a_bad_file_comes_back_row_by_row_and_the_fixed_one_imports(api, cast):
    code = cast.north.unit_code

    bad = imported(
        api,
        send(
            api,
            "\n".join(
                [HEAD, f"{PNR[0]};Ada;Al;{code};7A;2026-02-30", f"{PNR[1]};Bo;Bok;99999999;;"]
            ),
        ),
    )

    assert bad.status_code == 200
    assert bad.json() | {"status": "refused", "running": False, "result": None} == bad.json()
    assert [(p["line"], p["column"]) for p in bad.json()["problems"]] == [
        (2, "Startdatum"),
        (3, "Skolenhetskod"),
    ]
    assert bad.json()["problems"][0]["text"].startswith("Rad 2")
    assert bad.json()["detail"]
    assert not Pupil.objects.filter(personnummer__in=PNR).exists()

    good = imported(
        api,
        send(
            api,
            "\n".join([HEAD, f"{PNR[0]};Ada;Al;{code};7A;2026-02-27", f"{PNR[1]};Bo;Bok;{code};;"]),
        ),
    )

    assert good.json()["status"] == "done"
    assert good.json()["result"] | {"rows": 2, "created": 2} == good.json()["result"]
    assert (good.json()["problems"], good.json()["percent"]) == ([], 100)
    assert Pupil.objects.filter(personnummer__in=PNR).count() == 2


def test_a_file_that_cannot_be_read_is_refused_at_once(api, cast):
    data = {"kind": "pupils", "file": SimpleUploadedFile("elever.csv", b"\x00\x01\xff", "text/csv")}

    response = api.post("admin", reverse("api:imports"), data, multipart=True)

    assert response.status_code == 400
    assert response.json()["detail"]
    assert not FileImport.objects.exists()


def test_a_header_only_file_is_refused_by_the_worker(api, cast):
    status = imported(api, send(api, "Förnamn;Efternamn"))

    assert status.json()["status"] == "refused"
    assert status.json()["detail"] or status.json()["problems"]


def test_checking_only_imports_nothing(api, cast):
    sent = send(api, f"{HEAD}\n{PNR[2]};Ada;Al;{cast.north.unit_code};;", check_only="true")

    status = imported(api, sent)

    assert status.json()["status"] == "checked"
    assert status.json()["check_only"] is True
    assert status.json()["result"]["rows"] == 1
    assert not Pupil.objects.filter(personnummer=PNR[2]).exists()


def test_grades_import_by_a_built_in_column_map(api, cast):
    from fullfolj.grades.models import Grade

    text = "\n".join(
        [
            "Personnummer;Skolenhetskod;Ämneskod;Terminsbetyg;Period",
            f"{cast.pupil.personnummer};{cast.north.unit_code};MA;C;HT25",
        ]
    )

    unknown = send(api, text, kind="grades", preset="Inget sådant")
    assert unknown.status_code == 400
    assert not FileImport.objects.exists()  # refused before anything was kept
    response = imported(api, send(api, text, kind="grades", preset="Vklass-liknande"))

    assert response.json()["result"]["created"] == 1, response.content
    grade = Grade.objects.get(pupil=cast.pupil, subject__code="MA")
    assert (grade.grade, grade.term.kind) == ("C", "HT")


def test_another_organisers_import_is_not_found(api, cast):
    sent = send(api, f"{HEAD}\n{PNR[5]};Ada;Al;{cast.north.unit_code};;")
    url = sent["Location"]
    elsewhere = f.organiser(name="Grannkommunen")
    other = FileImport.objects.create(
        organiser=elsewhere,
        uploaded_at=timezone.now(),
        kind="pupils",
        name="deras.csv",
        data=b"",
        status=FileImport.Status.DONE,
    )

    assert api.get("teacher_admin", url).status_code == 200
    assert api.get("admin", reverse("api:import", args=[other.pk])).status_code == 404


def test_a_missing_kind_is_named(api, cast):
    response = api.post("admin", reverse("api:imports"), {}, multipart=True)

    assert response.status_code == 400
    assert {p["column"] for p in response.json()["problems"]} == {"kind", "file"}


# --- The schema and its page --------------------------------------------------------------


def test_the_schema_and_its_page_are_served(client, db):
    schema = client.get(reverse("api:schema") + "?format=json")
    page = client.get(reverse("api:docs"))

    assert schema.status_code == 200
    assert "/api/v1/lessons/{lesson_id}/register/" in schema.json()["paths"]
    assert page.status_code == 200
    assert "/api/v1/imports/" in page.content.decode()


def test_the_schema_is_valid_openapi():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)  # raises on an invalid schema
    assert schema["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_a_superuser_issues_a_token_in_the_admin_and_sees_it_once(client, cast, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-root")
    client.force_login(root)

    response = client.post(
        reverse("admin:api_apitoken_add"),
        {"staff": cast.teacher.pk, "name": "Skolsystemet", "is_active": "on"},
        follow=True,
    )

    token = ApiToken.objects.get(staff=cast.teacher)
    shown = [str(m) for m in response.context["messages"]]
    key = next(word for m in shown for word in m.split() if word.startswith("ff_"))
    assert digest(key) == token.digest
    page = client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()
    assert key not in page


def test_an_organisers_administrator_cannot_issue_tokens(client, cast):
    cast.admin.user.is_staff = True
    cast.admin.user.save()
    client.force_login(cast.admin.user)

    response = client.get(reverse("admin:api_apitoken_add"))

    assert response.status_code == 403
