"""TONE-2: money figures in any common spelling, in integer cents (bot/compliance/amounts.py), so that a typed-in
figure cannot pass the outbound gate by being written "500 dollars" instead of "$500"."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import conversations
from bot.compliance import outbound_gate
from bot.compliance.amounts import amounts_in
from bot.db import session_scope
from bot.money import format_cents
from tests.conftest import add_debtor

MONEY = [
    ("$500", [50000]),
    ("$ 500", [50000]),
    ("$500.00", [50000]),
    ("$1,234.56", [123456]),
    ("$.50", [50]),
    ("US$500", [50000]),
    ("USD 500", [50000]),
    ("USD500", [50000]),
    ("500 dollars", [50000]),
    ("1,234.56 dollars", [123456]),
    ("500 bucks", [50000]),
    ("500 USD", [50000]),
    ("500$", [50000]),
    ("1 dollar", [100]),
    ("$1.2k", [120000]),
    ("$2K", [200000]),
    ("2k dollars", [200000]),
    ("$1.5m", [150000000]),
    ("$3 thousand", [300000]),
    ("2 grand", [200000]),
    ("a grand", [100000]),
    ("50 cents", [50]),
    ("50\u00a2", [50]),
    ("fifty cents", [50]),
    ("5 dollars and 50 cents", [550]),
    ("five hundred dollars", [50000]),
    ("two hundred fifty dollars", [25000]),
    ("Two Hundred and Fifty bucks", [25000]),
    ("twenty-five dollars", [2500]),
    ("twelve hundred dollars", [120000]),
    ("five thousand two hundred dollars", [520000]),
    ("a hundred bucks", [10000]),
    ("it's only a dollar more", [100]),
    ("Your balance is 412.50.", [41250]),
    ("you owe 500", [50000]),
    ("the balance is 412 now", [41200]),
    ("just pay 5k and we're done", [500000]),
    ("3 payments of 50", [5000]),
    ("I paid $500 dollars", [50000]),  # one figure, not two
    ("Your plan: 3 payments of $50.00, on Friday, March 6, April 3 and May 1.", [5000]),
    ("Pay $20 today and 30 dollars on 12/27.", [2000, 3000]),
]

NOT_MONEY = [
    "12/27",
    "exp 12/27",
    "Your date of birth is 03.14.1979?",
    "2026-03-06",
    "Call 555-123-4567",
    "(555) 123-4567 or 1-800-555-0100",
    "SET-100001",
    "account ending 0001",
    "a 5% fee",
    "5 percent",
    "3 payments",
    "three payments",
    "pay in 3",
    "pay 3 times a month",
    "pay 12/27",
    "pay on the 5th",
    "pay 5%",
    "between 8:00 and 20:59",
    "Reply 1 to pay now, or 2 to talk to a person.",
    "one payment on Friday, March 6",
    "You have 2 accounts with us.",
    "last 4 digits 1234, ZIP 94110",
]


@pytest.mark.parametrize(("text", "cents"), MONEY)
def test_TONE_2_money_in_any_common_spelling_is_found_in_cents(text, cents):
    """TONE-2. Mutations tried: the suffix alternative (`500 dollars`, `five hundred bucks`) deleted from `_MONEY`,
    and `_words_value` made to ignore "hundred": both made this test fail."""
    assert amounts_in(text) == cents


@pytest.mark.parametrize("text", NOT_MONEY)
def test_TONE_2_dates_phones_references_percentages_and_counts_are_not_money(text):
    """TONE-2. Mutation tried: the `_NOT_MONEY_AFTER` lookahead removed from the "pay 500" context rule: "pay 3
    times a month", "pay 12/27" and "pay 5%" then came back as money and this test failed."""
    assert amounts_in(text) == []


@given(st.integers(min_value=0, max_value=10**11), st.sampled_from(["{}", "Your balance is {}.", "Pay {} today"]))
def test_TONE_2_any_cents_value_written_the_usual_ways_parses_back(cents, sentence):
    """TONE-2: "$X.YY" (with and without thousands commas), "X.YY dollars", "X dollars" when whole and
    "USD X.YY" all read back as the same cents. Mutation tried: `_cents` truncating instead of rounding
    (`int(dollars * 100)` on a float): hypothesis found a value that came back a cent short."""
    dollars, rest = divmod(cents, 100)
    plain = f"{dollars}.{rest:02d}"
    spellings = [f"${plain}", format_cents(cents), f"{plain} dollars", f"{dollars:,}.{rest:02d} dollars",
                 f"USD {plain}"]
    if rest == 0:
        spellings += [f"{dollars} dollars", f"${dollars}"]
    for spelling in spellings:
        assert amounts_in(sentence.format(spelling)) == [cents], spelling


@pytest.mark.parametrize("typed", ["You owe 1000 dollars.", "Your balance is USD 1,000.00.", "Pay $1k today.",
                                   "That's one thousand dollars.", "Your balance is 1000.00."])
def test_TONE_2_the_gate_blocks_an_agents_typed_in_figure_however_spelled(sqlite_engine, typed):
    """TONE-2: the gate reads amounts with `amounts.amounts_in`; the ledger's figure passes in any spelling.
    Mutation tried: the gate's old "$"-only pattern in place of amounts_in -> "500 dollars" and the number words
    passed."""
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        debtor, account = add_debtor(session, balance_cents=123456)
        conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, datetime.now(timezone.utc)
        wrong = outbound_gate.check_reply(session, conv, typed, sender_role="agent")
        right = outbound_gate.check_reply(session, conv, "Your balance is 1,234.56 dollars.", sender_role="agent")
    assert not wrong.allowed and wrong.rule_ids == ("TONE-2",)
    assert right.allowed


_EN_ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
            "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ES_ONES = ["", "un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce",
            "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte", "veintiún",
            "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho",
            "veintinueve"]
_ES_TENS = ["", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"]
_ES_HUNDREDS = ["", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos",
                "setecientos", "ochocientos", "novecientos"]


def _english(n: int) -> str:
    """1..999,999 as people write it: "two hundred and fifty", "twelve thousand four hundred six"."""
    def under_1000(k: int) -> str:
        hundreds, rest = divmod(k, 100)
        words = [f"{_EN_ONES[hundreds]} hundred"] if hundreds else []
        if rest:
            words.append(_EN_ONES[rest] if rest < 20 else
                         _EN_TENS[rest // 10] + (f"-{_EN_ONES[rest % 10]}" if rest % 10 else ""))
        return " and ".join(words) if hundreds and rest else " ".join(words)
    thousands, rest = divmod(n, 1000)
    return " ".join(p for p in (f"{under_1000(thousands)} thousand" if thousands else "",
                                under_1000(rest) if rest else "") if p)


def _spanish(n: int) -> str:
    """1..999,999 in Spanish: "doscientos cincuenta", "mil quinientos", "treinta y cinco"."""
    def under_1000(k: int) -> str:
        if k == 100:
            return "cien"
        hundreds, rest = divmod(k, 100)
        words = [_ES_HUNDREDS[hundreds]] if hundreds else []
        if rest:
            words.append(_ES_ONES[rest] if rest < 30 else
                         _ES_TENS[rest // 10] + (f" y {_ES_ONES[rest % 10]}" if rest % 10 else ""))
        return " ".join(words)
    thousands, rest = divmod(n, 1000)
    head = "" if not thousands else ("mil" if thousands == 1 else f"{under_1000(thousands)} mil")
    return " ".join(p for p in (head, under_1000(rest) if rest else "") if p)


@given(st.integers(1, 999_999), st.sampled_from(["dollars", "bucks"]))
def test_TONE_2_any_whole_dollar_figure_in_english_words_parses_back(dollars: int, unit: str) -> None:
    """The pay-now amount and TONE-2 read the same figures ("fifty bucks"). Mutation tried: "and" dropped from the
    joiners -> "two hundred and fifty dollars" read as 50."""
    assert amounts_in(f"can i pay {_english(dollars)} {unit} today") == [dollars * 100]


@given(st.integers(1, 999_999), st.sampled_from(["dólares", "dolares"]))
def test_TONE_2_LANG_1_any_whole_dollar_figure_in_spanish_words_parses_back(dollars: int, unit: str) -> None:
    """LANG-1: "cincuenta dólares", "mil quinientos dolares". Mutation tried: "y" dropped from the joiners ->
    "treinta y cinco dólares" read as 5 (Hypothesis found it)."""
    assert amounts_in(f"quiero pagar {_spanish(dollars)} {unit} hoy") == [dollars * 100]
