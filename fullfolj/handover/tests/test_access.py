"""Every handover route, every role of the cast and the people with several: the sending school
writes, the receiving school reads what was sent (and the read is logged), the rest get 404."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from fullfolj.access.models import AccessLog
from fullfolj.access.tests.test_routes import ROLES
from fullfolj.handover import actions
from fullfolj.handover.models import HandoverRead

WHO = [*ROLES, "sixth_mentor"]
# Söderskolan, where Hugo is today: his mentor there, its principal (mentor_principal is one)
# and its student-health team (health_two and doctor serve both schools).
WRITERS = {"sixth_mentor", "principal_elsewhere", "mentor_principal", "health_two", "doctor"}
# Norrskolan, where he starts in August: principal, student-health team, his coming mentor.
READERS = {"principal", "nurse", "health_two", "doctor", "other_mentor"}


def _staff(cast, moving, who):
    return moving.sixth_mentor if who == "sixth_mentor" else getattr(cast, who)


@pytest.fixture
def sent(cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    actions.send_handover(handover, by=moving.sixth_mentor)
    return handover


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", ["handover:detail", "handover:pdf", "handover:edit"])
def test_a_sent_handover_opens_for_its_writers_and_receivers_only(
    client, cast, moving, sent, who, route
):
    staff = _staff(cast, moving, who)
    client.force_login(staff.user)
    response = client.get(reverse(route, args=[sent.pk]))
    allowed = WRITERS if route == "handover:edit" else WRITERS | READERS
    if who in allowed:
        assert response.status_code == 200, (who, route)
        if route != "handover:pdf":
            assert "Hallberg" in response.content.decode()
        log = AccessLog.objects.get(staff=staff, pupil=moving.hugo)
        assert log.role != "unknown"
    else:
        assert response.status_code == 404, (who, route)
        assert "Hallberg" not in response.content.decode()
        assert not AccessLog.objects.filter(staff=staff, pupil=moving.hugo).exists()


@pytest.mark.parametrize("who", sorted(READERS - WRITERS))
def test_a_draft_is_not_shown_to_the_receiving_school(client, cast, moving, who):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    client.force_login(getattr(cast, who).user)
    assert client.get(reverse("handover:detail", args=[handover.pk])).status_code == 404


@pytest.mark.parametrize("who", WHO)
def test_the_receiving_school_reading_is_recorded(client, cast, moving, sent, who):
    client.force_login(_staff(cast, moving, who).user)
    client.get(reverse("handover:detail", args=[sent.pk]))
    read = HandoverRead.objects.filter(staff=_staff(cast, moving, who)).exists()
    # a writer opening the handover is no read by the receiving school
    assert read == (who in READERS - WRITERS)


@pytest.mark.parametrize("who", WHO)
def test_starting_and_saving_follow_the_same_rules(client, cast, moving, who):
    client.force_login(_staff(cast, moving, who).user)
    response = client.post(
        reverse("handover:start", args=[moving.hugo.pk]), {"school": cast.north.pk}
    )
    started = moving.hugo.handovers.exists()
    assert started == (who in WRITERS)
    assert response.status_code == (302 if started else 404)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", ["handover:to-write", "handover:arriving"])
def test_the_lists_name_the_pupil_to_the_right_people(client, cast, moving, who, route):
    staff = _staff(cast, moving, who)
    client.force_login(staff.user)
    response = client.get(reverse(route))
    assert response.status_code == 200
    shown = "Hugo Hallberg" in response.content.decode()
    expected = WRITERS if route == "handover:to-write" else READERS
    assert shown == (who in expected), (who, route)
    assert AccessLog.objects.filter(staff=staff, pupil=moving.hugo).exists() == shown


def test_a_handover_to_a_school_the_pupil_is_not_moving_to_is_refused_on_the_page(
    client, cast, moving
):
    client.force_login(moving.sixth_mentor.user)
    response = client.post(
        reverse("handover:start", args=[moving.hugo.pk]), {"school": cast.south.pk}
    )
    assert response.status_code == 400
    assert "inte till Söderskolan" in response.content.decode()
    assert not moving.hugo.handovers.exists()


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_holds_what_worked_and_the_pupils_words(client, cast, moving, sent):
    version = sent.versions.get()
    version.pupil_words = "Jag vill sitta nära dörren."
    version.save()
    client.force_login(cast.other_mentor.user)
    response = client.get(reverse("handover:pdf", args=[sent.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    for expected in [
        "Överlämning",
        "Hugo Hallberg",
        "Söderskolan",
        "Norrskolan, 7B",
        "2026-08-17",
        "Bildschema för dagen: Kommer i tid och kommer igång själv.",
        "Jag vill sitta nära dörren.",
        "Lindvägen 3",
    ]:
        assert expected in text, expected


@pytest.mark.parametrize("who", ["principal", "nurse", "principal_elsewhere", "sixth_mentor"])
def test_a_protected_pupils_handover_names_no_address_and_no_former_school(
    client, cast, moving, who
):
    handover = actions.start_handover(moving.freja, school=cast.north, by=moving.sixth_mentor)
    actions.send_handover(handover, by=moving.sixth_mentor)
    client.force_login(_staff(cast, moving, who).user)
    page = client.get(reverse("handover:detail", args=[handover.pk])).content.decode()
    main = page.split('<main id="main">')[1]  # the menu names the viewer's own schools
    text = _pdf_text(client.get(reverse("handover:pdf", args=[handover.pk])).content)
    for body in (main, text):
        assert "Freja Frost" in body
        assert "Hemlig väg" not in body and "Söderskolan" not in body
    if who in READERS:
        arriving = client.get(reverse("handover:arriving")).content.decode()
        assert "Freja Frost" in arriving and "Söderskolan" not in arriving.split("Freja Frost")[1]


def test_a_handover_to_another_organisers_school_opens_there_and_nowhere_else(client, cast, moving):
    from fullfolj.schools import models as s
    from tests import factories as f

    from .conftest import FIRST_DAY, LAST_DAY

    # Ida leaves Söderskolan's year 6 for an independent school's year 7.
    independent = s.Organiser.objects.create(name="Friskolan Lärkan AB", kind="independent")
    larkan = f.school(independent, "Lärkanskolan", (7, 9))
    seven = s.SchoolClass.objects.create(
        school=larkan, school_year=moving.c7b.school_year, name="7L", grade=7
    )
    their_principal = f.staff("larkan_rektor", (s.Role.PRINCIPAL, larkan), org=independent)
    ida = f.pupil(cast.org, "Ida", "Idström")
    six = s.SchoolClass.objects.get(school=cast.south, name="6A")
    f.place(ida, cast.south, six, cast.year.start, end=LAST_DAY)
    s.Mentorship.objects.create(pupil=ida, mentor=moving.sixth_mentor, start=cast.year.start)
    f.place(ida, larkan, seven, FIRST_DAY)
    handover = actions.start_handover(ida, school=larkan, by=moving.sixth_mentor)
    actions.send_handover(handover, by=moving.sixth_mentor)

    client.force_login(their_principal.user)
    page = client.get(reverse("handover:detail", args=[handover.pk]))
    assert page.status_code == 200 and "Idström" in page.content.decode()
    assert HandoverRead.objects.filter(version__handover=handover, staff=their_principal).exists()
    # Norrskolan's principal receives Hugo, not Ida.
    client.force_login(cast.principal.user)
    assert client.get(reverse("handover:detail", args=[handover.pk])).status_code == 404
