"""Every oversight route, every role of the cast and the people with several: the officer alone
opens the lists and cases (and each named pupil of our records is logged); the term report,
figures only, is the officer's and the administration's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.compulsory import actions
from fullfolj.compulsory.importing import import_placements, import_register
from fullfolj.compulsory.models import OversightCase, Step

from . import world

OFFICER = {"officer"}
REPORT = {"officer", "admin", "teacher_admin"}


@pytest.fixture
def oversight(cast):
    world.organisers()
    import_register(world.register_csv(cast), organiser=cast.org)
    import_placements(world.placements_csv(), organiser=cast.org)
    actions.run_check(cast.org, day=world.DAY, by=None)
    return OversightCase.objects.get(kind="ended")  # Elis, a pupil of our records


def _get_routes(case):
    step = case.steps.first()
    return {
        "compulsory:home": reverse("compulsory:home"),
        "compulsory:case": reverse("compulsory:case", args=[case.pk]),
        "compulsory:report": reverse("compulsory:report"),
    }, step


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", ["compulsory:home", "compulsory:case", "compulsory:report"])
def test_pages(client, cast, oversight, who, route):
    client.force_login(getattr(cast, who).user)
    urls, _step = _get_routes(oversight)
    response = client.get(urls[route])
    allowed = REPORT if route == "compulsory:report" else OFFICER
    assert response.status_code == (200 if who in allowed else 404)
    body = response.content.decode()
    if route == "compulsory:report":
        assert "Ekström" not in body and "Nyström" not in body  # no names in the report
    elif who in allowed:
        assert "Elis Ekström" in body
        assert AccessLog.objects.filter(
            staff=getattr(cast, who), pupil=cast.moved_away, role="attendance_officer"
        ).exists()
    else:
        assert "Ekström" not in body
        assert not AccessLog.objects.filter(staff=getattr(cast, who)).exists()


@pytest.mark.parametrize("who", ROLES)
def test_writes(client, cast, oversight, who):
    client.force_login(getattr(cast, who).user)
    step = oversight.steps.get()
    day = world.DAY.isoformat()
    posts = [
        (reverse("compulsory:check"), {"day": day}),
        (
            reverse("compulsory:upload"),
            {"kind": "register", "file": SimpleUploadedFile("f.csv", world.register_csv(cast))},
        ),
        (reverse("compulsory:add-step", args=[oversight.pk]), {"kind": "decision", "due": day}),
        (reverse("compulsory:complete-step", args=[step.pk]), {"on": day}),
        (reverse("compulsory:take-up-absence", args=[cast.pupil.pk]), {}),
        (reverse("compulsory:close-case", args=[oversight.pk]), {"reason": "moved", "on": day}),
    ]
    codes = [client.post(url, data).status_code for url, data in posts]
    if who in OFFICER:
        assert codes == [302, 302, 302, 302, 404, 302]  # Alva has no long absence
        oversight.refresh_from_db()
        assert oversight.closed_on == world.DAY and oversight.reason == "moved"
        assert Step.objects.filter(case=oversight, kind="decision").exists()
    else:
        assert codes == [404] * 6
        oversight.refresh_from_db()
        assert oversight.is_open and oversight.steps.count() == 1


def test_the_officer_of_another_municipality_sees_nothing(client, cast, oversight):
    from fullfolj.schools.models import Organiser, Role, StaffRole
    from tests import factories as f

    other = Organiser.objects.get(name="Grannby kommun")
    stranger = f.staff("stranger", org=other)
    StaffRole.objects.create(staff=stranger, organiser=other, role=Role.ATTENDANCE_OFFICER)
    client.force_login(stranger.user)
    assert client.get(reverse("compulsory:case", args=[oversight.pk])).status_code == 404
    assert "Ekström" not in client.get(reverse("compulsory:home")).content.decode()


def test_a_protected_child_is_shown_without_address(client, cast, oversight):
    client.force_login(cast.officer.user)
    freja = OversightCase.objects.get(personnummer=world.FREJA)
    body = client.get(reverse("compulsory:case", args=[freja.pk])).content.decode()
    assert "Freja Fors" in body and "Skyddad väg" not in body
    gustav = OversightCase.objects.get(personnummer=world.GUSTAV)
    assert (
        "Storgatan 9" in client.get(reverse("compulsory:case", args=[gustav.pk])).content.decode()
    )


def test_a_bad_upload_names_its_rows_and_writes_nothing(client, cast):
    client.force_login(cast.officer.user)
    raw = world.register_csv(cast).replace(b";9999;;;nej;Storgatan 9", b";99x;;;nej;Storgatan 9")
    response = client.post(
        reverse("compulsory:upload"),
        {"kind": "register", "file": SimpleUploadedFile("f.csv", raw)},
    )
    assert response.status_code == 400
    assert "Folkbokföringskommun" in response.content.decode()
    from fullfolj.compulsory.models import Resident

    assert not Resident.objects.exists()


def test_overdue_steps_on_the_officers_pages(client, cast, oversight):
    step = oversight.steps.get()
    Step.objects.filter(pk=step.pk).update(due=dt.date(2026, 3, 1))
    client.force_login(cast.officer.user)
    home = client.get(reverse("compulsory:home")).content.decode()
    overdue = home.split('id="overdue"')[1].split("</section>")[0]
    assert "Elis Ekström" in overdue
    start = client.get(reverse("elevakt:home")).content.decode()
    assert "Elis Ekström" in start and reverse("compulsory:case", args=[oversight.pk]) in start
