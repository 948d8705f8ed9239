"""The starter set, search, picking an entry into a case, and removing an entry in use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from fullfolj.bank import actions, queries
from fullfolj.bank.models import Entry, Use
from fullfolj.support import actions as support
from fullfolj.support.models import CaseEntry, Measure

TODAY = dt.date(2026, 3, 18)


@pytest.fixture
def case(cast):
    made, _new = support.open_case(cast.pupil, school=cast.north, responsible=cast.mentor, by=None)
    return made


def _fields(title: str = "Dagsschema") -> dict:
    return {"title": title, "start": TODAY, "follow_up_on": TODAY + dt.timedelta(weeks=4)}


def test_the_starter_set_has_25_entries_written_out(db):
    entries = list(Entry.objects.prefetch_related("tags"))
    assert len(entries) >= 25
    for entry in entries:
        assert entry.summary and entry.when_to_use and entry.how_to and entry.follow_up
        assert entry.tags.exists(), entry.slug


def test_search_by_words_and_tag(db):
    found = {e.slug for e in queries.search("schema")}
    assert "dagsschema" in found and "takk" not in found
    tagged = {e.slug for e in queries.search(tag="takk")}
    assert tagged == {"takk"}
    assert not queries.search("schema", tag="takk").exists()
    assert {e.slug for e in queries.search("LUGN plats")} == {"lugn-plats"}


def test_picking_fills_an_extra_adaptation_and_remembers_the_entry(cast, case):
    entry = Entry.objects.get(slug="dagsschema")
    measure = actions.pick_entry(entry, case=case, fields=_fields(), by=cast.mentor)
    assert measure.kind == Measure.Kind.EXTRA_ADAPTATION
    assert measure.bank_use.entry == entry
    assert CaseEntry.objects.filter(case=case, measure=measure).exists()
    assert queries.search("schema").get(slug="dagsschema").times_used == 1


def test_an_archived_entry_is_not_picked(cast, case):
    entry = Entry.objects.get(slug="dagsschema")
    entry.is_archived = True
    entry.save()
    with pytest.raises(ValidationError):
        actions.pick_entry(entry, case=case, fields=_fields(), by=cast.mentor)
    assert not Measure.objects.filter(case=case).exists()


def test_a_bad_measure_leaves_nothing_half_written(cast, case):
    entry = Entry.objects.get(slug="dagsschema")
    bad = {**_fields(), "follow_up_on": TODAY - dt.timedelta(days=1)}
    with pytest.raises(ValidationError) as refused:
        actions.pick_entry(entry, case=case, fields=bad, by=cast.mentor)
    assert "follow_up_on" in refused.value.message_dict
    assert not Measure.objects.filter(case=case).exists() and not Use.objects.exists()


def test_an_entry_in_use_is_archived_not_deleted(cast, case):
    used = Entry.objects.get(slug="dagsschema")
    actions.pick_entry(used, case=case, fields=_fields(), by=cast.mentor)
    with pytest.raises(ProtectedError):
        used.delete()
    assert actions.remove_entry(used) is False
    used.refresh_from_db()
    assert used.is_archived and used.uses.count() == 1
    assert used not in queries.search("schema")
    unused = Entry.objects.get(slug="takk")
    assert actions.remove_entry(unused) is True
    assert not Entry.objects.filter(slug="takk").exists()
