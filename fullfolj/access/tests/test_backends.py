"""The login backend: the user comes with their staff record, or not at all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from fullfolj.access.backends import StaffBackend


def test_the_staff_record_comes_with_the_user(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = StaffBackend().get_user(cast.teacher.user.pk)
        assert user.staff == cast.teacher


@pytest.mark.django_db
def test_a_user_without_staff_record_has_none_and_costs_no_query(django_assert_num_queries):
    plain = User.objects.create_user("plain", password="x" * 12)
    with django_assert_num_queries(1):
        user = StaffBackend().get_user(plain.pk)
        assert getattr(user, "staff", None) is None


def test_inactive_or_missing_users_are_not_signed_in(cast):
    user = cast.teacher.user
    user.is_active = False
    user.save()
    assert StaffBackend().get_user(user.pk) is None
    assert StaffBackend().get_user(10**9) is None


def test_a_password_still_signs_in(cast, client):
    user = cast.teacher.user
    user.set_password("rätt lösenord 123")
    user.save()
    assert client.login(username=user.username, password="rätt lösenord 123")
    assert not client.login(username=user.username, password="fel")
