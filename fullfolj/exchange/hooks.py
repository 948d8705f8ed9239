"""File kinds that apps above exchange import through `fullfolj import KIND FILE`.

The compulsory-school oversight (above exchange) reads population-register extracts and other
organisers' placement lists with this app's tabular reader; it offers its kinds from its
AppConfig.ready() (`provide_file_kind`), and the import command lists each as a subcommand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fullfolj.schools.models import Organiser

from .tabular.load import Result


class FileImporter(Protocol):
    def __call__(
        self, raw: bytes, *, name: str, dry_run: bool, organiser: Organiser | None
    ) -> Result: ...


@dataclass(frozen=True)
class FileKind:
    name: str  # the subcommand: `fullfolj import NAME FILE`
    help: str
    run: FileImporter


_kinds: dict[str, FileKind] = {}


def provide_file_kind(kind: FileKind) -> None:
    """Offer `kind` to the import command from now on (once, however often called)."""
    _kinds[kind.name] = kind


def file_kinds() -> dict[str, FileKind]:
    return dict(_kinds)
