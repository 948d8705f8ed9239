"""Every route of the product goes through the gate: a view that answers without asking it
fails here, so a new page cannot forget the access rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from fullfolj.compulsory.models import OversightCase, Step
from fullfolj.exchange.models import FileImport
from fullfolj.handover.models import Handover, HandoverVersion
from fullfolj.ladder.models import Actor, LadderStep, LadderTask
from fullfolj.reports.models import Region
from fullfolj.support.models import Case, Measure

# Django's own pages: the admin scopes itself (access/tests/test_admin.py), the rest show no
# pupil data; nor do the API's schema, the page describing it, and its JSON "not found".
NOT_PRODUCT = (
    "admin:",
    "login",
    "logout",
    # Single sign-on's pages before anyone is signed in: the IdP's answer, our metadata.
    "saml:",
    # Single sign-on's way to the identity provider and back: before any login, no pupil data.
    "access:oidc-",
    "set_language",
    "javascript-catalog",
    "api:schema",
    "api:docs",
    "api:unknown",
    # The pupil's own questionnaire: a pupil login, not staff; it reaches nothing else
    # (kasam/tests/test_pupil_login.py).
    "kasam:answer",
)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def product_routes():
    return sorted(
        (route, name)
        for route, name, _entry in _walk(get_resolver().url_patterns)
        if not name.startswith(NOT_PRODUCT) and not route.startswith("admin/")
    )


def _url(route: str, ids: dict[str, int]) -> str:
    path = route.replace("^", "").replace("$", "")
    for key, value in ids.items():
        path = path.replace(f"<int:{key}>", str(value))
    path = path.replace("<slug:slug>", "dagsschema")  # a resource bank entry
    path = path.replace("<str:stage>", "7-9")  # a KASAM questionnaire's stage
    assert "<" not in path, f"no test value for a parameter of {route}"
    return "/" + path


@pytest.fixture
def ids(cast):
    step = LadderStep.objects.filter(organiser=None, actor=Actor.MENTOR).first()
    task = LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor=Actor.MENTOR,
        assignee=cast.mentor,
        opened_on=dt.date(2026, 3, 16),
        due=dt.date(2026, 3, 20),
        reason="test",
    )
    case = Case.objects.create(pupil=cast.pupil, school=cast.north, responsible=cast.mentor)
    measure = Measure.objects.create(
        case=case,
        kind=Measure.Kind.ACTION_PROGRAMME,
        title="Åtgärdsprogram",
        start=dt.date(2026, 3, 2),
        follow_up_on=dt.date(2026, 4, 13),
        responsible=cast.mentor,
    )
    handover = Handover.objects.create(
        pupil=cast.pupil,
        placement=cast.pupil.placements.get(),
        sending_school=cast.north,
        receiving_school=cast.north,
    )
    HandoverVersion.objects.create(handover=handover)
    oversight = OversightCase.objects.create(
        organiser=cast.org,
        kind="no_school",
        personnummer=cast.pupil.personnummer,
        opened_on=dt.date(2026, 3, 16),
    )
    oversight_step = Step.objects.create(case=oversight, kind="guardians", due=dt.date(2026, 3, 30))
    upload = FileImport.objects.create(
        organiser=cast.org,
        uploaded_at=timezone.now(),
        kind="pupils",
        name="elever.csv",
        data=b"",
        status=FileImport.Status.REFUSED,
    )
    return {
        "file_id": upload.pk,
        "import_id": upload.pk,  # the same file, as the API names it
        "handover_id": handover.pk,
        "step_id": oversight_step.pk,
        "case_id": case.pk,
        "measure_id": measure.pk,
        "pupil_id": cast.pupil.pk,
        "school_id": cast.north.pk,
        "group_id": cast.group.pk,
        "lesson_id": cast.lesson.pk,
        "task_id": task.pk,
        "organiser_id": cast.org.pk,
        "region_id": Region.objects.create(name="Regionen").pk,
    }


def test_the_walk_finds_the_product_routes():
    names = {name for _route, name in product_routes()}
    assert {
        "elevakt:pupil",
        "elevakt:search",
        "attendance:lesson-register",
        "ladder:task",
        "screening:run",
        "access:pupil-reads",
        "support:case",
        "support:measure-pdf",
        "followup:eht-minutes",
        "handover:detail",
        "handover:arriving",
    } <= names


@pytest.mark.parametrize(("route", "name"), product_routes())
@pytest.mark.parametrize("who", ["principal", "outsider"])
def test_every_route_asks_the_gate(client, cast, ids, monkeypatch, route, name, who):
    from fullfolj.access import gate

    asked = []
    real = gate.viewer_for
    monkeypatch.setattr(gate, "viewer_for", lambda request: asked.append(request) or real(request))
    client.force_login(getattr(cast, who).user)
    url = _url(route, ids)
    response = client.get(url)
    if response.status_code == 405:  # a POST-only action
        response = client.post(url)
    assert response.status_code < 500
    assert asked, f"{name} ({url}) answered {response.status_code} without asking the gate"
