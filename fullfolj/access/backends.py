"""Authentication: Django's model backend, loading the staff record with the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """ModelBackend whose per-request user lookup joins the staff record.

    Every page goes through the gate, which reads `request.user.staff`: one query, not two.
    """

    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.select_related("staff")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
