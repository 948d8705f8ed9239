"""Single sign-on's matching of a provider's person to a staff login."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import override_settings

from fullfolj.access import sso


def test_the_email_matches_whatever_its_case(cast: SimpleNamespace) -> None:
    cast.mentor.email = "Mentor@Testkommun.se"
    cast.mentor.save()
    assert sso.staff_user("mentor@testkommun.se", provider="OIDC") == cast.mentor.user


@override_settings(FULLFOLJ_SSO_MATCH="employee_number")
def test_the_employee_number_matches_when_configured(cast: SimpleNamespace) -> None:
    cast.nurse.email = "nurse@testkommun.se"
    cast.nurse.employee_number = "40117"
    cast.nurse.save()
    assert sso.staff_user("40117", provider="SAML") == cast.nurse.user
    assert sso.staff_user("nurse@testkommun.se", provider="SAML") is None


def test_an_unknown_or_inactive_person_is_refused_and_logged(
    cast: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    assert sso.staff_user("nobody@testkommun.se", provider="OIDC") is None
    assert sso.staff_user("", provider="OIDC") is None
    cast.teacher.email = "teacher@testkommun.se"
    cast.teacher.save()
    cast.teacher.user.is_active = False
    cast.teacher.user.save()
    assert sso.staff_user("teacher@testkommun.se", provider="OIDC") is None
    assert "nobody@testkommun.se" in caplog.text and "missing" in caplog.text


def test_two_staff_logins_with_one_address_are_refused_not_guessed(
    cast: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    cast.mentor.email = "shared@testkommun.se"
    cast.mentor.save()
    cast.teacher.email = "Shared@testkommun.se"
    cast.teacher.save()
    assert sso.staff_user("shared@testkommun.se", provider="OIDC") is None
    assert "more than one staff login" in caplog.text


@override_settings(FULLFOLJ_SSO_MATCH="name")
def test_a_wrong_setting_says_what_it_may_be(cast: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="email, employee_number"):
        sso.staff_user("x", provider="OIDC")
