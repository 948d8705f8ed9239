"""What every part of an SS 12000 import shares: the report, what was fetched, and the links
between the source's objects and our rows (docs/exchange.md).

Every row the import owns has a `Link` to the source's object, so a second run finds it again
and changes nothing when nothing changed, and rows made by hand (a placement the school office
entered) are never removed by an import.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.db.models import Q
from django.utils import timezone

from fullfolj.attendance.store import Pair

from ..models import Link, Source
from . import parse as p
from .client import Client, SS12000Error

M = TypeVar("M", bound=models.Model)


class ImportFailed(SS12000Error):
    """Our rows refused the source's data (a rule of ours); the message names the object."""


@dataclass
class Report:
    """What an import did (or, dry, would do): one line per created, changed or removed row."""

    lines: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def add(self, action: str, kind: str, label: str) -> None:
        self.counts[f"{action} {kind}"] += 1
        self.lines.append(f"{action} {kind} {label}")

    def warn(self, message: str) -> None:
        self.counts["skipped"] += 1
        self.warnings.append(message)

    def total(self, action: str) -> int:
        return sum(n for key, n in self.counts.items() if key.startswith(action + " "))


@dataclass
class Fetched:
    organisations: list[dict[str, Any]] = field(default_factory=list)
    syllabuses: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    duties: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)
    deleted: dict[str, set[str]] = field(default_factory=dict)
    latest: dt.datetime | None = None  # the latest meta.modified seen

    def seen(self, moment: dt.datetime | None) -> None:
        if moment is not None and (self.latest is None or moment > self.latest):
            self.latest = moment


class Rows:
    """The import's state, and how it finds, creates, changes and removes linked rows."""

    def __init__(
        self,
        client: Client,
        source: Source,
        *,
        since: dt.datetime | None,
        deleted_since: dt.datetime | None,
        today: dt.date,
    ) -> None:
        self.client = client
        self.source = source
        self.since = since
        self.deleted_since = deleted_since
        self.today = today
        self.report = Report()
        self.data = Fetched()
        self._links: dict[tuple[str, str], Link] = {}
        self._persons: dict[str, dict[str, Any]] = {}
        self._pairs: set[Pair] = set()
        self._protected_guardians: set[str] | None = None
        self.fresh: set[tuple[str, int]] = set()  # rows this run created, by kind
        self.seen_ids: set[str] = set()  # every object this run read, by the source's id
        self._now = timezone.now()

    def person(self, ident: str) -> dict[str, Any]:
        """A person of this run, or read from the source by id (a guardian, a teacher)."""
        if ident not in self._persons:
            found = self.client.request(f"/persons/{ident}", what=f"person {ident}")
            if not isinstance(found, dict):
                raise p.fail("person", {"id": ident}, "the answer is not an object")
            p.uuid("person", found)
            self._persons[ident] = found
        return self._persons[ident]

    # --- links ----------------------------------------------------------------------------

    def _load_links(self) -> None:
        # Not the marks' links: there are millions; the marks read theirs per batch.
        for link in Link.objects.filter(source=self.source).exclude(kind="mark"):
            self._links[(link.kind, link.external_id)] = link

    def local(self, kind: str, external: str | None) -> int | None:
        link = self._links.get((kind, external or ""))
        return link.local_id if link else None

    def _link(self, kind: str, external: str, local: int) -> None:
        link = self._links.get((kind, external))
        if link is None:
            self._links[(kind, external)] = Link.objects.create(
                source=self.source, kind=kind, external_id=external, local_id=local
            )
        elif link.local_id != local:
            link.local_id = local
            link.save(update_fields=["local_id"])

    def _unlink(self, kind: str, external: str) -> None:
        link = self._links.pop((kind, external), None)
        if link is not None:
            link.delete()

    def _keys(self, kind: str, prefix: str) -> list[str]:
        return [ext for (k, ext) in self._links if k == kind and ext.startswith(prefix)]

    def _save(self, obj: models.Model, what: str) -> None:
        try:
            obj.save()
        except ValidationError as error:
            problems = "; ".join(
                f"{name}: {' '.join(str(m) for m in messages)}"
                for name, messages in error.message_dict.items()
            )
            raise ImportFailed(f"The SS 12000 {what} cannot be imported: {problems}") from error
        except IntegrityError as error:
            raise ImportFailed(
                f"The SS 12000 {what} clashes with a row Fullfölj already has: {error}"
            ) from error

    def sync(
        self,
        kind: str,
        external: str,
        model: type[M],
        values: dict[str, Any],
        *,
        label: str,
        find: Q | None = None,
    ) -> M:
        """The row linked to `external`, created or changed to `values`; reported if so.

        `find`: how to recognise a row of ours made before the link (by its natural key)."""
        obj: M | None = None
        local = self.local(kind, external)
        if local is not None:
            obj = model._default_manager.filter(pk=local).first()
        if obj is None and find is not None:
            obj = model._default_manager.filter(find).first()
        if obj is None:
            obj = model(**values)
            self._save(obj, f"{kind} {label}")
            self.report.add("create", kind, label)
            self.fresh.add((kind, obj.pk))
        else:
            changed = [name for name, value in values.items() if getattr(obj, name) != value]
            if changed:
                for name in changed:
                    setattr(obj, name, values[name])
                self._save(obj, f"{kind} {label}")
                self.report.add("change", kind, f"{label} ({', '.join(sorted(changed))})")
        self._link(kind, external, obj.pk)
        return obj

    def remove(self, kind: str, external: str, model: type[models.Model], *, label: str) -> None:
        local = self.local(kind, external)
        if local is None:
            return
        deleted, _rows = model._default_manager.filter(pk=local).delete()
        if deleted:
            self.report.add("remove", kind, label)
        self._unlink(kind, external)
