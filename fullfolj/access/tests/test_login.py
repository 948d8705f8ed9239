"""Logging in: guesses are throttled per account and per address, passwords must be strong,
sessions end with the browser or a working day's idleness, and no cache keeps a signed-in page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fullfolj.schools import models as s
from fullfolj.simulation.loader import DEMO_PASSWORD, create_logins

LIMIT = 5  # failed logins before the lock
HOME = "192.0.2.10"  # the address the account's owner logs in from


@pytest.fixture(autouse=True)
def _throttled(settings):
    settings.AXES_ENABLED = True


def attempt(client, username, password, address=HOME, **headers):
    """One login through the login form, from `address`."""
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_locked_out(response, client):
    assert response.status_code == 429
    assert not signed_in(client)
    body = response.content.decode()
    assert "Inloggningen är spärrad en stund" in body
    assert '<html lang="sv">' in body
    assert f"{LIMIT} misslyckade inloggningsförsök" in body
    assert "Försök igen om 15 minuter" in body


def test_the_limit_is_five_wrong_passwords_with_a_cool_off():
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert dt.timedelta(minutes=5) <= settings.AXES_COOLOFF_TIME <= dt.timedelta(hours=1)


def test_a_few_wrong_passwords_still_let_the_right_one_in(cast, client):
    for _ in range(LIMIT - 1):
        response = attempt(client, "teacher", "fel lösenord")
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
    response = attempt(client, "teacher", "pw-teacher")
    assert response.status_code == 302
    assert signed_in(client)


def test_wrong_passwords_from_many_addresses_lock_the_account(cast, client):
    for n in range(LIMIT):
        attempt(client, "teacher", "fel lösenord", address=f"198.51.100.{n}")
    # The owner, from their usual address, with the right password: still refused.
    assert_locked_out(attempt(client, "teacher", "pw-teacher"), client)
    # Another account is not affected.
    assert attempt(client, "mentor", "pw-mentor").status_code == 302


def test_wrong_passwords_from_one_address_lock_that_address(cast, client):
    attacker = "203.0.113.7"
    for n in range(LIMIT):  # a different account each time: password spraying
        attempt(client, f"guess{n}", "sommar2026", address=attacker)
    assert_locked_out(attempt(client, "teacher", "pw-teacher", address=attacker), client)
    # The same account from elsewhere logs in.
    assert attempt(client, "teacher", "pw-teacher").status_code == 302
    assert signed_in(client)


def test_behind_a_proxy_failures_count_against_the_client_not_the_proxy(cast, client, settings):
    settings.FULLFOLJ_TRUSTED_PROXIES = 1
    proxy, attacker = "10.0.0.1", "203.0.113.7"
    for n in range(LIMIT):
        # What the attacker writes into X-Forwarded-For themselves changes nothing.
        forwarded = f"198.51.100.{n}, {attacker}"
        attempt(client, f"guess{n}", "sommar2026", proxy, HTTP_X_FORWARDED_FOR=forwarded)
    locked = attempt(client, "teacher", "pw-teacher", proxy, HTTP_X_FORWARDED_FOR=attacker)
    assert_locked_out(locked, client)
    colleague = attempt(client, "teacher", "pw-teacher", proxy, HTTP_X_FORWARDED_FOR=HOME)
    assert colleague.status_code == 302


def test_the_lock_lifts_after_the_cool_off(cast, client):
    for _ in range(LIMIT):
        attempt(client, "teacher", "fel lösenord")
    assert attempt(client, "teacher", "pw-teacher").status_code == 429
    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert attempt(client, "teacher", "pw-teacher").status_code == 302


@pytest.mark.django_db
def test_demo_logins_still_sign_in_with_the_printed_password(client):
    # The demo sets its password directly: the validators guard forms, not the simulator.
    s.Staff.objects.create(first_name="Dana", last_name="Demo", username="dana.demo")
    assert create_logins() == 1
    assert attempt(client, "dana.demo", DEMO_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password",
    [
        "kort-ord1",  # under 12 characters
        "password1234",  # a common password
        "482915736201",  # only digits
        "Teacher12345",  # the user name and a number
    ],
)
def test_weak_passwords_are_refused(cast, password):
    with pytest.raises(ValidationError):
        validate_password(password, cast.teacher.user)


def test_a_long_passphrase_is_accepted(cast):
    validate_password("blå hästar springer fort", cast.teacher.user)


def test_the_session_ends_with_the_browser(cast, client):
    attempt(client, "teacher", "pw-teacher")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert not cookie["expires"]
    assert not cookie["max-age"]


def test_the_session_ends_after_a_working_day_without_requests(cast, client):
    page = reverse("elevakt:my-groups")
    assert 8 * 3600 <= settings.SESSION_COOKIE_AGE <= 10 * 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        attempt(client, "teacher", "pw-teacher")
    # Busy all day: every request pushes the end further away.
    for hours in (7, 14, 21):
        with time_machine.travel(start + dt.timedelta(hours=hours), tick=False):
            assert client.get(page).status_code == 200
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(start + dt.timedelta(hours=21) + idle, tick=False):
        response = client.get(page)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_pages_read_soon_after_each_other_do_not_rewrite_the_session(cast, client):
    attempt(client, "teacher", "pw-teacher")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("elevakt:my-groups")).status_code == 200
    writes = [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert writes == []


def test_signed_in_pages_are_not_stored(cast, client):
    client.force_login(cast.teacher.user)
    response = client.get(reverse("elevakt:my-groups"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_anonymous_responses_are_left_to_the_view(client):
    # Nothing personal to keep: the redirect to the login page gets no header from us.
    response = client.get(reverse("elevakt:my-groups"))
    assert response.status_code == 302
    assert "Cache-Control" not in response
