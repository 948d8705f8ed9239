"""Small counts, and every figure that would give one away, are hidden."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fullfolj.lib import disclosure

MIN = 5


def test_small_counts_are_hidden_and_zero_is_shown():
    assert disclosure.column([0, 3, 7], None, MIN) == ([0, None, 7], None)


def test_a_single_hidden_cell_under_a_shown_total_takes_another_with_it():
    # 3 + 6 + 9 = 18: with 18 shown, hiding only the 3 gives it away.
    cells, total = disclosure.column([3, 6, 9], 18, MIN)
    assert cells == [None, None, 9]
    assert total == 18


def test_a_small_total_is_hidden():
    assert disclosure.column([3, 0], 3, MIN) == ([None, 0], None)


def test_a_small_rest_outside_the_cells_is_protected():
    # 20 flagged, 18 of them in the listed schools: the 2 elsewhere would show.
    cells, total = disclosure.column([8, 10], 20, MIN)
    assert cells == [None, 10]
    assert total == 20


def test_a_part_is_hidden_when_the_rest_of_its_whole_is_small():
    assert disclosure.part_of(12, 9, MIN) is None  # 3 would show as 12 - 9
    assert disclosure.part_of(12, 12, MIN) == 12
    assert disclosure.part_of(12, 5, MIN) == 5
    assert disclosure.part_of(None, 7, MIN) is None  # would bound the hidden whole from below
    assert disclosure.part_of(None, 0, MIN) == 0


@given(st.lists(st.integers(0, 30), max_size=8), st.integers(0, 12), st.booleans())
def test_no_small_figure_can_be_read_or_derived(cells, rest, with_total):
    total = sum(cells) + rest if with_total else None
    out, shown_total = disclosure.column(cells, total, MIN)
    shown = [c for c in out if c is not None]
    assert all(not disclosure.is_small(c, MIN) for c in shown)
    assert all(o is None or o == c for c, o in zip(cells, out, strict=True))
    if shown_total is not None:
        assert not disclosure.is_small(shown_total, MIN)
        # What the reader can derive: the sum of the hidden cells and the rest together.
        unknown = [c for c, o in zip(cells, out, strict=True) if o is None]
        if rest:
            unknown.append(rest)
        if len(unknown) == 1:
            assert not disclosure.is_small(unknown[0], MIN)
