"""Money helpers: dollars typed by people or files <-> integer cents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import INEXACT, NEGATIVE, UnreadableAmount, format_cents, parse_dollars, parse_typed_dollars


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


@pytest.mark.parametrize(("text", "cents"), [("12,50", 1250), ("$12,50", 1250), ("1,250", 125000),
                                             ("1,234.56", 123456), ("12.5", 1250), ("$ 12", 1200), (".5", 50)])
def test_a_typed_amount_is_read_exactly(text, cents):
    """TONE-2: "12,50" is $12.50 (a comma then exactly two digits is the cents), never $12.00."""
    assert parse_typed_dollars(text) == cents


@pytest.mark.parametrize(("text", "reason"), [
    ("-50", NEGATIVE), ("$-50", NEGATIVE), ("-$50", NEGATIVE), ("\u221250", NEGATIVE), ("12.345", INEXACT),
    ("12,5", INEXACT), ("1.234,56", INEXACT), ("1,250,50", INEXACT), ("12..5", INEXACT), ("", INEXACT),
])
def test_a_typed_amount_that_is_negative_or_not_exact_is_refused_with_its_reason(text, reason):
    """Mutation tried: the NEGATIVE check removed from parse_typed_dollars -> "-50" INEXACT, "$-50" INEXACT: fails."""
    with pytest.raises(UnreadableAmount) as refused:
        parse_typed_dollars(text)
    assert refused.value.reason == reason


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([".", ","]), st.booleans(), st.booleans())
def test_property_an_amount_typed_with_its_cents_reads_back_to_the_cent(cents, mark, dollar, grouped):
    whole = f"{cents // 100:,}" if grouped and mark == "." else str(cents // 100)
    assert parse_typed_dollars(f"{'$' if dollar else ''}{whole}{mark}{cents % 100:02d}") == cents


@given(st.text(alphabet="0123456789.,$- ", max_size=16))
def test_property_a_typed_amount_is_exact_or_refused_never_guessed(text):
    """Whatever is typed: a non-negative count of cents whose digits all come from the text, or a refusal."""
    try:
        cents = parse_typed_dollars(text)
    except UnreadableAmount:
        return
    assert cents >= 0 and "-" not in text
    digits = "".join(c for c in text if c.isdigit()).lstrip("0")
    assert str(cents).rstrip("0") == digits.rstrip("0") or cents == 0
