"""Money helpers: dollars typed by people or files <-> integer cents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import format_cents, parse_dollars


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1234.56", 123456),
        ("12", 1200),
        ("0.5", 50),
        ("1,234.56", 123456),
        ("$1,234.56", 123456),
        ("0.01", 1),
        ("0", 0),
        ("  25000.00 ", 2500000),
        ("1,000,000", 100000000),
        # far beyond float precision: Decimal keeps every cent
        ("90071992547409.93", 9007199254740993),
    ],
)
def test_dollar_amounts_become_exact_cents(text, cents):
    assert parse_dollars(text) == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5.00", "negative"),
        ("$-5", "negative"),
        ("1.234", "more than 2 decimal places"),
        ("twelve", "not a dollar amount"),
        ("", "empty"),
        ("   ", "empty"),
        ("NaN", "not a finite number"),
        ("inf", "not a finite number"),
        ("-Infinity", "negative"),
        ("1e3", "not a dollar amount"),
        ("1,23.00", "not a dollar amount"),
        ("12,34", "not a dollar amount"),
        (".", "not a dollar amount"),
        ("١٢", "not a dollar amount"),  # Arabic-Indic digits: Decimal would take them, we do not
        ("1 234", "not a dollar amount"),
    ],
)
def test_bad_amounts_are_rejected_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_dollars(text)


def test_parse_refuses_floats():
    with pytest.raises(TypeError):
        parse_dollars(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (123456, "$1,234.56"),
        (5, "$0.05"),
        (0, "$0.00"),
        (-100, "-$1.00"),
        (100000000, "$1,000,000.00"),
    ],
)
def test_cents_are_shown_as_dollars(cents, text):
    assert format_cents(cents) == text


def test_other_currencies_show_their_code():
    assert format_cents(123456, "EUR") == "1,234.56 EUR"


@pytest.mark.parametrize("value", [12.5, True, "100"])
def test_format_refuses_anything_but_integer_cents(value):
    with pytest.raises(TypeError):
        format_cents(value)


@given(st.integers(min_value=0, max_value=10**11))
def test_formatted_amounts_parse_back_to_the_same_cents(cents):
    assert parse_dollars(format_cents(cents)) == cents
