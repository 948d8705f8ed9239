"""Registering lessons: today's lessons for a teacher and the register of one lesson."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.lib import clock

from . import actions
from .forms import RegisterForm
from .models import AttendanceChange, Lesson


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """Dagens lektioner: the signed-in teacher's lessons today, each linking to its register."""
    viewer = gate.viewer_for(request)
    day = clock.today()
    lessons = (
        Lesson.objects.filter(teacher=viewer.staff, date=day)
        .select_related("group", "subject")
        .order_by("start")
    )
    return render(
        request,
        "attendance/lesson_today.html",
        {
            "title": _("Today's lessons"),
            "lessons": lessons,
            "day": day,
            "now": clock.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def lesson_register(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The register of one lesson: everyone present by default, one save for the group."""
    lesson = gate.get_lesson_or_404(request, lesson_id)
    has_started = lesson.start <= clock.now()
    conflict: list[AttendanceChange] = []
    status = 200
    if request.method == "POST" and not has_started:
        form = RegisterForm(lesson, request.POST)
        status = 400
    elif request.method == "POST":
        form = RegisterForm(lesson, request.POST)
        if form.is_valid():
            try:
                actions.register_lesson(
                    lesson,
                    form.marks(),
                    by=gate.viewer_for(request).staff,
                    expected_version=form.version,
                )
            except actions.StaleRegister as stale:
                conflict = stale.changes
                form = RegisterForm(
                    stale.lesson, form.with_version(stale.lesson.version), conflicts=conflict
                )
                form.is_valid()
                status = 409
            except ValidationError as error:  # the group changed between form and save
                form.version_error = " ".join(error.messages)
                status = 400
            else:
                messages.success(request, _("The register is saved."))
                return redirect("attendance:lesson-register", lesson_id=lesson.pk)
        else:
            status = 400
    else:
        form = RegisterForm(lesson)
    history = (
        AttendanceChange.objects.filter(lesson=lesson)
        .select_related("attendance__pupil", "changed_by")
        .order_by("-changed_at", "-pk")
    )
    return render(
        request,
        "attendance/lesson_register.html",
        {
            "title": f"{lesson.subject}, {lesson.group}",
            "lesson": lesson,
            "form": form,
            "has_started": has_started,
            "starts": date_format(timezone.localtime(lesson.start), "j F H:i"),
            "conflict": conflict,
            "history": history,
        },
        status=status,
    )
