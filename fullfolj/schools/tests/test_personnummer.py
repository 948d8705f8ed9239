import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fullfolj.lib import personnummer

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))


@given(dates, st.integers(0, 999), st.booleans())
def test_made_numbers_parse_back(born, serial, coordination):
    text = personnummer.make(born, serial, coordination=coordination)
    parsed = personnummer.parse(text)
    assert parsed.birth_date == born
    assert parsed.is_coordination == coordination
    assert parsed.normalized == text


@given(dates, st.integers(0, 999), st.integers(1, 9))
def test_any_wrong_check_digit_is_refused(born, serial, shift):
    text = personnummer.make(born, serial)
    wrong = text[:-1] + str((int(text[-1]) + shift) % 10)
    with pytest.raises(personnummer.InvalidPersonnummer, match="kontrollsiffra"):
        personnummer.parse(wrong)


@pytest.mark.parametrize("text", ["19811218-9876", "198112189876", "20120304-1239"])
def test_known_valid_numbers(text):
    assert personnummer.parse(text).normalized.replace("-", "") == text.replace("-", "")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("20120230-1234", "datum"),
        ("2012023", "formen"),
        ("", "formen"),
        ("20121301-1230", "datum"),
        ("19811218-9875", "kontrollsiffra"),
    ],
)
def test_malformed_numbers_say_why(text, why):
    with pytest.raises(personnummer.InvalidPersonnummer, match=why):
        personnummer.parse(text)


def test_legal_gender_follows_the_ninth_digit():
    assert personnummer.parse("19811218-9876").legal_gender == "M"
    assert personnummer.parse(personnummer.make(dt.date(2010, 1, 1), 122)).legal_gender == "F"
