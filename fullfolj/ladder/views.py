"""The ladder's pages: Mina uppgifter, and one task with its documentation form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fullfolj.access import gate
from fullfolj.lib import clock

from . import actions, hooks, queries
from .forms import CloseTaskForm


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    """Mina uppgifter: the signed-in staff member's open ladder tasks, soonest due first."""
    viewer = gate.viewer_for(request)
    tasks = list(queries.tasks_for(viewer))
    shown = {task.pupil_id for task in tasks}
    gate.record_reads(request, shown, role=viewer.role_map(shown))
    return render(
        request,
        "ladder/task_list.html",
        {
            "title": _("My tasks"),
            "tasks": tasks,
            "today": clock.today(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """One task: why it opened, and closing it by documenting what was done."""
    viewer = gate.viewer_for(request)
    task = gate.get_task_or_404(request, queries.visible_tasks(viewer), task_id)
    gate.get_pupil_or_404(request, task.pupil_id)  # logs the read of the pupil's record
    may_close = gate.may_close_task(viewer, task)
    status = 200
    if request.method == "POST" and not may_close:
        refusal, status = (
            (_("Only the person who acts on this step may close it."), 403)
            if task.is_open
            else (_("This task is already closed."), 409)
        )
        return HttpResponse(refusal, status=status, content_type="text/plain; charset=utf-8")
    if request.method == "POST":
        form = CloseTaskForm(request.POST, first=actions.documentable_from(task))
        if form.is_valid():
            try:
                actions.close_task(
                    task,
                    kind=form.cleaned_data["kind"],
                    date=form.cleaned_data["date"],
                    text=form.cleaned_data["text"],
                    by=viewer.staff,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
                status = 400
            else:
                messages.success(request, _("The task is closed and what was done is kept."))
                return redirect("ladder:task", task_id=task.pk)
        else:
            status = 400
    else:
        form = CloseTaskForm(initial={"date": clock.today()}, first=actions.documentable_from(task))
    records_access = gate.task_records_access(viewer, task)
    return render(
        request,
        "ladder/task_detail.html",
        {
            "title": task.step.name,
            "task": task,
            "form": form,
            "today": clock.today(),
            "may_close": may_close,
            "records": task.records.select_related("by"),
            "records_readable": records_access is gate.HealthAccess.READ,
            "records_locked": records_access is gate.HealthAccess.VERIFY,
            "links": hooks.task_links(viewer, task),
        },
        status=status,
    )
