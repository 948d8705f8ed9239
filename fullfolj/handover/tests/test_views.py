"""The handover pages as the sending and receiving schools use them: write and send, read (and
the writer sees who read it), edit after the read (a new version, the old readable), the homes."""

from __future__ import annotations

from django.urls import reverse

from fullfolj.handover import actions
from fullfolj.handover.models import HandoverVersion


def _form(version: HandoverVersion, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {name: getattr(version, name) for name in HandoverVersion.TEXTS}
    return data | {"edits": version.edits} | changes


def test_the_mentor_writes_and_sends_and_the_receiving_mentor_reads(client, cast, moving):
    client.force_login(moving.sixth_mentor.user)
    response = client.post(
        reverse("handover:start", args=[moving.hugo.pk]), {"school": cast.north.pk}
    )
    handover = moving.hugo.handovers.get()
    assert response.url == reverse("handover:edit", args=[handover.pk])
    form = client.get(response.url).content.decode()
    assert "Bildschema för dagen" in form  # prefilled
    version = handover.versions.get()
    response = client.post(
        reverse("handover:edit", args=[handover.pk]),
        _form(version, pupil_words="Jag vill sitta nära dörren.", send="1"),
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == "sent" and version.pupil_words == "Jag vill sitta nära dörren."

    client.force_login(cast.other_mentor.user)
    page = client.get(reverse("handover:detail", args=[handover.pk])).content.decode()
    assert "Jag vill sitta nära dörren." in page and "Söderskolan" in page
    client.force_login(moving.sixth_mentor.user)
    page = client.get(reverse("handover:detail", args=[handover.pk])).content.decode()
    assert "Other_Mentor Testsson" in page  # who read it


def test_an_edit_after_the_read_is_a_new_version_and_the_old_stays_readable(client, cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    version = actions.send_handover(handover, by=moving.sixth_mentor)
    client.force_login(cast.principal.user)
    client.get(reverse("handover:detail", args=[handover.pk]))
    version.refresh_from_db()
    client.force_login(moving.sixth_mentor.user)
    response = client.post(
        reverse("handover:edit", args=[handover.pk]),
        _form(version, what_worked="Korta pass med paus."),
        follow=True,
    )
    assert "version 2" in response.content.decode()
    assert handover.versions.count() == 2
    client.force_login(cast.principal.user)
    page = client.get(reverse("handover:detail", args=[handover.pk])).content.decode()
    assert "Korta pass med paus." not in page  # version 2 is a draft
    assert "Kommer i tid och kommer igång själv." in page
    actions.send_handover(handover, by=moving.sixth_mentor)
    page = client.get(reverse("handover:detail", args=[handover.pk])).content.decode()
    assert "Korta pass med paus." in page
    old = client.get(reverse("handover:detail", args=[handover.pk]) + "?version=1")
    assert "Kommer i tid och kommer igång själv." in old.content.decode()


def test_a_stale_form_is_refused_and_nothing_is_overwritten(client, cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    version = handover.versions.get()
    client.force_login(moving.sixth_mentor.user)
    url = reverse("handover:edit", args=[handover.pk])
    assert client.post(url, _form(version, what_worked="Först")).status_code == 302
    response = client.post(url, _form(version, what_worked="Sen"))
    assert response.status_code == 409
    version.refresh_from_db()
    assert version.what_worked == "Först"


def test_the_homes_lead_to_the_lists(client, cast, moving):
    actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    client.force_login(moving.sixth_mentor.user)
    home = client.get(reverse("elevakt:home")).content.decode()
    assert "Överlämningar att skriva" in home and reverse("handover:to-write") in home
    client.force_login(cast.principal.user)
    home = client.get(reverse("elevakt:home")).content.decode()
    assert "Elever som börjar hos oss" in home and reverse("handover:arriving") in home
    arriving = client.get(reverse("handover:arriving")).content.decode()
    assert "Utkast" in arriving and "Saknas" in arriving  # Hugo's draft, Freja's missing
    client.force_login(cast.teacher.user)
    home = client.get(reverse("elevakt:home")).content.decode()
    assert "Elever som börjar hos oss" not in home


def test_the_arrivals_list_the_handovers_to_chase_first_with_their_counts(client, cast, moving):
    actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)  # a draft
    freja = actions.start_handover(moving.freja, school=cast.north, by=moving.sixth_mentor)
    actions.send_handover(freja, by=moving.sixth_mentor)
    client.force_login(cast.principal.user)
    page = client.get(reverse("handover:arriving")).content.decode()
    assert page.index("Hugo Hallberg") < page.index("Freja Frost")  # draft before sent
    figures = page.split('class="figures"')[1].split("</ul>")[0]
    assert '<span class="value">1</span><span class="label">Utkast' in figures
    assert '<span class="value">0</span><span class="label">Saknas' in figures


def test_a_read_handover_counts_as_read_and_comes_last(client, cast, moving):
    freja = actions.start_handover(moving.freja, school=cast.north, by=moving.sixth_mentor)
    actions.record_read(
        actions.send_handover(freja, by=moving.sixth_mentor), by=cast.principal, role="principal"
    )
    client.force_login(cast.principal.user)
    page = client.get(reverse("handover:arriving")).content.decode()
    assert page.index("Hugo Hallberg") < page.index("Freja Frost")  # missing before read
    figures = page.split('class="figures"')[1].split("</ul>")[0]
    assert '<span class="value">1</span><span class="label">Läst' in figures
    assert '<span class="value">1</span><span class="label">Saknas' in figures


def test_the_arrivals_come_fifty_a_page_with_counts_over_the_whole_list(
    client, cast, moving, django_assert_max_num_queries
):
    from tests import factories as f

    client.force_login(cast.principal.user)
    url = reverse("handover:arriving")
    client.get(url)
    with django_assert_max_num_queries(14) as few:  # Hugo and Freja
        client.get(url)
    for n in range(53):  # 55 arriving with Hugo and Freja
        pupil = f.pupil(cast.org, f"Ny{n:02d}", "Ankomstsson")
        f.place(pupil, cast.north, moving.c7b, moving.coming[moving.hugo.pk].start)
    with django_assert_max_num_queries(14) as many:
        first = client.get(url).content.decode()
    assert len(many) == len(few)  # no query per row
    assert first.count("<tr>") - 1 == 50  # the header row besides
    assert "Elever 1–50 av 55." in first and 'rel="next"' in first
    figures = first.split('class="figures"')[1].split("</ul>")[0]
    assert '<span class="value">55</span><span class="label">Saknas' in figures
    second = client.get(url + "?page=2").content.decode()
    assert second.count("<tr>") - 1 == 5
    assert "Elever 51–55 av 55." in second
