"""The match in plain SQL: the reference the Polars engine is checked against (a test on
PostgreSQL) and measured beside (`fullfolj bench skolplikt`). Same lists, same meaning as
engine.py; one statement, every list tagged with its kind.

`residents` and `placements` are SQL relations (a table name or a parenthesised SELECT) with
the engine's columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

QUERY = """
WITH r AS NOT MATERIALIZED (SELECT * FROM {residents} AS r0),
p AS NOT MATERIALIZED (SELECT * FROM {placements} AS p0),
running AS NOT MATERIALIZED (
    SELECT * FROM p WHERE p.start <= %(day)s AND (p."end" IS NULL OR p."end" >= %(day)s)
),
resident_now AS NOT MATERIALIZED (
    SELECT pnr, birth_date FROM r
    WHERE municipality_code = %(code)s
      AND (moved_in IS NULL OR moved_in <= %(day)s)
      AND (moved_out IS NULL OR moved_out > %(day)s)
),
here AS NOT MATERIALIZED (
    SELECT pnr FROM resident_now WHERE birth_date BETWEEN %(born_from)s AND %(born_to)s
),
without AS NOT MATERIALIZED (
    SELECT h.pnr FROM here h WHERE NOT EXISTS (SELECT 1 FROM running x WHERE x.pnr = h.pnr)
),
past AS NOT MATERIALIZED (SELECT DISTINCT pnr FROM p WHERE p."end" < %(day)s)
SELECT 'no_school', w.pnr FROM without w WHERE NOT EXISTS (SELECT 1 FROM past WHERE past.pnr = w.pnr)
UNION ALL
SELECT 'ended', w.pnr FROM without w WHERE EXISTS (SELECT 1 FROM past WHERE past.pnr = w.pnr)
UNION ALL
SELECT 'two_placements', pnr FROM running GROUP BY pnr HAVING COUNT(DISTINCT school) >= 2
UNION ALL
SELECT DISTINCT 'elsewhere', x.pnr FROM running x
WHERE x.own AND NOT EXISTS (SELECT 1 FROM resident_now n WHERE n.pnr = x.pnr)
UNION ALL
SELECT 'moved_in', pnr FROM r
WHERE birth_date BETWEEN %(born_from)s AND %(born_to)s AND municipality_code = %(code)s
  AND moved_in > %(since)s AND moved_in <= %(day)s
UNION ALL
SELECT 'moved_out', pnr FROM r
WHERE birth_date BETWEEN %(born_from)s AND %(born_to)s
  AND moved_out > %(since)s AND moved_out <= %(day)s
"""


def lists(
    cursor: Any,
    residents: str,
    placements: str,
    *,
    day: dt.date,
    home_code: str,
    birth_years: tuple[int, int],
    since: dt.date,
) -> dict[str, list[str]]:
    """Each list's personnummer, sorted, by kind (the engine's KINDS)."""
    cursor.execute(
        QUERY.format(residents=residents, placements=placements),
        {
            "day": day,
            "code": home_code,
            "born_from": dt.date(birth_years[0], 1, 1),
            "born_to": dt.date(birth_years[1], 12, 31),
            "since": since,
        },
    )
    found: dict[str, list[str]] = {
        k: []
        for k in ("no_school", "ended", "two_placements", "elsewhere", "moved_in", "moved_out")
    }
    for kind, pnr in cursor.fetchall():
        found[kind].append(pnr)
    return {kind: sorted(pnrs) for kind, pnrs in found.items()}
