"""Numbers from requests, read one safe way: a bad value is None, never an exception."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the database's bigint ids


def parse_id(value: object) -> int | None:
    """The row id a request names, or None.

    ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and "٣" (which int()
    reads as 3). Ids start at 1 and fit the database's 64-bit columns (a larger number would
    overflow in the driver).
    """
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values: list[str]) -> set[int] | None:
    """The ids of a posted list, or None if any of them is not an id."""
    ids = {parse_id(value) for value in values}
    return None if None in ids else ids  # type: ignore[return-value]
