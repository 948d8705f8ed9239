"""Student-health data asks for a second factor: a TOTP code (django-otp) or an identity provider
that asserted one; the organiser says for which kinds. Every route that shows such data obeys."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import TODAY
from fullfolj.access import gate
from fullfolj.access.models import SecondFactorRequirement
from fullfolj.access.sso import IDP_SECOND_FACTOR
from fullfolj.api.models import ApiToken
from fullfolj.ladder import actions as ladder_actions
from fullfolj.ladder.models import LadderStep, LadderTask
from fullfolj.support import actions, eht
from fullfolj.support.models import Measure
from tests.factories import login_with_second_factor

NOTICE = "Det här kräver tvåstegsverifiering"
HEALTH_NOTE = "Samtal om sömnen och oron hemma."
MAPPING_HEALTH = "Astma, medicinerar dagligen."
INVESTIGATION_TEXT = "Kurator: oro för hemsituationen."
MINUTES_TEXT = "Skolsköterskan följer upp huvudvärken."


@pytest.fixture
def case(cast):
    opened, _new = actions.open_case(
        cast.pupil, school=cast.north, responsible=cast.mentor, by=cast.mentor
    )
    actions.add_entry(
        opened,
        kind="note",
        occurred_on=TODAY,
        text=HEALTH_NOTE,
        by=cast.health_two,
        restricted=True,
    )
    actions.add_entry(
        opened,
        kind="note",
        occurred_on=TODAY,
        text="Mentorn ringde hem.",
        by=cast.mentor,
        restricted=False,
    )
    actions.write_mapping(
        opened,
        sections={"teaching": "Behöver struktur.", "health": MAPPING_HEALTH},
        prefill={},
        written_on=TODAY,
        by=cast.nurse,
        restricted=True,
    )
    return opened


@pytest.fixture
def investigation(cast):
    step = LadderStep.objects.filter(organiser=None, actor="student_health").order_by("order")
    task = LadderTask.objects.create(
        pupil=cast.pupil,
        step=step.first(),
        school=cast.north,
        actor="student_health",
        opened_on=TODAY,
        due=TODAY + dt.timedelta(days=14),
        reason="frånvaro 22,0 %",
    )
    ladder_actions.close_task(
        task, kind="meeting", date=TODAY, text=INVESTIGATION_TEXT, by=cast.nurse
    )
    return task


def code_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def case_page(client, case) -> str:
    return client.get(reverse("support:case", args=[case.pk])).content.decode()


# --- The case page ----------------------------------------------------------------------


def test_a_health_entry_is_not_read_without_the_second_factor(client, cast, case):
    client.force_login(cast.nurse.user)
    body = case_page(client, case)
    assert HEALTH_NOTE not in body
    assert NOTICE in body
    # The rest of the case stays readable, and the entry's existence shows.
    assert "Mentorn ringde hem." in body
    assert "Syns bara för elevhälsoteamet och rektor" in body
    assert f'href="{reverse("access:second-factor")}?next=' in body


def test_after_a_right_code_the_entry_is_read(client, cast, case):
    device = TOTPDevice.objects.create(user=cast.nurse.user, name="Telefon", confirmed=True)
    client.force_login(cast.nurse.user)
    target = reverse("support:case", args=[case.pk])
    response = client.post(
        reverse("access:second-factor"), {"code": code_now(device), "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == target
    body = case_page(client, case)
    assert HEALTH_NOTE in body
    assert NOTICE not in body


def test_a_wrong_code_is_refused_logged_and_throttled(client, cast, case, caplog):
    device = TOTPDevice.objects.create(user=cast.nurse.user, name="Telefon", confirmed=True)
    client.force_login(cast.nurse.user)
    right = code_now(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with caplog.at_level(logging.WARNING, logger="fullfolj.access.second_factor"):
        response = client.post(reverse("access:second-factor"), {"code": wrong})
    assert response.status_code == 400
    assert "Koden var fel eller har gått ut" in response.content.decode()
    assert any("wrong code" in r.getMessage() for r in caplog.records)
    assert wrong not in caplog.text  # the log names the refusal, never the code
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Right away, even the right code waits for the throttle.
    response = client.post(reverse("access:second-factor"), {"code": right})
    assert response.status_code == 400
    assert "Vänta 1 sekunder" in response.content.decode()
    assert HEALTH_NOTE not in case_page(client, case)


def test_a_code_that_is_not_six_digits_is_refused(client, cast):
    TOTPDevice.objects.create(user=cast.nurse.user, name="Telefon", confirmed=True)
    client.force_login(cast.nurse.user)
    response = client.post(reverse("access:second-factor"), {"code": "12ab"})
    assert response.status_code == 400
    assert "Ange de sex siffror appen visar." in response.content.decode()


def test_the_identity_providers_second_factor_counts(client, cast, case):
    client.force_login(cast.nurse.user)
    session = client.session
    session[IDP_SECOND_FACTOR] = True
    session.save()
    body = case_page(client, case)
    assert HEALTH_NOTE in body
    assert NOTICE not in body


def test_with_the_requirement_off_for_entries_they_are_read_without(client, cast, case):
    SecondFactorRequirement.objects.create(organiser=cast.org, health_entries=False)
    client.force_login(cast.nurse.user)
    assert HEALTH_NOTE in case_page(client, case)


def test_the_mapping_health_section_follows_its_own_kind(client, cast, case):
    client.force_login(cast.nurse.user)
    # Off by default: the mapping's health section reads without a code ...
    body = case_page(client, case)
    assert MAPPING_HEALTH in body
    # ... until the organiser turns it on.
    SecondFactorRequirement.objects.create(organiser=cast.org, mapping_health=True)
    body = case_page(client, case)
    assert MAPPING_HEALTH not in body
    assert "Behöver struktur." in body


@pytest.mark.parametrize(
    ("who", "reads_with_factor"),
    [
        ("health_two", True),  # counsellor at both schools
        ("doctor", True),
        ("principal", True),
        ("mentor", False),  # the case's responsible: never health data
        ("mentor_principal", False),  # mentor here, principal at the other school
    ],
)
def test_multi_role_staff_read_only_through_a_health_role_and_a_factor(
    client, cast, case, who, reads_with_factor
):
    user = getattr(cast, who).user
    client.force_login(user)
    body = case_page(client, case)
    assert HEALTH_NOTE not in body
    assert (NOTICE in body) is reads_with_factor
    login_with_second_factor(client, user)
    assert (HEALTH_NOTE in case_page(client, case)) is reads_with_factor


# --- Every other route that shows health data -------------------------------------------


@pytest.fixture
def minutes(cast, case):
    return eht.record_minutes(
        case, day=TODAY, text=MINUTES_TEXT, decision="", agreed=[], done=[], by=cast.nurse
    )


def routes(cast, case, investigation) -> list[tuple[str, str]]:
    return [
        (reverse("support:case", args=[case.pk]), HEALTH_NOTE),
        (reverse("support:case", args=[case.pk]) + "?alla=1", MINUTES_TEXT),
        (reverse("support:case", args=[case.pk]), INVESTIGATION_TEXT),
        (reverse("followup:eht-minutes", args=[case.pk]), MINUTES_TEXT),
        (
            reverse("followup:eht-agenda", args=[cast.north.pk]) + "?datum=" + TODAY.isoformat(),
            MINUTES_TEXT,
        ),
        (reverse("ladder:task", args=[investigation.pk]), INVESTIGATION_TEXT),
        (reverse("elevakt:pupil", args=[cast.pupil.pk]), INVESTIGATION_TEXT),
    ]


def test_every_route_that_shows_health_data_asks_for_the_factor(
    client, cast, case, minutes, investigation
):
    # Make the case due on the agenda, so the agenda shows its latest minutes.
    Measure.objects.create(
        case=case,
        kind=Measure.Kind.ACTION_PROGRAMME,
        title="Åtgärdsprogram",
        start=TODAY - dt.timedelta(days=30),
        follow_up_on=TODAY,
        responsible=cast.mentor,
    )
    client.force_login(cast.principal.user)
    for url, secret in routes(cast, case, investigation):
        body = client.get(url).content.decode()
        assert secret not in body, url
        assert NOTICE in body, url
    login_with_second_factor(client, cast.principal.user)
    for url, secret in routes(cast, case, investigation):
        assert secret in client.get(url).content.decode(), url


def test_the_register_extract_asks_for_the_factor_first(client, cast, case):
    client.force_login(cast.principal.user)
    url = reverse("records:extract-json", args=[cast.pupil.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:second-factor"))
    login_with_second_factor(client, cast.principal.user)
    response = client.get(url)
    assert response.status_code == 200
    assert HEALTH_NOTE in response.content.decode()


def test_an_api_token_carries_no_second_factor(client, cast, case):
    _token, key = ApiToken.issue(cast.principal)
    response = client.get(reverse("api:case", args=[case.pk]), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert HEALTH_NOTE not in response.content.decode()
    request = RequestFactory().get("/")
    request.user = cast.principal.user  # as the token sets it: no is_verified
    request.session = {IDP_SECOND_FACTOR: True}
    assert not gate.has_second_factor(request)


# --- Setting up a device ------------------------------------------------------------------


def test_without_a_device_the_code_page_leads_to_the_set_up(client, cast, case):
    client.force_login(cast.nurse.user)
    target = reverse("support:case", args=[case.pk])
    response = client.get(reverse("access:second-factor"), {"next": target})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:second-factor-setup"))


def test_setting_up_shows_a_qr_code_and_its_first_code_verifies(client, cast, case):
    client.force_login(cast.nurse.user)
    target = reverse("support:case", args=[case.pk])
    setup = reverse("access:second-factor-setup")
    body = client.get(setup, {"next": target}).content.decode()
    assert '<svg class="qr" role="img"' in body
    assert "style=" not in body.split('<svg class="qr"')[1].split("</svg>")[0]
    device = TOTPDevice.objects.get(user=cast.nurse.user)
    assert not device.confirmed
    # Reloading shows the same device, not a new one.
    client.get(setup)
    assert TOTPDevice.objects.filter(user=cast.nurse.user).count() == 1
    response = client.post(setup, {"code": code_now(device), "next": target})
    assert response.status_code == 302
    assert response["Location"] == target
    device.refresh_from_db()
    assert device.confirmed
    assert HEALTH_NOTE in case_page(client, case)


def test_a_login_with_a_device_adds_no_other_before_giving_its_code(client, cast):
    TOTPDevice.objects.create(user=cast.nurse.user, name="Telefon", confirmed=True)
    client.force_login(cast.nurse.user)
    response = client.get(reverse("access:second-factor-setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:second-factor"))
    assert TOTPDevice.objects.filter(user=cast.nurse.user).count() == 1


def test_the_return_address_stays_on_this_site(client, cast):
    device = TOTPDevice.objects.create(user=cast.nurse.user, name="Telefon", confirmed=True)
    client.force_login(cast.nurse.user)
    response = client.post(
        reverse("access:second-factor"),
        {"code": code_now(device), "next": "https://example.com/phish"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("elevakt:home")


def test_the_wait_after_wrong_codes_ends(client, cast, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 18, 10, 0, tzinfo=dt.UTC), tick=False)
    device = TOTPDevice.objects.create(user=cast.nurse.user, name="Telefon", confirmed=True)
    client.force_login(cast.nurse.user)
    right = code_now(device)
    client.post(reverse("access:second-factor"), {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    time_machine.move_to(dt.datetime(2026, 3, 18, 10, 0, 31, tzinfo=dt.UTC), tick=False)
    assert time.time() == dt.datetime(2026, 3, 18, 10, 0, 31, tzinfo=dt.UTC).timestamp()
    response = client.post(reverse("access:second-factor"), {"code": code_now(device)})
    assert response.status_code == 302
