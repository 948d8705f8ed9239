"""Small-number suppression for tables of pupil counts, with complementary suppression.

A count of 1 to `minimum - 1` pupils is hidden ("< 5"): primary suppression. A table usually
shows totals too, and a hidden cell could then be worked out from a total minus the visible cells.
This module hides further cells until no hidden figure can be recomputed from the published totals.

The reasoning: a table with its row totals, column totals and grand total is a set of equations
"the cells of a line sum to its total". Think of every line (row, column, the totals' row and
column) as a node and every cell as an edge between its row and its column. A hidden cell is
determined by the equations exactly when it is a bridge among the hidden cells (no cycle of hidden
cells passes through it); where a cycle does pass through it, adding 1 and subtracting 1 around the
cycle keeps every total. So after the primary cells, each hidden bridge is put on a cycle by hiding
the cheapest path of visible cells between its two ends (Dijkstra, cost = the count: small cells
first, zeros last). Lines whose totals are not published are no equation: their cells meet a
common "free" node.

Pure Python, no Django: tested with hypothesis against an independent rank computation.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

MINIMUM = 5  # groups of 1-4 pupils are hidden (docs/privacy.md)
_ZERO_COST = 10**9  # a zero hides nobody: hide one only where nothing else closes the cycle


class Margins(Enum):
    """Which totals a table publishes beside its cells."""

    NONE = "none"
    ROWS = "rows"  # a total per row
    COLUMNS = "columns"  # a total per column
    BOTH = "both"  # row totals, column totals and the grand total


@dataclass(frozen=True)
class Suppressed:
    """A table as it may be shown: None is a hidden figure ("< 5")."""

    cells: list[list[int | None]]
    row_totals: list[int | None]  # empty unless the margins include rows
    column_totals: list[int | None]  # empty unless the margins include columns
    grand_total: int | None  # None also when not published

    @property
    def hidden(self) -> int:
        return sum(v is None for row in self.cells for v in row)


def is_small(count: int, minimum: int = MINIMUM) -> bool:
    return 0 < count < minimum


def suppress(
    cells: Sequence[Sequence[int]], margins: Margins = Margins.BOTH, minimum: int = MINIMUM
) -> Suppressed:
    """Hide every small count and whatever else would let a reader work one out from totals."""
    rows = [list(r) for r in cells]
    n_cols = len(rows[0]) if rows else 0
    if any(len(r) != n_cols for r in rows):
        raise ValueError("Every row needs the same number of cells.")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("Counts cannot be negative.")
    graph = _Graph(rows, margins)
    hidden = {key for key, value in graph.values.items() if is_small(value, minimum)}
    while True:
        bridge = next((key for key in sorted(hidden) if graph.is_bridge(key, hidden)), None)
        if bridge is None:
            break
        path = graph.cheapest_cycle_path(bridge, hidden)
        if not path:  # nothing closes a cycle: the only way is to hide the figure's line whole
            hidden |= graph.edges_at(bridge)
            continue
        hidden |= path
    return graph.shown(hidden)


Key = tuple[str, int, int]  # ("cell", row, col), ("row", row, 0), ("col", 0, col), ("grand", 0, 0)


class _Graph:
    """Cells and published totals as edges between line nodes (see the module docstring)."""

    FREE = "free"

    def __init__(self, rows: list[list[int]], margins: Margins) -> None:
        self.rows, self.margins = rows, margins
        n_rows, n_cols = len(rows), len(rows[0]) if rows else 0
        by_rows = margins in (Margins.ROWS, Margins.BOTH)
        by_cols = margins in (Margins.COLUMNS, Margins.BOTH)
        self.values: dict[Key, int] = {}
        self.ends: dict[Key, tuple[str, str]] = {}
        row_node = (lambda r: f"r{r}") if by_rows else (lambda r: self.FREE)
        col_node = (lambda c: f"c{c}") if by_cols else (lambda c: self.FREE)
        for r in range(n_rows):
            for c in range(n_cols):
                self._edge(("cell", r, c), rows[r][c], row_node(r), col_node(c))
        # A total is an edge between its line and the totals' line opposite (the grand total's
        # row or column); where only one kind of margin is published, that line is free.
        if by_rows:
            for r in range(n_rows):
                self._edge(("row", r, 0), sum(rows[r]), f"r{r}", "cT" if by_cols else self.FREE)
        if by_cols:
            for c in range(n_cols):
                total = sum(rows[r][c] for r in range(n_rows))
                self._edge(("col", 0, c), total, "rT" if by_rows else self.FREE, f"c{c}")
        if by_rows and by_cols:
            self._edge(("grand", 0, 0), sum(map(sum, rows)), "rT", "cT")

    def _edge(self, key: Key, value: int, u: str, v: str) -> None:
        self.values[key] = value
        self.ends[key] = (u, v)

    def edges_at(self, key: Key) -> set[Key]:
        """Every figure on the lines of this one (the last resort: hide the lines whole)."""
        ends = {n for n in self.ends[key] if n != self.FREE}
        return {k for k, (u, v) in self.ends.items() if u in ends or v in ends} | {key}

    def is_bridge(self, key: Key, hidden: set[Key]) -> bool:
        """No other path of hidden figures joins this hidden figure's two ends."""
        start, goal = self.ends[key]
        if start == goal:
            return False
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            for other in hidden:
                if other == key:
                    continue
                u, v = self.ends[other]
                nxt = v if u == node else u if v == node else None
                if nxt is not None and nxt not in seen:
                    if nxt == goal:
                        return False
                    seen.add(nxt)
                    todo.append(nxt)
        return True

    def cheapest_cycle_path(self, key: Key, hidden: set[Key]) -> set[Key]:
        """The visible figures to hide so that a path of hidden figures joins this one's ends."""
        start, goal = self.ends[key]
        adjacency: dict[str, list[tuple[str, Key]]] = {}
        for other, (u, v) in self.ends.items():
            if other != key:
                adjacency.setdefault(u, []).append((v, other))
                adjacency.setdefault(v, []).append((u, other))
        best: dict[str, int] = {start: 0}
        came: dict[str, tuple[str, Key]] = {}
        queue: list[tuple[int, str]] = [(0, start)]
        while queue:
            cost, node = heapq.heappop(queue)
            if node == goal:
                break
            if cost > best.get(node, cost):
                continue
            for nxt, edge in sorted(adjacency.get(node, []), key=lambda e: e[1]):
                value = self.values[edge]
                step = 0 if edge in hidden else (value if value > 0 else _ZERO_COST)
                if cost + step < best.get(nxt, cost + step + 1):
                    best[nxt] = cost + step
                    came[nxt] = (node, edge)
                    heapq.heappush(queue, (cost + step, nxt))
        if goal not in came:
            return set()
        path, node = set(), goal
        while node != start:
            node, edge = came[node]
            path.add(edge)
        return path - hidden

    def shown(self, hidden: set[Key]) -> Suppressed:
        def show(key: Key) -> int | None:
            return None if key in hidden else self.values[key]

        n_rows, n_cols = len(self.rows), len(self.rows[0]) if self.rows else 0
        by_rows = self.margins in (Margins.ROWS, Margins.BOTH)
        by_cols = self.margins in (Margins.COLUMNS, Margins.BOTH)
        return Suppressed(
            cells=[[show(("cell", r, c)) for c in range(n_cols)] for r in range(n_rows)],
            row_totals=[show(("row", r, 0)) for r in range(n_rows)] if by_rows else [],
            column_totals=[show(("col", 0, c)) for c in range(n_cols)] if by_cols else [],
            grand_total=show(("grand", 0, 0)) if by_rows and by_cols else None,
        )


def column(counts: Sequence[int], minimum: int = MINIMUM) -> tuple[list[int | None], int | None]:
    """One column of counts with its total: (cells, total), suppressed together."""
    if not counts:
        return [], 0
    result = suppress([[c] for c in counts], Margins.COLUMNS, minimum)
    return [row[0] for row in result.cells], result.column_totals[0]
