"""Every support route, every role of the cast and the people with several: who gets the page
(and a line in the access log), who gets 404; who reads the student-health team's entries."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.support import actions
from fullfolj.support.models import Measure
from tests.factories import login_with_second_factor

NORTH_HEALTH = {"nurse", "health_two", "doctor"}
# pupil -> who reaches the pupil's cases: mentor, principal and student-health team (never
# through teaching or the administration)
MAY_SEE = {
    "pupil": {"mentor", "principal"} | NORTH_HEALTH,
    "protected": {"mentor", "principal"} | NORTH_HEALTH,
    "pupil_elsewhere": {"principal_elsewhere", "mentor_principal", "health_two", "doctor"},
}
# pupil -> who decides on the programme: the principal of the case's school
MAY_DECIDE = {
    "pupil": {"principal"},
    "protected": {"principal"},
    "pupil_elsewhere": {"principal_elsewhere", "mentor_principal"},
}
SCHOOL = {"pupil": "north", "protected": "north", "pupil_elsewhere": "south"}


@pytest.fixture
def support(cast) -> dict[str, SimpleNamespace]:
    """An open case with an action programme for three pupils."""
    made = {}
    for name in MAY_SEE:
        pupil, school = getattr(cast, name), getattr(cast, SCHOOL[name])
        responsible = cast.mentor if school == cast.north else cast.principal_elsewhere
        case, _new = actions.open_case(pupil, school=school, responsible=responsible, by=None)
        programme = actions.add_measure(
            case,
            fields={
                "kind": Measure.Kind.ACTION_PROGRAMME,
                "title": "Åtgärdsprogram",
                "start": dt.date(2026, 3, 2),
                "follow_up_on": dt.date(2026, 4, 13),
                "responsible": responsible,
                "needs": "Behov av stöd i matematik.",
                "planned_measures": "Speciallärare.",
            },
            by=responsible,
        )
        made[name] = SimpleNamespace(pupil=pupil, case=case, measure=programme)
    return made


PUPIL_ROUTES = ["support:pupil-cases", "support:open-case"]
CASE_ROUTES = [
    "support:case",
    "support:case-edit",
    "support:add-entry",
    "support:mapping",
    "support:add-measure",
]
MEASURE_ROUTES = ["support:measure", "support:evaluate", "support:decide", "support:measure-pdf"]


def _url(route: str, made: SimpleNamespace) -> str:
    if route in PUPIL_ROUTES:
        return reverse(route, args=[made.pupil.pk])
    if route in CASE_ROUTES:
        return reverse(route, args=[made.case.pk])
    return reverse(route, args=[made.measure.pk])


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", PUPIL_ROUTES + CASE_ROUTES + MEASURE_ROUTES)
@pytest.mark.parametrize("whom", ["pupil", "pupil_elsewhere"])
def test_support_pages_follow_role_and_relation(client, cast, support, who, route, whom):
    made = support[whom]
    client.force_login(getattr(cast, who).user)
    response = client.get(_url(route, made))
    allowed = MAY_DECIDE[whom] if route == "support:decide" else MAY_SEE[whom]
    staff = getattr(cast, who)
    if who in allowed:
        assert response.status_code == 200, (who, route)
        if route != "support:measure-pdf":
            assert made.pupil.last_name in response.content.decode()
        entry = AccessLog.objects.filter(staff=staff, pupil=made.pupil).first()
        assert entry is not None and entry.role != "unknown"
    else:
        assert response.status_code == 404, (who, route)
        assert made.pupil.last_name not in response.content.decode()
        if route != "support:decide":  # the principal-only page: the others read the case
            assert not AccessLog.objects.filter(staff=staff, pupil=made.pupil).exists()


@pytest.mark.parametrize("who", ROLES)
def test_posting_follows_the_same_rules(client, cast, support, who):
    made = support["pupil"]
    client.force_login(getattr(cast, who).user)
    response = client.post(
        reverse("support:add-entry", args=[made.case.pk]),
        {"kind": "note", "occurred_on": "2026-03-18", "text": f"Anteckning av {who}"},
    )
    written = made.case.entries.filter(text=f"Anteckning av {who}").exists()
    assert written == (who in MAY_SEE["pupil"])
    assert response.status_code == (302 if written else 404)


def test_a_teacher_put_on_the_case_reads_it_while_they_teach_the_pupil(client, cast, support):
    made = support["pupil"]
    url = reverse("support:case", args=[made.case.pk])
    client.force_login(cast.teacher.user)
    assert client.get(url).status_code == 404
    made.case.participants.add(cast.teacher)
    assert client.get(url).status_code == 200
    made.case.participants.add(cast.teacher_elsewhere)  # on the case, but no relation to Alva
    client.force_login(cast.teacher_elsewhere.user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("who", sorted(MAY_SEE["protected"]))
def test_no_support_page_shows_a_protected_address(client, cast, support, who):
    made = support["protected"]
    client.force_login(getattr(cast, who).user)
    for route in ["support:pupil-cases", "support:open-case", "support:case", "support:measure"]:
        body = client.get(_url(route, made)).content.decode()
        assert "Hemliga gatan" not in body and "Gustav" not in body


# who writes under the student-health team's secrecy, and who reads it
WRITES_RESTRICTED = {"nurse", "health_two", "doctor"}
READS_RESTRICTED = {"principal"} | NORTH_HEALTH


@pytest.mark.parametrize("writer", sorted(MAY_SEE["pupil"]))
def test_health_entries_are_read_by_the_team_and_the_principal_only(client, cast, support, writer):
    made = support["pupil"]
    text = f"Anteckning av {writer}"
    client.force_login(getattr(cast, writer).user)
    client.post(
        reverse("support:add-entry", args=[made.case.pk]),
        {"kind": "note", "occurred_on": "2026-03-18", "text": text},
    )
    assert made.case.entries.get(text=text).health_restricted == (writer in WRITES_RESTRICTED)
    for reader in sorted(MAY_SEE["pupil"]):
        # With the second factor (access/tests/test_second_factor.py tests its absence).
        login_with_second_factor(client, getattr(cast, reader).user)
        body = client.get(reverse("support:case", args=[made.case.pk])).content.decode()
        sees = writer not in WRITES_RESTRICTED or reader in READS_RESTRICTED
        assert (text in body) is sees, (writer, reader)
