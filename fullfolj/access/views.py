"""Access pages: logging in and out, the read log of a pupil's record for their principal, the
page a login throttled by axes gets, and the second factor's code and set-up pages."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import gate, oidc, second_factor
from .forms import CodeForm
from .models import AccessLog

log = logging.getLogger(__name__)

# The pages a read can come from, by URL name, in words a principal recognises.
PAGE_NAMES = {
    "elevakt:pupil": gettext_lazy("Pupil page"),
    "attendance:pupil-calendar": gettext_lazy("Attendance calendar"),
    "access:pupil-reads": gettext_lazy("Who has read the record"),
    "elevakt:school-pupils": gettext_lazy("School's pupil list"),
    "elevakt:my-pupils": gettext_lazy("My pupils"),
    "elevakt:group": gettext_lazy("Group's pupil list"),
    "attendance:group-absence": gettext_lazy("Group's absence"),
    "attendance:mentees-absence": gettext_lazy("Absence of my pupils"),
    "attendance:lesson-register": gettext_lazy("Lesson register"),
    "attendance:settle": gettext_lazy("Absence to settle"),
    "ladder:my-tasks": gettext_lazy("My tasks"),
    "ladder:task": gettext_lazy("Ladder task"),
    "elevakt:school-riskzon": gettext_lazy("Risk zone"),
    "elevakt:municipality-riskzon": gettext_lazy("Risk zone"),
}


def page_name(path: str) -> str:
    """The page a logged read came from, in words; the admin and unknown paths as they are."""
    try:
        name = resolve(path).view_name
    except Resolver404:
        return path
    return str(PAGE_NAMES.get(name, path))


@login_required
def pupil_reads(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Who read this pupil's record, when, through which role and on which page."""
    pupil = gate.get_pupil_access_log_or_404(request, pupil_id)
    entries = AccessLog.objects.filter(pupil=pupil).select_related("staff").order_by("-at", "-pk")
    page = Paginator(entries, 50).get_page(request.GET.get("sida"))
    return render(
        request,
        "access/pupil_reads.html",
        {
            "title": _("Who read %(pupil)s's record") % {"pupil": pupil.full_name},
            "pupil": pupil,
            "page": page,
            "entries": [(entry, page_name(entry.path)) for entry in page],
        },
    )


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """Explain the pause and how long it lasts, as 429 Too Many Requests (axes' default)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)


class SignInView(auth_views.LoginView):
    """The login page: the municipality's sign-on when set up, the password form unless it is
    switched off (FULLFOLJ_LOCAL_PASSWORDS=0), when a posted password is refused."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_sign_on"] = oidc.is_configured()
        context["local_passwords"] = settings.FULLFOLJ_LOCAL_PASSWORDS
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.FULLFOLJ_LOCAL_PASSWORDS:
            log.warning("password login refused: local passwords are switched off")
            return self.render_to_response(self.get_context_data(), status=403)
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response


class SignOutView(auth_views.LogoutView):
    """Ends the session here, then at the identity provider if the login came from there."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        at_provider = oidc.provider_logout_url(request)  # read before the session ends
        response: HttpResponse = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response


def _next_page(request: HttpRequest) -> str:
    """Where to return after the code: the page that asked for it, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


@login_required
@require_http_methods(["GET", "POST"])
def verify_second_factor(request: HttpRequest) -> HttpResponse:
    """Enter the code from the authenticator app; then back to the page that asked for it."""
    gate.viewer_for(request)  # staff only
    target = _next_page(request)
    device = second_factor.confirmed_device(request.user)
    if device is None:
        return redirect(_with_next("access:second-factor-setup", target))
    form = CodeForm(request.POST or None)
    refusal = _check(request, form, device)
    if refusal is None and request.method == "POST":
        return redirect(target)
    return render(
        request,
        "access/second_factor_verify.html",
        {"title": _("Enter your code"), "form": form, "next": target, "refusal": refusal},
        status=400 if refusal else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def set_up_second_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code, enter its first code. A login that has a
    device already adds no other without first giving a code from it."""
    viewer = gate.viewer_for(request)
    target = _next_page(request)
    if second_factor.confirmed_device(request.user) and not viewer.second_factor:
        return redirect(_with_next("access:second-factor", target))
    device = second_factor.device_to_set_up(request.user)
    form = CodeForm(request.POST or None)
    refusal = _check(request, form, device)
    if refusal is None and request.method == "POST":
        return redirect(target)
    return render(
        request,
        "access/second_factor_setup.html",
        {
            "title": _("Set up two-step verification"),
            "form": form,
            "next": target,
            "refusal": refusal,
            "qr": second_factor.qr_svg(device, label=_("QR code for your authenticator app")),
            "secret": second_factor.secret_text(device),
        },
        status=400 if refusal else 200,
    )


def _check(request: HttpRequest, form: CodeForm, device: Any) -> str | None:
    """None when there is nothing to refuse (a GET, or a right code); else why not, in words."""
    if request.method != "POST":
        return None
    if not form.is_valid():
        return _("Enter the six digits the app shows.")
    wait = second_factor.wait_seconds(device)
    if wait is not None:
        second_factor.log.warning(
            "second factor refused: user %s tried again within the wait", device.user_id
        )
        return _("Too many wrong codes in a row. Wait %(seconds)s seconds and try again.") % {
            "seconds": wait
        }
    if not second_factor.check_code(request, device, form.cleaned_data["code"]):
        return _("The code was wrong or has expired. Enter the code the app shows now.")
    return None
