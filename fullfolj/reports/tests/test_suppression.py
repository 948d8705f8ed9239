"""Suppression: every small count is hidden, and no hidden figure can be worked out from the
published totals (checked by linear algebra, independently of the module's graph reasoning)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fullfolj.reports.suppression import Margins, Suppressed, column, suppress

counts = st.integers(min_value=0, max_value=30)
tables = st.integers(1, 5).flatmap(
    lambda cols: st.lists(st.lists(counts, min_size=cols, max_size=cols), min_size=1, max_size=5)
)


def _figures(table: list[list[int]], margins: Margins, shown: Suppressed):
    """Every published position as (value, shown value, coefficient vector over the cells)."""
    n_rows, n_cols = len(table), len(table[0])
    size = n_rows * n_cols

    def vec(indices):
        v = np.zeros(size)
        for i in indices:
            v[i] = 1
        return v

    out = []
    for r in range(n_rows):
        for c in range(n_cols):
            out.append((table[r][c], shown.cells[r][c], vec([r * n_cols + c])))
    if margins in (Margins.ROWS, Margins.BOTH):
        for r in range(n_rows):
            out.append(
                (sum(table[r]), shown.row_totals[r], vec(range(r * n_cols, (r + 1) * n_cols)))
            )
    if margins in (Margins.COLUMNS, Margins.BOTH):
        for c in range(n_cols):
            total = sum(row[c] for row in table)
            out.append((total, shown.column_totals[c], vec(range(c, size, n_cols))))
    if margins is Margins.BOTH:
        out.append((sum(map(sum, table)), shown.grand_total, vec(range(size))))
    return out


def _determined(figures, index) -> bool:
    """Whether hidden figure `index` follows from the visible ones: its vector lies in their span."""
    visible = [vec for _value, seen, vec in figures if seen is not None]
    target = figures[index][2]
    if not visible:
        return False
    base = np.array(visible)
    return np.linalg.matrix_rank(np.vstack([base, target])) == np.linalg.matrix_rank(base)


@settings(max_examples=300, deadline=None)
@given(table=tables, margins=st.sampled_from(list(Margins)))
def test_no_hidden_figure_can_be_recomputed_from_the_totals(table, margins):
    shown = suppress(table, margins)
    figures = _figures(table, margins, shown)
    for index, (value, seen, _vec) in enumerate(figures):
        if 0 < value < 5:
            assert seen is None, (table, margins, index)
        if seen is not None:
            assert seen == value
        else:
            assert not _determined(figures, index), (table, margins, index, shown)


def test_a_small_cell_takes_a_partner_in_its_row_and_column():
    shown = suppress([[3, 10, 12], [8, 9, 20]], Margins.BOTH)
    assert shown.cells[0][0] is None
    # the cheapest rectangle: the 8 below and the 10 beside it, and the 9 opposite
    assert shown.cells[1][0] is None and shown.cells[0][1] is None and shown.cells[1][1] is None
    assert shown.cells[0][2] == 12 and shown.row_totals == [25, 37]
    assert shown.grand_total == 62


def test_a_table_without_small_counts_is_shown_whole():
    shown = suppress([[5, 6], [0, 9]], Margins.BOTH)
    assert shown.cells == [[5, 6], [0, 9]] and shown.grand_total == 20


def test_a_column_hides_a_second_figure_beside_one_small_count():
    cells, total = column([2, 10, 30])
    assert cells == [None, None, 30] and total == 42
    assert column([]) == ([], 0)
    assert column([3]) == ([None], None)


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="same number"):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError, match="negative"):
        suppress([[-1]])
