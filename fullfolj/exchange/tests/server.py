"""A small SS 12000 server of our own for the import tests: consistent Swedish fixture data,
paging, meta.modified.after, deletions, and faults on demand (an error, a bad object, a page
token served again). Runs in a thread on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fullfolj.lib import personnummer

TOKEN = "hemlig-token"  # noqa: S105 - the fixture server's own
REPEATED = "samma-igen"
T0 = "2026-03-01T10:00:00+01:00"

HUVUDMAN = "10000000-0000-4000-8000-000000000001"
SKOLA = "10000000-0000-4000-8000-000000000002"
GYMNASIUM = "10000000-0000-4000-8000-000000000003"
ALVA = "20000000-0000-4000-8000-000000000001"
BILAL = "20000000-0000-4000-8000-000000000002"
CORA = "20000000-0000-4000-8000-000000000003"  # skyddad folkbokföring
GUARDIAN = "20000000-0000-4000-8000-000000000004"
LENA = "20000000-0000-4000-8000-000000000005"  # teacher and mentor
DUTY = "30000000-0000-4000-8000-000000000001"
KLASS = "40000000-0000-4000-8000-000000000001"
SYLLABUS = "50000000-0000-4000-8000-000000000001"
ACTIVITY = "60000000-0000-4000-8000-000000000001"
MONDAY = "70000000-0000-4000-8000-000000000001"
TUESDAY = "70000000-0000-4000-8000-000000000002"
ATT_ALVA_MON = "80000000-0000-4000-8000-000000000001"
ATT_BILAL_MON = "80000000-0000-4000-8000-000000000002"
ATT_ALVA_TUE = "80000000-0000-4000-8000-000000000003"
GRADE = "90000000-0000-4000-8000-000000000001"

PNR_ALVA = personnummer.make(dt.date(2012, 5, 4), 102).replace("-", "")
PNR_BILAL = personnummer.make(dt.date(2012, 8, 9), 111).replace("-", "")
PNR_CORA = personnummer.make(dt.date(2012, 1, 2), 124).replace("-", "")


def meta(modified: str = T0) -> dict[str, str]:
    return {"created": T0, "modified": modified}


def ref(ident: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, **extra}


def _person(ident: str, given: str, family: str, pnr: str | None, **extra: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "id": ident,
        "meta": meta(),
        "givenName": given,
        "familyName": family,
        "securityMarking": "Ingen",
        "unknownVendorField": {"ignored": True},
    }
    if pnr:
        person["civicNo"] = {"value": pnr, "nationality": "SE"}
    person.update(extra)
    return person


def _enrolment() -> list[dict[str, Any]]:
    return [
        {"enroledAt": ref(SKOLA), "schoolType": "GR", "schoolYear": 7, "startDate": "2025-08-18"}
    ]


def fixture() -> dict[str, list[dict[str, Any]]]:
    """A municipality with one compulsory school, three pupils, a guardian and a teacher."""
    home = [
        {
            "type": "Folkbokföring",
            "streetAddress": "Storgatan 1",
            "postalCode": "123 45",
            "locality": "Ekby",
            "country": "SE",
        }
    ]
    secret = [
        {
            "type": "Folkbokföring",
            "streetAddress": "Hemlig väg 9",
            "postalCode": "999 99",
            "locality": "Okänd",
            "country": "SE",
        }
    ]
    guardians = [{"person": ref(GUARDIAN), "relationType": "Vårdnadshavare"}]
    return {
        "organisations": [
            {
                "id": HUVUDMAN,
                "meta": meta(),
                "displayName": "Ekby kommun",
                "organisationType": "Huvudman",
                "municipalityCode": "1234",
            },
            {
                "id": SKOLA,
                "meta": meta(),
                "displayName": "Ekbyskolan",
                "organisationType": "Skolenhet",
                "schoolUnitCode": "12345678",
                "schoolTypes": ["GR"],
                "parentOrganisation": ref(HUVUDMAN),
            },
            {
                "id": GYMNASIUM,
                "meta": meta(),
                "displayName": "Ekby gymnasium",
                "organisationType": "Skolenhet",
                "schoolUnitCode": "87654321",
                "schoolTypes": ["GY"],
                "parentOrganisation": ref(HUVUDMAN),
            },
        ],
        "syllabuses": [
            {
                "id": SYLLABUS,
                "meta": meta(),
                "schoolType": "GR",
                "subjectName": "Matematik",
                "subjectCode": "GRGRMAT01",
                "subjectDesignation": "MA",
                "official": True,
            },
        ],
        "persons": [
            _person(
                ALVA,
                "Alva",
                "Ek",
                PNR_ALVA,
                enrolments=_enrolment(),
                addresses=home,
                responsibles=guardians,
            ),
            _person(BILAL, "Bilal", "Ek", PNR_BILAL, enrolments=_enrolment(), addresses=home),
            _person(
                CORA,
                "Cora",
                "Lind",
                PNR_CORA,
                enrolments=_enrolment(),
                addresses=secret,
                responsibles=guardians,
                securityMarking="Skyddad folkbokföring",
            ),
            _person(
                GUARDIAN,
                "Greta",
                "Ek",
                None,
                addresses=home,
                emails=[{"value": "greta@example.se", "type": "Privat"}],
            ),
            _person(
                LENA,
                "Lena",
                "Larsson",
                None,
                eduPersonPrincipalNames=["lena.larsson@ekby.se"],
                emails=[{"value": "lena@ekby.se", "type": "Skola personal"}],
            ),
        ],
        "duties": [
            {
                "id": DUTY,
                "meta": meta(),
                "person": ref(LENA),
                "dutyAt": ref(SKOLA),
                "dutyRole": "Lärare",
                "startDate": "2025-08-01",
                "assignmentRole": [
                    {"group": ref(KLASS), "assignmentRoleType": "Mentor", "startDate": "2025-08-18"}
                ],
            },
        ],
        "groups": [
            {
                "id": KLASS,
                "meta": meta(),
                "displayName": "7A",
                "groupType": "Klass",
                "schoolType": "GR",
                "startDate": "2025-08-18",
                "endDate": "2026-06-12",
                "organisation": ref(SKOLA),
                "groupMemberships": [
                    {"person": ref(ALVA)},
                    {"person": ref(BILAL)},
                    {"person": ref(CORA)},
                    {"person": ref(LENA)},
                ],
            },
        ],
        "activities": [
            {
                "id": ACTIVITY,
                "meta": meta(),
                "displayName": "Matematik 7A",
                "activityType": "Undervisning",
                "calendarEventsRequired": True,
                "startDate": "2025-08-18",
                "groups": [ref(KLASS)],
                "syllabus": ref(SYLLABUS),
                "organisation": ref(SKOLA),
                "teachers": [{"duty": ref(DUTY), "grader": True}],
            },
        ],
        "calendarEvents": [
            {
                "id": MONDAY,
                "meta": meta(),
                "activity": ref(ACTIVITY),
                "startTime": "2026-03-16T08:00:00+01:00",
                "endTime": "2026-03-16T09:00:00+01:00",
            },
            {
                "id": TUESDAY,
                "meta": meta(),
                "activity": ref(ACTIVITY),
                "startTime": "2026-03-17T08:00:00+01:00",
                "endTime": "2026-03-17T09:00:00+01:00",
            },
        ],
        "attendances": [
            {
                "id": ATT_ALVA_MON,
                "meta": meta(),
                "calendarEvent": ref(MONDAY),
                "student": ref(ALVA),
                "isReported": True,
                "attendanceMinutes": 40,
                "invalidAbsenceMinutes": 20,
            },
            {
                "id": ATT_BILAL_MON,
                "meta": meta(),
                "calendarEvent": ref(MONDAY),
                "student": ref(BILAL),
                "isReported": True,
                "attendanceMinutes": 0,
                "validAbsenceMinutes": 60,
            },
            {
                "id": ATT_ALVA_TUE,
                "meta": meta(),
                "calendarEvent": ref(TUESDAY),
                "student": ref(ALVA),
                "isReported": True,
                "attendanceMinutes": 60,
            },
        ],
        "grades": [
            {
                "id": GRADE,
                "meta": meta(),
                "student": ref(ALVA),
                "registeredBy": ref(LENA),
                "gradingTeacher": ref(LENA),
                "organisation": ref(SKOLA),
                "registeredDate": "2025-12-19",
                "gradeValue": "E",
                "finalGrade": False,
                "adaptedStudyPlan": "",
                "syllabus": ref(SYLLABUS),
                "semester": "HT",
                "year": 2025,
            },
        ],
    }


DELETED_KEYS = {
    "Person": "persons",
    "Group": "groups",
    "Duty": "duties",
    "Activity": "activitites",
    "CalendarEvent": "calendarEvents",
    "Attendance": "attendances",
    "Grade": "grades",
}
PLURAL = {v: k for k, v in DELETED_KEYS.items()}


@dataclass
class World:
    """What the server serves, and the faults it is told to make."""

    data: dict[str, list[dict[str, Any]]] = field(default_factory=fixture)
    deleted: list[tuple[str, str, str]] = field(default_factory=list)  # (entity, id, when)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    fail: dict[tuple[str, int], int] = field(default_factory=dict)  # (path, page) -> status
    repeat_pages_of: str | None = None  # a path whose pages all give the same token
    oauth: bool = False
    issued: list[str] = field(default_factory=list)

    def find(self, path: str, ident: str) -> dict[str, Any]:
        return next(item for item in self.data[path] if item["id"] == ident)

    def change(self, path: str, ident: str, modified: str, **values: Any) -> None:
        item = self.find(path, ident)
        item.update(values)
        item["meta"] = meta(modified)

    def delete(self, path: str, ident: str, when: str) -> None:
        self.data[path] = [item for item in self.data[path] if item["id"] != ident]
        self.deleted.append((PLURAL[path], ident, when))


def _after(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class Handler(BaseHTTPRequestHandler):
    world: World

    def log_message(self, format: str, *args: Any) -> None:  # quiet in the test output
        pass

    def _send(self, status: int, body: object | None = None) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        if self.path == "/token":
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            if form.get("client_secret") != ["klienthemlighet"]:
                self._send(401, {"error": "invalid_client"})
                return
            token = f"oauth-{len(self.world.issued) + 1}"
            self.world.issued.append(token)
            self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
            return
        self._send(404)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        world = self.world
        world.requests.append((url.path, query))
        wanted = world.issued if world.oauth else [TOKEN]
        if self.headers.get("Authorization") not in [f"Bearer {t}" for t in wanted]:
            self._send(401, {"code": "Unauthorized", "message": "Ogiltig token"})
            return
        parts = url.path.strip("/").split("/")
        path = parts[0]
        if len(parts) == 2 and path in world.data:
            found = [i for i in world.data[path] if i["id"] == parts[1]]
            self._send(200, found[0]) if found else self._send(404)
            return
        if path != "deletedEntities" and path not in world.data:
            self._send(404)
            return
        limit = int(query.get("limit", ["100"])[0])
        token = query.get("pageToken", [None])[0]
        if token is None:
            state = {"offset": 0, "query": query, "page": 1}
        elif token == REPEATED:
            state = {"offset": 0, "query": query, "page": 2}
        else:
            state = json.loads(urllib.parse.unquote(token))
        page, filters = state["page"], state["query"]
        status = world.fail.get((path, page))
        if status:
            self._send(status, {"code": "Internal", "message": "Databasen svarar inte"})
            return
        if path == "deletedEntities":
            after = _after(filters["after"][0])
            data: dict[str, list[str]] = {}
            for entity in filters.get("entities", []):
                data[DELETED_KEYS[entity]] = [
                    i for e, i, when in world.deleted if e == entity and _after(when) > after
                ]
            self._send(200, {"data": data, "pageToken": None})
            return
        if path == "calendarEvents" and not (
            "startTime.onOrAfter" in filters and "startTime.onOrBefore" in filters
        ):
            self._send(400, {"code": "BadRequest", "message": "startTime.onOrAfter krävs"})
            return
        items = list(world.data[path])
        if "meta.modified.after" in filters:
            after = _after(filters["meta.modified.after"][0])
            items = [i for i in items if _after(i["meta"]["modified"]) > after]
        if path == "calendarEvents":
            first = _after(filters["startTime.onOrAfter"][0])
            last = _after(filters["startTime.onOrBefore"][0])
            items = [i for i in items if first <= _after(i["startTime"]) <= last]
        if path == "calendarEvents" and "attendance" in filters.get("expand", []):
            items = [
                item
                | {
                    "_embedded": {
                        "attendance": [
                            a
                            for a in world.data["attendances"]
                            if a["calendarEvent"]["id"] == item["id"]
                        ]
                    }
                }
                for item in items
            ]
        offset = state["offset"]
        chunk = items[offset : offset + limit]
        following = None
        if offset + limit < len(items) or world.repeat_pages_of == path:
            following = urllib.parse.quote(
                json.dumps({"offset": offset + limit, "query": filters, "page": page + 1})
            )
            if world.repeat_pages_of == path:
                following = REPEATED
                chunk = items[:limit]
        self._send(200, {"data": chunk, "pageToken": following})


@contextmanager
def serve(world: World, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """The server's base URL while the block runs (https with `tls`)."""
    handler = type("BoundHandler", (Handler,), {"world": world})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if tls else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
