"""A pupil's login reaches the questionnaire and nothing else: every other page is not found,
and the start page leads to the questionnaire. The gate refuses a user without a staff record
too; this keeps pages outside the gate (the admin, the API) closed as well."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


class PupilLoginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # Staff are looked up first: the gate reads `user.staff` anyway (cached on the user), so
        # a staff member's page pays no query here.
        is_staff = getattr(user, "staff", None) is not None
        if user.is_authenticated and not is_staff and hasattr(user, "kasam_pupil"):
            allowed = {reverse("kasam:answer"), reverse("logout"), reverse("set_language")}
            if request.path == reverse("elevakt:home"):
                return redirect("kasam:answer")
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                raise Http404
        return self.get_response(request)
