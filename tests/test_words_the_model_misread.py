"""Debtor messages the model misread, as the exploratory tester met them, and the word readers that now decide them
(the model is not retrained): an offer of plan terms at the plan's options (PLAN-4), a question about the ways to
pay, a plain request for help, a short Spanish request (LANG-1), and the plan asked for after a hardship (VUL-2).
The end-to-end spec, through the running stack, is tests/integration/test_words_the_model_misread.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.plans.affordability import offers_terms

NOW = datetime(2026, 3, 6, 18, 0, tzinfo=timezone.utc)
_AMOUNTS = st.integers(min_value=1, max_value=5000)
# Things a debtor says that offer nothing and ask about no way to pay.
_UNRELATED = ["what do I owe?", "I lost my job", "this isn't mine", "are you a bot?", "talk to a person",
              "stop texting me", "my zip is 90210", "I was born 11/02/1985", "option 2", "2", "yes", "never mind",
              "cuánto debo", "no es mío", "hablar con una persona", "I have a lawyer", "I already paid this",
              "what happens if I don't pay?", "pay now", "show me a plan", ""]


# --- 1. an offer of plan terms (PLAN-4) ------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["I can pay 50", "I can only do $50 a month", "50 a month",
                                  "can I do 75 every two weeks", "how about 40", "no, 40 a month",
                                  "puedo pagar 50 al mes", "¿podría pagar 60 cada quincena?"])
def test_PLAN_4_an_amount_offered_is_an_offer_of_plan_terms(text):
    """The tester's words at the plan's options, which the model read as pay_now. Mutation tried: `_OFFERS` not
    consulted (an amount without a schedule never offers) -> "I can pay 50" is not an offer (fails)."""
    assert offers_terms(text)


@pytest.mark.parametrize("text", ["I can pay 50 today", "I'll pay 50 right now", "I can't pay 50 a month",
                                  "I cannot do 75 every two weeks", "no puedo pagar 50 al mes",
                                  "I will pay the full balance of 1200 now", *_UNRELATED])
def test_PLAN_4_a_payment_today_a_denial_or_anything_else_offers_no_terms(text):
    """Outside the plan, "I can pay 50 today" is still a payment; a denial offers nothing. Mutation tried: the
    `_PAYS_NOW` check removed -> "I can pay 50 today" reads as an offer (fails)."""
    assert not offers_terms(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_PLAN_4_offers_terms_never_raises(text):
    offers_terms(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["I can't pay {}", "I cannot do {} a month", "I won't pay {} every two weeks",
                        "I don't have {} a month", "no puedo pagar {} al mes", "I can pay {} today",
                        "I'll pay ${} now", "I never said I could pay {} a month"]), _AMOUNTS)
def test_PLAN_4_denials_and_payments_today_are_never_offers(template, amount):
    """Mutation tried: `_DENIES_PAYING` not consulted -> "I can't pay 1 a month"... reads as an offer (fails)."""
    assert not offers_terms(template.format(amount))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["I can pay {}", "I can only do ${} a month", "{} a month", "can I do {} every two weeks",
                        "how about {} a week", "puedo pagar {} al mes"]), _AMOUNTS)
def test_PLAN_4_offers_of_any_amount_are_read(template, amount):
    assert offers_terms(template.format(amount))


