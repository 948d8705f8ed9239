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
    saved = {r.code: (r.pk, r.name, r.is_valid) for r in AbsenceReason.objects.filter(
        code__startswith="R")}
    assert saved == {code: (ids[code], name, valid) for code, name, valid in rows}


@pytest.mark.django_db(transaction=True)
def test_a_conflicting_row_is_skipped_only_when_asked():
    bulk.insert_rows(AbsenceReason, COLUMNS, [("X1", "Ett", True)])
    bulk.insert_rows(AbsenceReason, COLUMNS, [("X1", "Igen", False), ("X2", "Två", False)],
                     ignore_conflicts=True)
    assert dict(AbsenceReason.objects.filter(code__startswith="X").values_list(
        "code", "name")) == {"X1": "Ett", "X2": "Två"}
    with pytest.raises(IntegrityError):
        bulk.insert_rows(AbsenceReason, COLUMNS, [("X2", "Två igen", False)])
