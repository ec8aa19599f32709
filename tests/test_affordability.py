"""Reading what a debtor says they can pay. Unclear input gives None, never a guess (PLAN-4 starts from their
own proposal, so misreading it would be worse than asking again)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.plans.affordability import MAX_AMOUNT_CENTS, Affordability, parse_affordability

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def A(amount=None, frequency=None, weekday=None, day=None):  # noqa: N802 - reads like a table row
    return Affordability(amount_cents=amount, frequency=frequency, weekday=weekday, day_of_month=day)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # amount and frequency together
        ("i can do 50 a month", A(5000, "monthly")),
        ("$25/wk", A(2500, "weekly")),
        ("25 per week", A(2500, "weekly")),
        ("fifty a month", A(5000, "monthly")),
        ("twenty five dollars every week", A(2500, "weekly")),
        ("twenty-five dollars a week", A(2500, "weekly")),
        ("one hundred fifty monthly", A(15000, "monthly")),
        ("one hundred and fifty a month", A(15000, "monthly")),
        ("two thousand five hundred dollars a month", A(250000, "monthly")),
        ("twelve hundred a month", A(120000, "monthly")),
        ("I can put in $75.50 every two weeks", A(7550, "biweekly")),
        ("$40/mo", A(4000, "monthly")),
        ("I CAN DO $50 A MONTH", A(5000, "monthly")),
        # amount only
        ("$1,200", A(120000)),
        ("100 bucks", A(10000)),
        ("$50 each paycheck", A(5000)),
        ("a hundred dollars", A(10000)),
        ("2k", A(200000)),
        ("1.5 thousand", A(150000)),
        ("fifty dollars and twenty five cents", A(5025)),
        ("I can do one payment of 300", A(30000)),
        ("by march 6 i can pay 200", A(20000)),
        ("I can pay 50 in a week", A(5000)),  # "in a week" is when, not how often
        # frequency (and day) only
        ("every 2 weeks", A(frequency="biweekly")),
        ("every other week", A(frequency="biweekly")),
        ("biweekly", A(frequency="biweekly")),
        ("bi-weekly", A(frequency="biweekly")),
        ("fortnightly", A(frequency="biweekly")),
        ("every 14 days", A(frequency="biweekly")),
        ("twice a month", A(frequency="biweekly")),  # documented: closest schedule we offer
        ("semi-monthly", A(frequency="biweekly")),
        ("weekly", A(frequency="weekly")),
        ("once a month", A(frequency="monthly")),
        ("I get paid every other Friday", A(frequency="biweekly", weekday=FRI)),
        ("every friday", A(frequency="weekly", weekday=FRI)),
        ("every fri", A(frequency="weekly", weekday=FRI)),
        ("on fridays", A(weekday=FRI)),
        ("tuesday works", A(weekday=TUE)),
        ("on the 15th", A(day=15)),
        ("on the 15", A(day=15)),
        ("the 1st of every month", A(frequency="monthly", day=1)),
        ("on the first of the month", A(day=1)),
        ("on the twenty-first", A(day=21)),
        ("the last day of the month", A(day=31)),
        ("about $75 every two weeks on thursdays", A(7500, "biweekly", THU)),
        ("$200 a month on the 3rd", A(20000, "monthly", day=3)),
    ],
)
def test_natural_phrasing_is_understood(text, expected):
    assert parse_affordability(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "asdf",
        "I can't pay anything right now",
        "0",
        "$0",
        "-50",  # a negative amount is nonsense, not fifty dollars
        "$-50",
        "25.555",  # more than two decimals: unclear
        "50 or 60",  # two amounts: ambiguous
        "$50 a week or $200 a month",
        "call me at 555-0199",
        "10%",
        "$10 a day",  # periods we don't offer: the amount isn't a per-payment amount
        "$15 an hour",
        "5000 a year",
        "twice a week",
        "every 4 weeks",
        "three payments",
        "on the 15th and the 30th",
        "$1,000,001",  # beyond any balance we hold
        "١٢٠",  # non-ASCII digits are not read as money
    ],
)
def test_nonsense_or_ambiguity_is_rejected_quietly(text):
    result = parse_affordability(text)
    assert result.amount_cents is None
    assert result.day_of_month is None
    if text not in ("$50 a week or $200 a month",):
        assert result.frequency is None


def test_the_first_of_something_else_is_not_a_day_of_the_month():
    assert parse_affordability("my first payment can be 50").day_of_month is None
    assert parse_affordability("my first payment can be 50").amount_cents == 5000


def test_counts_and_times_are_not_amounts():
    assert parse_affordability("3 payments of $100").amount_cents == 10000
    assert parse_affordability("after 5pm i can pay 40").amount_cents == 4000
    assert parse_affordability("i have 2 kids, 30 a week is my max") == A(3000, "weekly")


def test_empty_affordability_says_so():
    assert parse_affordability("hello").is_empty
    assert not parse_affordability("$5").is_empty


def test_non_text_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_affordability(50)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_without_raising_and_gives_sane_fields(text):
    result = parse_affordability(text)
    assert result.amount_cents is None or (isinstance(result.amount_cents, int)
                                           and 0 < result.amount_cents <= MAX_AMOUNT_CENTS)
    assert result.frequency in (None, "weekly", "biweekly", "monthly")
    assert result.weekday is None or 0 <= result.weekday <= 6
    assert result.day_of_month is None or 1 <= result.day_of_month <= 31


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1_000_000_00), st.sampled_from(["a week", "per month", "every 2 weeks", "each paycheck"]))
def test_typed_dollar_amounts_are_read_exactly(cents, phrase):
    text = f"I can do ${cents // 100:,}.{cents % 100:02d} {phrase}"
    assert parse_affordability(text).amount_cents == cents
