"""Column maps for the exports of the common school systems, and the preview of a file.

The built-in maps are written by us from the headers such exports typically carry; they are
not the vendors' published formats (none is public), so each is named "like" its system. An
administration saves its own maps as ImportPreset rows; a file whose headers fit a map is
read with it without being asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from fullfolj.schools import models as s

from . import common, load
from . import reader as r

BUILT_IN: dict[str, dict[str, dict[str, str]]] = {
    "pupils": {
        "Skola24-liknande": {
            "pnr": "Personnr",
            "first": "Förnamn",
            "last": "Efternamn",
            "school": "Skolenhet",
            "class": "Klass",
            "start": "Placeringsdatum",
        },
        "Vklass-liknande": {
            "pnr": "Personnummer (ÅÅÅÅMMDD-NNNN)",
            "first": "Tilltalsnamn",
            "last": "Efternamn",
            "school": "Skolenhetskod",
            "class": "Klassnamn",
            "address": "Folkbokföringsadress",
        },
        "Edlevo-liknande": {
            "pnr": "Elev personnummer",
            "first": "Elev förnamn",
            "last": "Elev efternamn",
            "school": "Skolenhetskod",
            "class": "Basgrupp",
            "start": "Inskriven från",
        },
    },
    "guardians": {
        "Skola24-liknande": {
            "pnr": "Elevens personnr",
            "first": "Vh förnamn",
            "last": "Vh efternamn",
            "email": "Vh e-post",
            "phone": "Vh mobil",
            "address": "Vh adress",
        },
        "Edlevo-liknande": {
            "pnr": "Elev personnummer",
            "first": "Vårdnadshavare förnamn",
            "last": "Vårdnadshavare efternamn",
            "email": "E-postadress",
            "phone": "Mobiltelefon",
        },
    },
    "groups": {
        "Vklass-liknande": {
            "school": "Skolenhetskod",
            "group": "Gruppnamn",
            "kind": "Grupptyp",
            "pnr": "Elevens personnummer",
            "start": "Medlem från",
            "end": "Medlem till",
        },
    },
    "timetable": {
        "Skola24-liknande": {
            "school": "Skolenhet",
            "group": "Grupp",
            "subject": "Ämneskod",
            "date": "Datum",
            "time": "Start",
            "until": "Slut",
            "teacher": "Lärarsignatur",
        },
    },
    "attendance": {
        "Skola24-liknande": {
            "pnr": "Personnr",
            "school": "Skolenhet",
            "group": "Grupp",
            "subject": "Ämneskod",
            "date": "Datum",
            "time": "Start",
            "minutes": "Längd (min)",
            "absent": "Frånvaro",
            "late": "Sen",
            "valid": "Anmäld",
        },
        "Vklass-liknande": {
            "pnr": "Personnummer",
            "school": "Skolenhetskod",
            "group": "Kurs/grupp",
            "subject": "Ämne",
            "date": "Lektionsdatum",
            "time": "Lektionsstart",
            "minutes": "Lektionslängd",
            "absent": "Frånvarominuter",
            "valid": "Giltig frånvaro",
        },
    },
    "grades": {
        "Vklass-liknande": {
            "pnr": "Personnummer",
            "school": "Skolenhetskod",
            "subject": "Ämneskod",
            "grade": "Terminsbetyg",
            "term": "Period",
            "teacher": "Betygssättande lärare",
        },
        "Edlevo-liknande": {
            "pnr": "Elev personnummer",
            "school": "Skolenhetskod",
            "subject": "Ämne",
            "grade": "Betyg",
            "date": "Betygsdatum",
        },
    },
}


def presets_for(kind: str, organiser: s.Organiser) -> dict[str, dict[str, str]]:
    """The column maps for `kind`: the built-in ones, then the organiser's own by name."""
    from fullfolj.exchange.models import ImportPreset

    found = dict(BUILT_IN.get(kind, {}))
    for preset in ImportPreset.objects.filter(organiser=organiser, kind=kind):
        found[preset.name] = {str(k): str(v) for k, v in preset.columns.items()}
    return found


def _fits(columns: Iterable[load.Column], headers: list[str]) -> bool:
    written = {" ".join(h.split()).casefold() for h in headers}
    return all(set(c.names) & written for c in columns if c.required)


def detect(kind: str, headers: list[str], presets: dict[str, dict[str, str]]) -> str | None:
    """The first preset under which the file has every required column, when the file does not
    already have them by our own names; None when it does or no preset fits."""
    wanted = load.KINDS[kind][0]
    if _fits(wanted, headers):
        return None
    for name, columns in presets.items():
        if _fits(load.mapped(wanted, columns), headers):
            return name
    return None


@dataclass
class Preview:
    """The first rows of a file as they will be read, and every problem in it."""

    headers: list[str]
    columns: list[tuple[str, str, bool]]  # (key, our column's label, required)
    chosen: dict[str, str]  # key: the file's header that will be read for it
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[load.Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: str = ""
    total: int = 0

    @property
    def partly_checked(self) -> bool:
        return self.total > CHECKED_ROWS

    @property
    def checked_rows(self) -> int:
        return min(self.total, CHECKED_ROWS)


SHOWN_ROWS = 8
# A preview answers while the page waits: a larger file has only its first rows checked here,
# and all of them by the import in the background.
CHECKED_ROWS = 20_000


def preview(
    kind: str, raw: bytes, *, name: str, columns: dict[str, str], organiser: s.Organiser
) -> Preview:
    """Read a file as the import would, write nothing: its first rows by our columns, and the
    report of bad rows the import would give (the checks that need writing aside)."""
    wanted = load.mapped(load.KINDS[kind][0], columns)
    plan = load.KINDS[kind][1]
    try:
        headers, rows = r.read(raw, name)
    except r.FileRejected as error:
        return Preview([], [], {}, error=str(error))
    written = {" ".join(h.split()).casefold(): h for h in headers}
    chosen = {c.key: next((written[n] for n in c.names if n in written), "") for c in wanted}
    out = Preview(headers, [(c.key, _label(c), c.required) for c in load.KINDS[kind][0]], chosen)
    out.missing = [label for key, label, required in out.columns if required and not chosen[key]]
    try:
        every = list(rows)
    except r.FileRejected as error:
        out.error = str(error)
        return out
    out.total = len(every)
    for row in islice(every, SHOWN_ROWS):
        cells = []
        for column in wanted:
            value = next((row.values[n] for n in column.names if n in row.values), None)
            cells.append(r.text(value))
        out.rows.append((row.line, cells))
    if out.missing:
        return out
    try:
        found = common.find_columns(headers, wanted)
        _plans, out.problems = plan(every[:CHECKED_ROWS], found, organiser)
    except r.FileRejected as error:
        out.error = str(error)
    return out


def _label(column: load.Column) -> str:
    """Our name of a column as a Swedish file writes it: Personnummer, Frånvaro (min)."""
    return column.names[0][:1].upper() + column.names[0][1:]
