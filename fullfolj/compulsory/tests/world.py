"""A small register and placement lists written by hand around the cast, with each kind of
mismatch the oversight finds (docs/compulsory.md). Today is 2026-03-18, home code 9999."""

from __future__ import annotations

import datetime as dt

from fullfolj.lib import personnummer
from fullfolj.schools import models as s

DAY = dt.date(2026, 3, 18)


def pnr(born: dt.date, serial: int, *, coordination: bool = False) -> str:
    return personnummer.make(born, serial, coordination=coordination)


GUSTAV = pnr(dt.date(2015, 6, 1), 211)
FREJA = pnr(dt.date(2014, 9, 9), 222)  # protected identity
MIRA = pnr(dt.date(2011, 4, 12), 233, coordination=True)  # a samordningsnummer
HANNA = pnr(dt.date(2013, 1, 20), 244)
IVAR = pnr(dt.date(2014, 2, 2), 255)
JONNA = pnr(dt.date(2016, 7, 7), 266)
KALLE = pnr(dt.date(2012, 11, 30), 277)
LARS = pnr(dt.date(1980, 1, 1), 288)  # an adult
SIGGE = pnr(dt.date(2020, 3, 3), 299)  # starts förskoleklass next autumn


def organisers() -> tuple[s.Organiser, s.Organiser]:
    independent = s.Organiser.objects.create(name="Friskolan AB", kind="independent")
    neighbour = s.Organiser.objects.create(
        name="Grannby kommun", kind="municipality", municipality_code="1111"
    )
    return independent, neighbour


def register_csv(cast: object) -> bytes:
    c = cast
    rows = [
        "Personnummer;Förnamn;Efternamn;Folkbokföringskommun;Inflyttningsdatum;Utflyttningsdatum;Skyddad folkbokföring;Adress",
        f"{c.pupil.personnummer};Alva;Åkesson;9999;;;nej;Allén 2",
        f"{c.other_pupil.personnummer};Bilal;Bäckström;9999;;;nej;",
        f"{c.protected.personnummer};Cora;Cöster;9999;;;ja;Hemliga gatan 1",
        f"{c.pupil_elsewhere.personnummer};Dino;Dählgren;1111;;;nej;",
        f"{c.moved_away.personnummer};Elis;Ekström;9999;;;nej;Eksvängen 4",
        f"{GUSTAV};Gustav;Nyström;9999;;;nej;Storgatan 9",
        f"{FREJA};Freja;Fors;9999;;;ja;Skyddad väg 7",
        # the register service's short form, ten digits
        f"{MIRA[2:]};Mira;Moberg;9999;2025-10-01;;nej;",
        f"{HANNA};Hanna;Holm;9999;;;nej;",
        f"{IVAR};Ivar;Idström;9999;;;nej;",
        f"{JONNA};Jonna;Jansson;9999;2026-03-01;;nej;",
        f"{KALLE};Kalle;Krantz;1111;;2026-02-15;nej;",
        f"{LARS};Lars;Larsson;9999;;;nej;",
        f"{SIGGE};Sigge;Svensson;9999;;;nej;",
    ]
    return ("\r\n".join(rows) + "\r\n").encode("cp1252")


def placements_csv() -> bytes:
    rows = [
        "Personnummer;Förnamn;Efternamn;Huvudman;Skolenhetskod;Skola;Startdatum;Slutdatum",
        f"{HANNA};Hanna;Holm;Friskolan AB;55500001;Friskolan Centrum;2025-08-18;",
        f"{IVAR};Ivar;Idström;Friskolan AB;55500001;Friskolan Centrum;2025-08-18;",
        f"{IVAR};Ivar;Idström;Grannby kommun;66600001;Grannbyskolan;2026-01-08;",
        f"{JONNA};Jonna;Jansson;Friskolan AB;55500001;Friskolan Centrum;2026-03-02;",
        f"{KALLE};Kalle;Krantz;Friskolan AB;55500001;Friskolan Centrum;2024-08-19;2026-02-14",
    ]
    return ("\n".join(rows) + "\n").encode("utf-8")


EXPECTED = {
    "no_school": {GUSTAV, FREJA, MIRA},
    "ended": {"moved_away"},
    "two_placements": {IVAR},
    "elsewhere": {"pupil_elsewhere"},
    "moved_in": {JONNA},
    "moved_out": {KALLE},
}


def expected(cast: object) -> dict[str, list[str]]:
    """The lists, with the cast's pupils by personnummer."""
    return {
        kind: sorted(getattr(cast, p).personnummer if not p[0].isdigit() else p for p in found)
        for kind, found in EXPECTED.items()
    }
