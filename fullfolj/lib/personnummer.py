"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer).

Format YYYYMMDD-NNNC: the last digit is a Luhn check digit over the ten digits YYMMDDNNN.
A samordningsnummer adds 60 to the day (Skatteverket, SKV 707 and SKV 704).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(\d{4})(\d{2})(\d{2})[-+]?(\d{3})(\d)$")
COORDINATION_DAY_OFFSET = 60


class InvalidPersonnummer(ValueError):
    """The value is not a valid personnummer; the message says why, in Swedish."""


def luhn_check_digit(digits: str) -> int:
    """The Luhn digit that completes `digits` (the nine digits YYMMDDNNN)."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Personnummer:
    birth_date: dt.date
    serial: str  # the three digits NNN
    check: int
    is_coordination: bool

    @property
    def normalized(self) -> str:
        day = self.birth_date.day + (COORDINATION_DAY_OFFSET if self.is_coordination else 0)
        return f"{self.birth_date:%Y%m}{day:02d}-{self.serial}{self.check}"

    @property
    def legal_gender(self) -> str:
        """'F' or 'M' as registered: the ninth digit is odd for men, even for women."""
        return "M" if int(self.serial[2]) % 2 else "F"

    def __str__(self) -> str:
        return self.normalized


def parse(value: str) -> Personnummer:
    """Parse and validate YYYYMMDD-NNNC (the dash is optional); raise InvalidPersonnummer."""
    text = (value or "").strip()
    match = _PATTERN.match(text)
    if not match:
        raise InvalidPersonnummer(f"”{value}” har inte formen ÅÅÅÅMMDD-NNNN.")
    year, month, day, serial, check = match.groups()
    day_number = int(day)
    is_coordination = day_number > COORDINATION_DAY_OFFSET
    if is_coordination:
        day_number -= COORDINATION_DAY_OFFSET
    try:
        birth_date = dt.date(int(year), int(month), day_number)
    except ValueError as error:
        raise InvalidPersonnummer(f"”{value}” innehåller ett datum som inte finns.") from error
    expected = luhn_check_digit(f"{year[2:]}{month}{day}{serial}")
    if expected != int(check):
        raise InvalidPersonnummer(f"”{value}” har fel kontrollsiffra.")
    return Personnummer(birth_date, serial, int(check), is_coordination)


def make(birth_date: dt.date, serial: int, *, coordination: bool = False) -> str:
    """Build a valid personnummer for a birth date and a three-digit serial (for simulation)."""
    day = birth_date.day + (COORDINATION_DAY_OFFSET if coordination else 0)
    body = f"{birth_date:%y%m}{day:02d}{serial:03d}"
    return f"{birth_date:%Y%m}{day:02d}-{serial:03d}{luhn_check_digit(body)}"
