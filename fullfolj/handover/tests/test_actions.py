"""The handover's rules against the database: prefilled from support and attendance, refused for
a school the pupil is not moving to, a read version never changed (a new version instead)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from fullfolj.handover import actions, queries
from fullfolj.handover.models import Handover, HandoverVersion


def test_a_handover_is_prefilled_with_what_worked_adaptations_and_contacts(cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    version = handover.versions.get()
    assert handover.sending_school == cast.south and handover.receiving_school == cast.north
    assert handover.placement == moving.coming[moving.hugo.pk]
    assert version.status == "draft" and version.number == 1
    assert "Bildschema för dagen: Kommer i tid och kommer igång själv." in version.what_worked
    assert "Bildschema för dagen: Dagens lektioner i bilder på bänken." in version.adaptations
    assert "Sixth_Mentor Testsson" in version.contacts
    assert "Principal_Elsewhere Testsson" in version.contacts  # responsible for the case
    measure = version.facts["measures"][0]
    assert measure["title"] == "Bildschema för dagen" and measure["active"]
    assert measure["evaluations"][0]["better"] is True
    assert set(version.facts["attendance"]) == {"term", "recent"}


def test_starting_twice_gives_the_same_handover(cast, moving):
    first = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    again = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    assert first == again and HandoverVersion.objects.count() == 1


def test_a_handover_to_a_school_the_pupil_is_not_moving_to_is_refused(cast, moving):
    with pytest.raises(ValidationError) as refused:
        actions.start_handover(moving.hugo, school=cast.south, by=moving.sixth_mentor)
    assert "receiving_school" in refused.value.message_dict
    assert "Hugo Hallberg" in refused.value.message_dict["receiving_school"][0]
    assert not Handover.objects.exists() and not HandoverVersion.objects.exists()


def test_a_pupil_already_placed_there_has_no_move_to_hand_over(cast, moving):
    with pytest.raises(ValidationError):  # Alva is at Norrskolan today: no coming placement
        actions.start_handover(cast.pupil, school=cast.north, by=cast.mentor)


def _texts(version: HandoverVersion, **changes: str) -> dict[str, str]:
    return {name: getattr(version, name) for name in HandoverVersion.TEXTS} | changes


def test_a_draft_and_an_unread_sent_version_change_in_place(cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    version = handover.versions.get()
    saved = actions.save_handover(
        handover,
        texts=_texts(version, pupil_words="Jag vill sitta nära dörren."),
        edits=version.edits,
        by=moving.sixth_mentor,
    )
    assert saved.pk == version.pk and saved.pupil_words == "Jag vill sitta nära dörren."
    sent = actions.send_handover(handover, by=moving.sixth_mentor)
    assert sent.status == "sent" and sent.sent_at is not None
    again = actions.save_handover(
        handover,
        texts=_texts(sent, guardian_words="Ring hellre än mejla."),
        edits=sent.edits,
        by=moving.sixth_mentor,
    )
    assert again.pk == version.pk and again.status == "sent"
    assert queries.status_of(handover) == queries.SENT


def test_a_version_the_receiving_school_read_is_kept_and_the_edit_is_a_new_version(cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    version = actions.send_handover(handover, by=moving.sixth_mentor)
    before = version.what_worked
    actions.record_read(version, by=cast.principal, role="principal")
    assert queries.status_of(handover) == queries.READ
    new = actions.save_handover(
        handover,
        texts=_texts(version, what_worked="Korta pass med paus."),
        edits=version.edits,
        by=moving.sixth_mentor,
    )
    version.refresh_from_db()
    assert new.number == 2 and new.status == "draft" and new.what_worked == "Korta pass med paus."
    assert version.what_worked == before and version.status == "sent"
    assert queries.status_of(handover) == queries.DRAFT
    assert queries.latest_sent(handover) == version  # the receiving school still reads v1
    actions.send_handover(handover, by=moving.sixth_mentor)
    assert queries.latest_sent(handover).number == 2


def test_a_save_on_top_of_another_is_refused(cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    version = handover.versions.get()
    actions.save_handover(handover, texts=_texts(version), edits=version.edits, by=cast.doctor)
    with pytest.raises(actions.EditConflict):
        actions.save_handover(
            handover, texts=_texts(version, what_worked="X"), edits=version.edits, by=cast.doctor
        )
    assert not HandoverVersion.objects.filter(what_worked="X").exists()


def test_a_move_changed_to_another_school_refuses_sending(cast, moving):
    handover = actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    placement = moving.coming[moving.hugo.pk]
    placement.school = cast.south
    placement.school_class = None
    placement.save()
    with pytest.raises(ValidationError):
        actions.send_handover(handover, by=moving.sixth_mentor)
    assert handover.versions.get().status == "draft"


def test_the_arrivals_show_each_status(cast, moving):
    actions.start_handover(moving.hugo, school=cast.north, by=moving.sixth_mentor)
    moves = queries.moves(queries.coming_placements(dt.date(2026, 3, 18)))
    by_pupil = {m.placement.pupil_id: m for m in moves}
    assert by_pupil[moving.hugo.pk].status == "draft"
    assert by_pupil[moving.freja.pk].status == "missing"
    assert by_pupil[moving.hugo.pk].from_school == "Söderskolan"
    assert by_pupil[moving.freja.pk].from_school == ""  # protected identity
