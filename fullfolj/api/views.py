"""The REST API (docs/api.md): the pages' reads and writes for programs, through the same gate.

Each view asks the gate exactly as its page does, logs every pupil it returns, and answers
"not found" where the page would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fullfolj.access import gate
from fullfolj.attendance import actions as attendance_actions
from fullfolj.attendance import queries as attendance
from fullfolj.attendance.forms import PeriodForm, RegisterForm, register_state
from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance
from fullfolj.exchange import actions as exchange
from fullfolj.exchange.forms import MAX_BYTES
from fullfolj.exchange.models import FileImport
from fullfolj.exchange.tabular import load, presets, reader
from fullfolj.lib import clock
from fullfolj.schools.calendar import term_and_recent_windows
from fullfolj.schools.models import Placement, Pupil, Role
from fullfolj.screening import queries as screening
from fullfolj.support import queries as support
from fullfolj.support.models import Case

from . import serializers as s

ERRORS = {
    401: s.ErrorSerializer,
    403: s.ErrorSerializer,
    404: s.ErrorSerializer,
}
# Roles that reach a pupil across the whole organiser, not through the school: a protected
# identity's school stays hidden from them (as in the pupil search).
ORGANISER_WIDE = {str(Role.ADMINISTRATION), str(Role.ATTENDANCE_OFFICER)}


def _http(request: Request) -> HttpRequest:
    """The Django request under DRF's, which the gate takes (the user is set on both)."""
    return request._request


def _pupils_out(viewer: gate.Viewer, pupils: list[Pupil], roles: dict[int, str]) -> list[dict]:
    placements = {
        p.pupil_id: p
        for p in Placement.objects.active_on(clock.today())
        .filter(pupil_id__in=[p.pk for p in pupils])
        .select_related("school", "school_class")
        .order_by("start")
    }
    out = []
    for pupil in pupils:
        details = not pupil.protected_identity or viewer.sees_protected_details
        placement = placements.get(pupil.pk)
        if not details and roles.get(pupil.pk) in ORGANISER_WIDE:
            placement = None
        out.append(
            {
                "id": pupil.pk,
                "first_name": pupil.first_name,
                "last_name": pupil.last_name,
                "birth_date": pupil.birth_date,
                "protected_identity": pupil.protected_identity,
                "school": (
                    {"id": placement.school.pk, "name": placement.school.name}
                    if placement
                    else None
                ),
                "school_class": (
                    placement.school_class.name if placement and placement.school_class else None
                ),
                "address": pupil.address if details else None,
            }
        )
    return out


class PupilPages(PageNumberPagination):
    page_size = 100
    page_query_param = "page"


class PupilList(APIView):
    @extend_schema(
        operation_id="pupils_list",
        summary="The pupils the token's owner may see",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="Page, from 1.")],
        responses={200: s.PupilPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        viewer = gate.viewer_for(_http(request))
        pages = PupilPages()
        pupils = gate.pupils_visible_to(viewer).order_by("last_name", "first_name", "pk")
        page = pages.paginate_queryset(pupils, request, view=self) or []
        roles = viewer.role_map([p.pk for p in page])
        gate.record_reads(_http(request), page, role=roles)
        return pages.get_paginated_response(_pupils_out(viewer, page, roles))


class PupilDetail(APIView):
    @extend_schema(
        operation_id="pupil_retrieve",
        summary="One pupil",
        responses={200: s.PupilSerializer, **ERRORS},
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        pupil = gate.get_pupil_or_404(_http(request), pupil_id)
        viewer = gate.viewer_for(_http(request))
        roles = {pupil.pk: viewer.role_for(pupil)}
        return Response(_pupils_out(viewer, [pupil], roles)[0])


def _absence(window: tuple[dt.date, dt.date], absence: attendance.Absence) -> dict[str, Any]:
    return {
        "start": window[0],
        "end": window[1],
        "scheduled_minutes": absence.scheduled,
        "absent_minutes": absence.absent,
        "valid_minutes": absence.valid,
        "invalid_minutes": absence.invalid,
        "unknown_minutes": absence.unknown,
        "late_minutes": absence.late,
        "absent_percent": absence.total_rate,
        "invalid_percent": absence.invalid_rate,
    }


def _form_problems(form: PeriodForm) -> list[str]:
    return [
        f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
        for name, messages in form.errors.items()
        for message in messages
    ]


class PupilAttendance(APIView):
    @extend_schema(
        operation_id="pupil_attendance",
        summary="A pupil's absence: this term, the last four weeks, and a period if asked",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day (with end)."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (with start)."),
        ],
        responses={200: s.AttendanceSummarySerializer, 400: s.ProblemsSerializer, **ERRORS},
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        params = request.query_params
        asked = "start" in params or "end" in params
        form = PeriodForm(params if asked else None)
        if asked and not form.is_valid():
            # Refused before the record is read (and logged), and not found for those who
            # may not see the pupil, as the calendar page does.
            viewer = gate.viewer_for(_http(request))
            if not gate.pupils_visible_to(viewer).filter(pk=pupil_id).exists():
                raise Http404
            return Response(
                {"detail": _("The period is not valid."), "problems": _form_problems(form)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        pupil = gate.get_pupil_or_404(_http(request), pupil_id)
        windows = term_and_recent_windows(clock.today())
        if asked:
            windows["period"] = (form.cleaned_data["start"], form.cleaned_data["end"])
        absence = attendance.absence_by_pupil([pupil.pk], windows)[pupil.pk]
        body: dict[str, Any] = {
            "pupil": pupil.pk,
            **{name: _absence(windows[name], absence[name]) for name in windows},
        }
        body.setdefault("period", None)
        return Response(body)


def _run(run: Any) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"id": run.pk, "as_of": run.as_of, "finished_at": run.finished_at}


class PupilFlags(APIView):
    @extend_schema(
        operation_id="pupil_flags",
        summary="A pupil's screening flags in the latest run",
        responses={200: s.PupilFlagsSerializer, **ERRORS},
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        pupil = gate.get_pupil_or_404(_http(request), pupil_id)
        run, flags = screening.pupil_flags(pupil)
        return Response(
            {
                "pupil": pupil.pk,
                "run": _run(run),
                "flags": [
                    {
                        "rule": flag.rule_code,
                        "rule_name": getattr(flag, "rule_name", flag.rule_code),
                        "explanation": flag.explanation,
                    }
                    for flag in flags
                ],
            }
        )


def _case(case: Case) -> dict[str, Any]:
    """A case as its page heads it, with its measures; no entries, mapping or health text."""
    responsible = case.responsible
    return {
        "id": case.pk,
        "pupil": case.pupil_id,
        "school": {"id": case.school.pk, "name": case.school.name},
        "status": case.status,
        "opened_from": case.opened_from,
        "reason": case.reason,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "responsible": (
            {"id": responsible.pk, "name": responsible.full_name} if responsible else None
        ),
        "measures": [
            {
                "id": m.pk,
                "kind": m.kind,
                "title": m.title,
                "start": m.start,
                "follow_up_on": m.follow_up_on,
                "status": m.status,
                "decision": m.decision,
                "decided_on": m.decided_on,
            }
            for m in case.measures.all()
        ],
    }


class PupilCases(APIView):
    @extend_schema(
        operation_id="pupil_cases",
        summary="A pupil's support cases: for the mentor, the school's principal and "
        "student-health team, and whoever is on a case",
        responses={200: s.PupilCasesSerializer, **ERRORS},
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        viewer = gate.viewer_for(_http(request))
        pupil = gate.get_support_pupil_or_404(_http(request), pupil_id, Case.objects.all())
        cases = support.cases_of(pupil, viewer)
        return Response({"pupil": pupil.pk, "cases": [_case(case) for case in cases]})


class CaseDetail(APIView):
    @extend_schema(
        operation_id="case",
        summary="One support case and its measures",
        responses={200: s.CaseSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        cases = Case.objects.select_related("school", "responsible").prefetch_related("measures")
        case = gate.get_case_or_404(_http(request), cases, case_id)
        return Response(_case(case))


class SchoolFlags(APIView):
    @extend_schema(
        operation_id="school_flags",
        summary="A school's risk list with names: its principal and student-health team",
        responses={200: s.SchoolFlagsSerializer, **ERRORS},
    )
    def get(self, request: Request, school_id: int) -> Response:
        viewer = gate.viewer_for(_http(request))
        school = gate.get_school_or_404(_http(request), school_id)
        if not gate.names_at_school(viewer, school):
            raise Http404  # the administration's figures are on the municipality page
        listing = screening.riskzon(
            school.organiser_id, gate.pupils_visible_to(viewer), school=school
        )
        gate.record_reads(_http(request), listing.pupil_ids(), role=viewer.school_role(school.pk))
        return Response(
            {
                "school": {"id": school.pk, "name": school.name},
                "run": _run(listing.run),
                "flagged": [
                    {
                        "pupil": row.pupil.pk,
                        "first_name": row.pupil.first_name,
                        "last_name": row.pupil.last_name,
                        "rules": row.rules,
                        "explanations": row.explanations,
                        "is_new": row.is_new,
                        "has_action": row.has_action,
                    }
                    for row in listing.rows
                ],
                "left": [p.pk for p in listing.left],
            }
        )


def _status(row: LessonAttendance | None) -> str:
    if row is None or not row.absent_minutes:
        return "unknown"
    if row.reason_id:
        return row.reason.code  # type: ignore[union-attr]
    return {None: "unknown", False: "invalid", True: "valid"}[row.is_valid]


def _register(lesson: Lesson, form: RegisterForm) -> dict[str, Any]:
    return {
        "lesson": lesson.pk,
        "group": str(lesson.group),
        "subject": str(lesson.subject),
        "start": lesson.start,
        "minutes": lesson.minutes,
        "version": lesson.version,
        "registered_at": lesson.registered_at,
        "reasons": [
            {"code": r.code, "name": r.name, "valid": r.is_valid} for r in form.reasons.values()
        ],
        "marks": [
            {
                "pupil": row.pupil.pk,
                "first_name": row.pupil.first_name,
                "last_name": row.pupil.last_name,
                "absent_minutes": mark.absent_minutes if mark else 0,
                "late_minutes": mark.late_minutes if mark else 0,
                "status": _status(mark),
            }
            for row in form.rows
            for mark in [form.loaded.rows.get(row.pupil.pk)]
        ],
    }


def _posted(lesson: Lesson, version: int, marks: Iterable[dict[str, Any]]) -> QueryDict:
    """The register form's data for these marks: the API saves through the page's form.

    The state names the client's version with no digest of marks, so the save expects exactly
    that version: any mark saved since it was read is a conflict.
    """
    data = QueryDict(mutable=True)
    data["state"] = register_state(lesson.pk, version, "")
    for mark in marks:
        prefix = f"p{mark['pupil']}"
        data.appendlist("pupil", str(mark["pupil"]))
        if mark["absent_whole"]:
            data[f"{prefix}-absent_whole"] = "on"
        data[f"{prefix}-absent_minutes"] = str(mark["absent_minutes"] or "")
        data[f"{prefix}-late_minutes"] = str(mark["late_minutes"] or "")
        data[f"{prefix}-status"] = mark["status"]
    return data


class LessonRegister(APIView):
    parser_classes = [JSONParser]

    def _lesson(self, request: Request, lesson_id: int) -> Lesson:
        registers = Lesson.objects.select_related(
            "group__school", "subject", "teacher", "registered_by"
        )
        return gate.get_lesson_or_404(_http(request), registers, lesson_id)

    def _answer(self, request: Request, lesson: Lesson, role: str, **kwargs: Any) -> Response:
        roster, _role = gate.lesson_roster(_http(request), lesson)
        form = RegisterForm(lesson, roster=roster)
        gate.record_reads(_http(request), [row.pupil for row in form.rows], role=role)
        return Response(_register(lesson, form), **kwargs)

    @extend_schema(
        operation_id="register_retrieve",
        summary="A lesson's register: its teacher, and the principal of its school",
        responses={200: s.RegisterSerializer, **ERRORS},
    )
    def get(self, request: Request, lesson_id: int) -> Response:
        lesson = self._lesson(request, lesson_id)
        _roster, role = gate.lesson_roster(_http(request), lesson)
        return self._answer(request, lesson, role)

    @extend_schema(
        operation_id="register_save",
        summary="Save marks in a lesson's register (once the lesson has started)",
        request=s.RegisterInSerializer,
        responses={
            200: s.RegisterSerializer,
            400: s.ProblemsSerializer,
            409: s.ConflictSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, lesson_id: int) -> Response:
        lesson = self._lesson(request, lesson_id)
        roster, role = gate.lesson_roster(_http(request), lesson)
        given = s.RegisterInSerializer(data=request.data)
        if not given.is_valid():
            return _invalid(given.errors)
        marks = given.validated_data["marks"]
        pupils = [mark["pupil"] for mark in marks]
        if len(set(pupils)) != len(pupils):
            return _problems([_("A pupil is marked more than once.")])
        form = RegisterForm(
            lesson, _posted(lesson, given.validated_data["version"], marks), roster=roster
        )
        if lesson.start > clock.now() or not form.is_valid():
            problems = [p.text for p in form.problems] if form.data is not None else []
            if lesson.start > clock.now():
                problems.insert(0, _("The lesson has not started yet."))
            gate.record_reads(_http(request), [row.pupil for row in form.rows], role=role)
            return _problems(problems)
        try:
            attendance_actions.register_lesson(
                lesson,
                form.marks(),
                by=gate.viewer_for(_http(request)).staff,
                expected_version=form.version,
                loaded=form.loaded,
            )
        except attendance_actions.StaleRegister as stale:
            shown = {row.pupil.pk for row in form.rows}
            return Response(
                {
                    "detail": _(
                        "Someone else saved this register after version %(version)s was read. "
                        "Read it again and save your marks on top."
                    )
                    % {"version": given.validated_data["version"]},
                    "version": stale.lesson.version,
                    "changes": _changes(c for c in stale.changes if c.attendance.pupil_id in shown),
                },
                status=status.HTTP_409_CONFLICT,
            )
        except ValidationError as error:
            return _problems(error.messages)
        lesson.refresh_from_db()
        return self._answer(request, lesson, role)


def _changes(changes: Iterable[AttendanceChange]) -> list[dict[str, Any]]:
    return [
        {
            "pupil": change.attendance.pupil_id,
            "changed_by": change.changed_by.full_name if change.changed_by else None,
            "changed_at": change.changed_at,
        }
        for change in changes
    ]


def _problems(problems: list[str]) -> Response:
    return Response(
        {"detail": _("Nothing was saved."), "problems": problems},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _invalid(errors: Any) -> Response:
    """A serializer's errors as one list of lines, each naming its field."""

    def lines(value: Any, path: str) -> Iterable[str]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from lines(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                if isinstance(inner, dict | list):
                    yield from lines(inner, f"{path}[{index}]")
                else:
                    yield f"{path}: {inner}"
        else:
            yield f"{path}: {value}"

    return _problems(list(lines(errors, "")))


class Import(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="import_file",
        summary="Send a CSV or Excel file to be imported in the background: the administration",
        description="The file is checked and imported, all or nothing, by the background "
        "worker, as from the upload page. The answer names the address to read its progress "
        "and outcome from (also in `Location`).",
        request={"multipart/form-data": s.ImportInSerializer},
        responses={202: s.ImportQueuedSerializer, 400: s.ImportRejectedSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        viewer = gate.viewer_for(_http(request))
        organiser = gate.administered_organiser_or_404(viewer)
        given = s.ImportInSerializer(data=request.data)
        if not given.is_valid():
            return _rejected(
                _("Nothing was imported."),
                [
                    load.Problem(0, str(name), " ".join(map(str, errors)))
                    for name, errors in given.errors.items()
                ],
            )
        upload = given.validated_data["file"]
        if upload.size > MAX_BYTES:
            return _rejected(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_BYTES // 2**20}, []
            )
        kind, preset = given.validated_data["kind"], given.validated_data["preset"]
        known = presets.presets_for(kind, organiser)
        if preset and preset not in known:
            return _rejected(
                _("No column map for this kind is named “%(name)s”.") % {"name": preset}, []
            )
        data, name = upload.read(), upload.name or ""
        try:  # a file that cannot be read at all is refused at once, as on the upload page
            reader.read(data, name)
        except reader.FileRejected as error:
            return _rejected(str(error), [])
        queued = exchange.queue_file(
            organiser,
            kind=kind,
            name=name,
            data=data,
            columns=known.get(preset, {}),
            check_only=given.validated_data["check_only"],
            by=viewer.staff,
        )
        url = reverse("api:import", args=[queued.pk])
        return Response(
            {"id": queued.pk, "status": queued.status, "url": request.build_absolute_uri(url)},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


class ImportStatus(APIView):
    @extend_schema(
        operation_id="import_status",
        summary="A sent file's progress, and its outcome: counts, or every bad row",
        responses={200: s.ImportStatusSerializer, **ERRORS},
    )
    def get(self, request: Request, import_id: int) -> Response:
        # The file is its organiser's administration's, as on the upload page.
        organiser = gate.administered_organiser_or_404(gate.viewer_for(_http(request)))
        sent = get_object_or_404(
            FileImport.objects.defer("data").exclude(status=FileImport.Status.PREVIEW),
            pk=import_id,
            organiser=organiser,
        )
        outcome = sent.outcome if not sent.is_running else {}
        problems = [load.Problem(*p) for p in outcome.get("problems", [])]
        counts = ("rows", "created", "changed", "unchanged")
        return Response(
            {
                "id": sent.pk,
                "kind": sent.kind,
                "name": sent.name,
                "check_only": sent.check_only,
                "status": sent.status,
                "running": sent.is_running,
                "percent": sent.percent,
                "rows_done": sent.rows_done,
                "rows_total": sent.rows_total,
                "uploaded_at": sent.uploaded_at,
                "finished_at": sent.finished_at,
                "result": {key: outcome[key] for key in counts} if "rows" in outcome else None,
                "detail": outcome.get("error")
                or (_("Nothing was imported: the file has bad rows.") if problems else ""),
                "problems": _problems_out(problems),
            }
        )


def _problems_out(problems: list[load.Problem]) -> list[dict[str, Any]]:
    return [
        {"line": p.line, "column": p.column, "reason": p.reason, "text": str(p)} for p in problems
    ]


def _rejected(detail: str, problems: list[load.Problem]) -> Response:
    return Response(
        {
            "detail": detail,
            "problems": _problems_out(problems),
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


@csrf_exempt  # it changes nothing; a program's POST to a wrong address gets the 404
def unknown(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other address under the API, such as an id that is no number: JSON, as a program
    expects, never the site's HTML page."""
    return JsonResponse({"detail": _("No such address in the API.")}, status=404)
