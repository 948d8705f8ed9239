"""Small counts shown outside a school are hidden, and so is any figure that would give one away.

A count of 1 to `minimum - 1` pupils could point at the pupils themselves, so it is hidden
(primary suppression). Hiding is not enough where the hidden count can be worked out from what
is shown: a total minus the visible cells, or a whole minus a visible part. Those figures are
hidden too (complementary suppression). Zero stays visible: it reveals nobody.
"""

from __future__ import annotations

from collections.abc import Sequence


def is_small(count: int, minimum: int) -> bool:
    return 0 < count < minimum


def shown(count: int, minimum: int) -> int | None:
    """The count, or None where it is a small group."""
    return None if is_small(count, minimum) else count


def column(
    cells: Sequence[int], total: int | None, minimum: int
) -> tuple[list[int | None], int | None]:
    """A column of counts and its total (None: no total is shown), suppressed together.

    The total may hold pupils outside the cells (the rest). With the total shown, a reader
    knows the sum of everything not shown; if that is a single small figure (one hidden cell,
    or the rest alone) it is given away, so the smallest visible non-zero cell is hidden too,
    or, where there is none, the total.
    """
    out: list[int | None] = [shown(c, minimum) for c in cells]
    if total is None or shown(total, minimum) is None:
        return out, None
    rest = total - sum(cells)
    unknown = [c for c, o in zip(cells, out, strict=True) if o is None]
    if rest:
        unknown.append(rest)
    if len(unknown) == 1 and is_small(unknown[0], minimum):
        visible = [i for i, o in enumerate(out) if o]
        if not visible:
            return out, None
        out[min(visible, key=lambda i: (cells[i], i))] = None
    return out, total


def part_of(whole: int | None, part: int | None, minimum: int) -> int | None:
    """A part shown beside its whole (None: hidden), hidden where it would give a small figure
    away: where the rest (whole - part) is a small group, and where the whole is hidden, since a
    visible part bounds the hidden whole from below. A part of zero reveals nobody."""
    if part is None or part == 0:
        return part
    if whole is None:
        return None
    return None if is_small(whole - part, minimum) else part
