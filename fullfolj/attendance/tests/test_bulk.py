"""Our own bulk insert: every row written once, ids by key, conflicts skipped when asked."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from fullfolj.attendance import bulk
from fullfolj.attendance.models import AbsenceReason

COLUMNS = (("code", "text"), ("name", "text"), ("is_valid", "boolean"))


@pytest.mark.django_db
def test_rows_are_inserted_in_batches_with_their_ids(monkeypatch):
    monkeypatch.setattr(bulk, "SQLITE_ROWS", 2)  # several statements on SQLite
    rows = [(f"R{n}", f"Skäl {n}", n % 2 == 0) for n in range(5)]
    ids = bulk.insert_rows(AbsenceReason, COLUMNS, rows, returning="code")
    saved = {
        r.code: (r.pk, r.name, r.is_valid)
        for r in AbsenceReason.objects.filter(code__startswith="R")
    }
    assert saved == {code: (ids[code], name, valid) for code, name, valid in rows}


@pytest.mark.django_db(transaction=True)
def test_a_conflicting_row_is_skipped_only_when_asked():
    bulk.insert_rows(AbsenceReason, COLUMNS, [("X1", "Ett", True)])
    bulk.insert_rows(
        AbsenceReason, COLUMNS, [("X1", "Igen", False), ("X2", "Två", False)], ignore_conflicts=True
    )
    assert dict(AbsenceReason.objects.filter(code__startswith="X").values_list("code", "name")) == {
        "X1": "Ett",
        "X2": "Två",
    }
    with pytest.raises(IntegrityError):
        bulk.insert_rows(AbsenceReason, COLUMNS, [("X2", "Två igen", False)])


@pytest.mark.django_db
def test_querysets_read_together_give_what_the_orm_gives(cast, django_assert_max_num_queries):
    from django.db import connection

    from fullfolj.attendance.store import fetch_together
    from fullfolj.schools.models import Pupil

    reasons = AbsenceReason.objects.order_by("-is_valid", "name")
    pupils = Pupil.objects.filter(organiser=cast.org).order_by("last_name", "pk")
    bound = 1 if connection.vendor == "postgresql" else 2  # PostgreSQL: one round trip
    with django_assert_max_num_queries(bound):
        got_reasons, got_pupils = fetch_together([reasons, pupils])
    assert [(r.pk, r.code, r.is_valid) for r in got_reasons] == [
        (r.pk, r.code, r.is_valid) for r in reasons
    ]
    # Converted as the ORM converts: a date is a date on SQLite too.
    assert [(p.pk, p.birth_date, p.organiser_id) for p in got_pupils] == [
        (p.pk, p.birth_date, p.organiser_id) for p in pupils
    ]
    assert got_pupils and all(not p._state.adding for p in got_pupils)
