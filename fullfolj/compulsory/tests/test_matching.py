"""The match on a small register written by hand: every list holds exactly the children with
that mismatch, on SQLite and PostgreSQL, and the plain-SQL reference agrees on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from fullfolj.access.gate import compulsory_school_birth_years
from fullfolj.compulsory import actions, queries, reference
from fullfolj.compulsory.importing import import_placements, import_register
from fullfolj.compulsory.models import OversightCase, Resident, Step

from . import world


@pytest.fixture
def loaded(cast):
    world.organisers()
    import_register(world.register_csv(cast), name="folkbokforing.csv", organiser=cast.org)
    import_placements(world.placements_csv(), name="placeringar.csv", organiser=cast.org)
    return cast


def test_every_list_holds_exactly_its_children(loaded):
    found = queries.match(loaded.org, world.DAY)
    got = {kind: sorted(frame["pnr"].to_list()) for kind, frame in found.lists.items()}
    assert got == world.expected(loaded)
    # Alva, Bilal, Cora, Elis, Gustav, Freja, Mira, Hanna, Ivar, Jonna: resident and of age
    assert found.checked == 10


def test_the_lists_name_the_schools_and_dates(loaded):
    lists = queries.match(loaded.org, world.DAY).lists
    ended = lists["ended"].row(0, named=True)
    assert ended["ended_on"] == dt.date(2026, 1, 31)
    assert ended["school"] == loaded.north.unit_code
    assert lists["two_placements"].row(0, named=True)["school"] == "55500001, 66600001"
    assert lists["elsewhere"].row(0, named=True)["municipality_code"] == "1111"
    assert lists["moved_in"].row(0, named=True)["on"] == dt.date(2026, 3, 1)


def test_a_later_day_moves_children_between_lists(loaded):
    """After Alva's placement ends she is on the ended list; Jonna's move is then past the
    window of moves."""
    from fullfolj.schools.models import Placement

    Placement.objects.filter(pupil=loaded.pupil).update(end=dt.date(2026, 4, 30))
    found = queries.match(loaded.org, dt.date(2026, 5, 20)).lists
    assert loaded.pupil.personnummer in found["ended"]["pnr"].to_list()
    assert world.JONNA not in found["moved_in"]["pnr"].to_list()


def test_the_check_opens_one_case_per_finding_with_a_first_step(loaded):
    check = actions.run_check(loaded.org, day=world.DAY, by=loaded.officer)
    assert check.checked == 10
    cases = OversightCase.objects.filter(organiser=loaded.org)
    assert sorted((c.kind, c.personnummer) for c in cases) == sorted(
        (kind, p) for kind, pnrs in world.expected(loaded).items() for p in pnrs
    )
    freja = cases.get(personnummer=world.FREJA)
    assert freja.protected_identity and freja.full_name == "Freja Fors"
    elis = cases.get(kind="ended")
    assert elis.pupil == loaded.moved_away
    school = f"Norrskolan ({loaded.north.unit_code})"
    assert elis.facts == {"ended_on": "2026-01-31", "school": school}
    assert loaded.north.unit_code in elis.detail and "2026" in elis.detail
    first = Step.objects.get(case=elis)
    assert first.kind == Step.Kind.CONTACT_GUARDIANS
    assert first.due == world.DAY + dt.timedelta(days=14)
    # Running it again opens nothing new.
    again = actions.run_check(loaded.org, day=world.DAY, by=loaded.officer)
    assert again.cases.count() == 0
    assert OversightCase.objects.count() == len(cases)


def test_a_closed_case_is_not_opened_again_within_the_window(loaded):
    actions.run_check(loaded.org, day=world.DAY, by=None)
    case = OversightCase.objects.get(personnummer=world.GUSTAV)
    actions.close_case(case, reason="other_way", on=world.DAY, by=None)
    assert actions.run_check(loaded.org, day=world.DAY, by=None).cases.count() == 0
    later = world.DAY + dt.timedelta(days=90)
    reopened = actions.run_check(loaded.org, day=later, by=None)
    assert reopened.cases.filter(personnummer=world.GUSTAV, kind="no_school").exists()


def test_protected_children_keep_no_address(loaded):
    assert Resident.objects.get(personnummer=world.FREJA).address == ""
    assert Resident.objects.get(personnummer=loaded.protected.personnummer).address == ""
    assert Resident.objects.get(personnummer=world.GUSTAV).address == "Storgatan 9"


def test_compulsory_school_age():
    assert compulsory_school_birth_years(world.DAY) == (2010, 2019)
    assert compulsory_school_birth_years(dt.date(2026, 8, 20)) == (2011, 2020)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the reference is plain SQL for PostgreSQL"
)
def test_the_plain_sql_reference_agrees(loaded):
    residents, placements = queries.relations(loaded.org)
    for day in (world.DAY, dt.date(2026, 1, 15), dt.date(2026, 9, 1)):
        with connection.cursor() as cursor:
            expected = reference.lists(
                cursor,
                residents,
                placements,
                day=day,
                home_code="9999",
                birth_years=compulsory_school_birth_years(day),
                since=day - dt.timedelta(days=60),
            )
        found = queries.match(loaded.org, day).lists
        assert {k: sorted(f["pnr"].to_list()) for k, f in found.items()} == expected
