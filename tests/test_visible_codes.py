"""Random codes a debtor reads (pay-link tokens, plan and payment references) never spell a banned word (TONE-1):
the outbox would block the message carrying one, so the debtor would get no link or no receipt. Each code is drawn
again until tone.lint finds nothing in it; every place that makes one goes through bot/compliance/visible_codes.py
(the site tests for plans and payments are in test_plan_service.py and test_payments_flow.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.compliance import tone, visible_codes
from bot.compliance.redaction import contains_card_number

READABLE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")


def draws(*codes: str):
    remaining = iter(codes)
    return lambda: next(remaining)


@pytest.mark.parametrize("spelled", [
    "DAMNED",  # a banned word as it stands
    "A55HAT",  # read the way the outbox reads it: 5 as S
    "FUCKZZ",
])
def test_TONE_1_a_reference_that_spells_a_banned_word_is_drawn_again(spelled):
    """Mutation tried: the lint check in _first_clean removed -> the first draw was kept."""
    assert tone.lint(f"Your receipt number is PAY-{spelled}.")  # what the outbox would have blocked
    assert visible_codes.reference("PAY-", draw=draws(spelled, "7KQ4XW")) == "PAY-7KQ4XW"


def test_a_reference_already_in_use_is_drawn_again():
    used = {"PLN-7KQ4XW"}
    assert visible_codes.reference("PLN-", used.__contains__, draws("7KQ4XW", "3MZ8RT")) == "PLN-3MZ8RT"


def test_TONE_1_a_pay_link_token_that_spells_a_banned_word_is_drawn_again():
    """One random token in about 100,000 contained "fuck" (seen by linting 200,000 link messages)."""
    assert tone.lint("https://pay.example.com/pay/aaaafuckaaaaaaaaaaaa")
    assert visible_codes.link_token(draws("aaaafuckaaaaaaaaaaaa", "b" * 20)) == "b" * 20


@given(st.lists(st.text(alphabet=visible_codes.REFERENCE_ALPHABET, min_size=6, max_size=6), min_size=1, max_size=5))
def test_TONE_1_whatever_is_drawn_the_reference_kept_is_the_first_clean_one(bodies):
    clean = [b for b in bodies if not tone.lint(f"PLN-{b}")]
    kept = visible_codes.reference("PLN-", draw=draws(*bodies, "7KQ4XW"))
    assert kept == f"PLN-{(clean or ['7KQ4XW'])[0]}" and not tone.lint(f"Your plan {kept} is set up.")


def test_references_are_short_and_unambiguous_and_tokens_short_and_opaque():
    references = {visible_codes.reference("PAY-") for _ in range(300)}
    assert len(references) == 300 and all(READABLE.fullmatch(r.removeprefix("PAY-")) for r in references)
    tokens = {visible_codes.link_token() for _ in range(300)}
    assert len(tokens) == 300 and all(len(t) == 20 and t.isalnum() and t.islower() for t in tokens)
    assert not any(contains_card_number(t) for t in tokens)  # PCI-3: letters and 2-7 only, no digit runs
