"""Reading fields out of SS 12000 objects, with a clear error when one does not match the spec.

Unknown keys are ignored, as the spec allows; a missing required field or a value of the wrong
form raises InvalidResponse naming the entity and its id.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .client import InvalidResponse

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _where(entity: str, item: dict[str, Any]) -> str:
    ident = item.get("id")
    return f"{entity} {ident}" if isinstance(ident, str) else entity


def fail(entity: str, item: dict[str, Any], problem: str) -> InvalidResponse:
    return InvalidResponse(
        f"The SS 12000 {_where(entity, item)} does not match the specification: {problem}."
    )


def text(entity: str, item: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None:
        if required:
            raise fail(entity, item, f"“{key}” is missing")
        return ""
    if not isinstance(value, str):
        raise fail(entity, item, f"“{key}” is not a string")
    return value


def uuid(entity: str, item: dict[str, Any], key: str = "id") -> str:
    value = text(entity, item, key)
    if not _UUID.match(value):
        raise fail(entity, item, f"“{key}” is not a UUID")
    return value.lower()


def optref(entity: str, item: dict[str, Any], key: str) -> str | None:
    """The id of a reference object {id, displayName?}, or None if there is none."""
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(entity, item, f"“{key}” is not a reference object")
    return uuid(entity, {"id": item.get("id"), key: value.get("id")}, key)


def ref(entity: str, item: dict[str, Any], key: str) -> str:
    found = optref(entity, item, key)
    if found is None:
        raise fail(entity, item, f"“{key}” is missing")
    return found


def refs(entity: str, item: dict[str, Any], key: str) -> list[str]:
    values = item.get(key) or []
    if not isinstance(values, list):
        raise fail(entity, item, f"“{key}” is not a list")
    return [ref(entity, {"id": item.get("id"), key: value}, key) for value in values]


def objects(entity: str, item: dict[str, Any], key: str) -> list[dict[str, Any]]:
    values = item.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise fail(entity, item, f"“{key}” is not a list of objects")
    return values


def optdate(entity: str, item: dict[str, Any], key: str) -> dt.date | None:
    value = text(entity, item, key, required=False)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(entity, item, f"“{key}” is not a date (YYYY-MM-DD): {value!r}") from None


def date(entity: str, item: dict[str, Any], key: str) -> dt.date:
    found = optdate(entity, item, key)
    if found is None:
        raise fail(entity, item, f"“{key}” is missing")
    return found


def optwhen(entity: str, item: dict[str, Any], key: str) -> dt.datetime | None:
    value = text(entity, item, key, required=False)
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise fail(entity, item, f"“{key}” is not a date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise fail(entity, item, f"“{key}” has no offset: {value!r}")
    return moment


def when(entity: str, item: dict[str, Any], key: str) -> dt.datetime:
    found = optwhen(entity, item, key)
    if found is None:
        raise fail(entity, item, f"“{key}” is missing")
    return found


def minutes(entity: str, item: dict[str, Any], key: str) -> int:
    value = item.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise fail(entity, item, f"“{key}” is not a whole number of minutes: {value!r}")
    return value


def flag(entity: str, item: dict[str, Any], key: str, *, default: bool = False) -> bool:
    value = item.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise fail(entity, item, f"“{key}” is not true or false")
    return value


def modified(entity: str, item: dict[str, Any], *, required: bool = True) -> dt.datetime | None:
    """meta.modified: when the object itself last changed (the source's clock)."""
    meta = item.get("meta")
    if meta is None and not required:
        return None
    if not isinstance(meta, dict):
        raise fail(entity, item, "“meta” is missing")
    return when(entity, meta | {"id": item.get("id")}, "modified")
