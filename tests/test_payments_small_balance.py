"""A balance below the $1.00 partial-payment minimum can still be paid in full; a balance below what Stripe can
charge ($0.50 in USD) is said honestly, with a person offered instead (VOICE.md: "if the bot cannot do something,
say so and offer a person"). The example amount in "type an amount like ..." is always one that can be paid."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import PayLink
from bot.payments import service
from tests.payments_helpers import balance, pay_env_fixture, verified_debtor  # noqa: F401 - the pay_env fixture


def _options(balance_cents: int, language: str | None = None) -> service.PayOptions:
    return service.PayOptions("acc_1", "Acme Bank", "USD", balance_cents,
                              (service.PayChoice("balance", balance_cents, ""),), language=language)


def test_a_balance_under_a_dollar_is_offered_and_paid_in_full_through_checkout(pay_env):
    """The $1.00 minimum is for part-payments; the full balance of $0.75 is offered, linked and paid. Mutation
    tried: _make_link checking MIN_PAYMENT_CENTS for the full balance again -> fails (PaymentRefused)."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=75)
    with session_scope(pay_env.engine) as session:
        options = service.pay_options(session, conversation_id)
        assert options.refusal is None and options.choice("balance").amount_cents == 75
        url = service.create_pay_link(session, conversation_id, options.choice("balance"), pay_env.settings).url
    session_id = pay_env.checkout(url)
    assert pay_env.client.v1.checkout.sessions.retrieve(session_id).amount_total == 75
    assert pay_env.pay(session_id)["kind"] == "succeeded"
    assert balance(pay_env.engine, account_id) == 0


def test_a_one_cent_balance_is_said_honestly_with_a_person_offered_not_a_link_that_fails(pay_env):
    """$0.01 is below Stripe's $0.50 minimum charge: no "Full balance" choice that can never be paid, but the
    reason and a person. Mutations tried: pay_options without the Stripe-minimum check -> fails (a choice is
    offered); _make_link without it -> fails (a link is attempted)."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=1)
    with session_scope(pay_env.engine) as session:
        options = service.pay_options(session, conversation_id)
        assert options.choices == ()
        assert "$0.01" in options.refusal and "$0.50" in options.refusal and "person" in options.refusal
        with pytest.raises(service.PaymentRefused) as refused:
            service.create_pay_link(session, conversation_id, service.PayChoice("balance", 1, ""), pay_env.settings)
        assert refused.value.message == options.refusal
    with session_scope(pay_env.engine) as session:
        assert session.scalar(select(func.count(PayLink.id)).where(PayLink.account_id == account_id)) == 0


def test_the_one_cent_refusal_is_in_spanish_for_a_spanish_speaker(pay_env):
    conversation_id, _ = verified_debtor(pay_env.engine, balance_cents=1)
    with session_scope(pay_env.engine) as session:
        refusal = service.pay_options(session, conversation_id, "es").refusal
    assert "$0.01" in refusal and "$0.50" in refusal and "persona" in refusal


def test_typing_the_whole_small_balance_picks_the_full_balance_not_the_minimum():
    """"$0.75" on a $0.75 balance is the full balance, not "the smallest payment I can take is $1.00"."""
    understood = service.understand(_options(75), "$0.75")
    assert understood.choice is not None and understood.choice.kind == "balance"


@pytest.mark.parametrize("balance_cents", [75, 99, 100])
def test_no_amount_to_type_is_suggested_when_only_the_full_balance_can_be_paid(balance_cents):
    """Under $1.00 (and at exactly $1.00) the only payment is the full balance: the hint asks for the number."""
    for language in ("en", "es"):
        prompt = service.pick_prompt(_options(balance_cents, language), "1")
        assert "$" not in prompt and "1" in prompt


def test_the_hint_for_a_big_balance_still_says_fifty_dollars():
    assert "like $50." in service.pick_prompt(_options(240000), "1 or 2")
    assert "como $50." in service.pick_prompt(_options(240000, "es"), "1 o 2")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=service.MIN_PAYMENT_CENTS + 1, max_value=10_000_000))
def test_the_example_amount_is_always_one_that_can_be_paid(balance_cents):
    """The hint's example is a part-payment the bot then accepts: at least the minimum, less than the balance.
    Mutation tried: a fixed $50 example -> fails (balance $30: "That's more than your balance")."""
    example = service.example_amount_cents(balance_cents)
    assert example is not None and service.MIN_PAYMENT_CENTS <= example < balance_cents
    prompt = service.pick_prompt(_options(balance_cents), "1")
    said = prompt.split("like ")[1].split(". ")[0]
    understood = service.understand(_options(balance_cents), said)
    assert understood.problem is None and understood.choice is not None and understood.choice.amount_cents == example
