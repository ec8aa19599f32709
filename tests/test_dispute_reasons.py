"""DSP-1: a dispute's reason stated in words is taken, at the start or at the reason menu, and a dispute the debtor
clearly expressed is recorded, never dropped (the exploratory tester's "the amount is wrong" / "it should be $400 not
$640" conversation)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.disputes import ValidateDisputeForm, stated_reason
from bot import conversations, disputes
from bot.db import session_scope
from tests.conftest import add_debtor
from tests.test_actions import DOMAIN


@pytest.mark.parametrize(("text", "kind"), [
    ("the amount is wrong", disputes.AMOUNT),
    ("it should be $400 not $640", disputes.AMOUNT),
    ("I only owe 400", disputes.AMOUNT),
    ("this isn't mine", disputes.NOT_MINE),
    ("this isn't my debt", disputes.NOT_MINE),  # h-debtor: it got the menu
    ("that is not my bill", disputes.NOT_MINE),
    ("I already paid it", disputes.ALREADY_PAID),
    ("el monto está mal", disputes.AMOUNT),
    ("I dispute this", None),  # no reason named: the menu asks
    ("I want to dispute one of my accounts", None),  # "one" picks from the menu; it never opens one
])
def test_DSP_1_the_reason_a_dispute_states_in_words_is_read(text, kind):
    assert disputes.stated_kind(text) == kind


@pytest.mark.parametrize(("text", "exit"), [
    ("do I have to pay now?", disputes.MUST_PAY),
    ("¿tengo que pagar ahora?", disputes.MUST_PAY),
    ("do i have to pay all of it now", disputes.MUST_PAY),  # "all" picks no choice in a question
    ("it's not mine, do I have to pay?", None),  # the reason is a choice: recorded
    ("I already paid, do I have to pay again?", None),
    ("pay now", disputes.PAY),
    ("never mind", disputes.LEAVE),
])
def test_DSP_3_do_i_have_to_pay_at_the_dispute_menu_is_a_question_not_a_wish_to_pay(text, exit):
    """h-debtor: "do I have to pay now?" at the menu left it for a payment ask (PAY) and dropped the dispute. It is
    DSP-3's question (MUST_PAY: answered, the menu stays); a reason beside it is still the choice.
    Mutation tried: menu_exit's `asks_must_pay` check removed -> PAY for the first (fails)."""
    assert disputes.menu_exit(text) == exit


@pytest.mark.parametrize(("text", "cents"), [
    ("it should be $400 not $640", 40000),
    ("the right amount is $1,200.50", 120050),
    ("I only owe 400", 40000),
    ("the amount is wrong", None),
    ("it should be $400.505", None),  # no exact amount: asked for, never guessed
])
def test_DSP_1_the_right_amount_the_debtor_states_is_read_exactly(text, cents):
    assert disputes.stated_correct_cents(text) == cents


@given(dollars=st.integers(0, 10**6), cents=st.integers(0, 99), other=st.integers(1, 10**6),
       lead=st.sampled_from(["it should be ", "it should only be ", "I only owe ", "the correct amount is "]),
       sign=st.sampled_from(["$", ""]))
def test_DSP_1_property_a_stated_right_amount_is_an_amount_dispute_read_to_the_cent(dollars, cents, other, lead,
                                                                                     sign):
    """Property: whatever the figures, "<lead>$D.CC not $X" is an amount dispute whose right amount is D.CC, in
    integer cents, at the menu (parse_kind) and in an opening message (stated_kind)."""
    text = f"{lead}{sign}{dollars}.{cents:02d} not ${other}"
    assert disputes.parse_kind(text) == disputes.stated_kind(text) == disputes.AMOUNT
    assert disputes.stated_correct_cents(text) == dollars * 100 + cents


@given(st.text(max_size=60))
def test_DSP_1_property_reading_a_reason_never_raises(text):
    kind = disputes.stated_kind(text)
    assert kind is None or kind in disputes.DISPUTE_KINDS
    cents = disputes.stated_correct_cents(text)
    assert cents is None or (isinstance(cents, int) and cents >= 0)


def test_DSP_1_a_right_amount_typed_at_the_menu_is_an_amount_dispute():
    """"it should be $400 not $640" at the reason menu got "Sorry, I didn't catch that. Please pick 1, 2, 3 or 4".
    Mutation tried: parse_kind without the `_CORRECT_AMOUNT` reading -> None: fails."""
    assert disputes.parse_kind("it should be $400 not $640") == disputes.AMOUNT


def _tracker(sender: str, events: list[dict[str, Any]], slots: dict[str, Any] | None = None) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    all_slots = {"verified": True, "dispute_kind": None, "dispute_account": None, "dispute_correct_amount": None,
                 "requested_slot": None, **(slots or {})}
    return Tracker(sender, all_slots, {"intent": latest["parse_data"]["intent"], "text": latest["text"]}, events,
                   False, None, {"name": "dispute_form"}, "action_listen")


def _user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_DSP_1_the_reason_given_before_verification_fills_the_form():
    """Exploratory tester: "the amount is wrong", then date of birth, last four and reference: the reason menu was
    shown. action_answer_request opens the form with the reason the request stated (stated_reason). Mutation tried:
    stated_reason reading the latest message (the reference) instead of the dispute request -> []: fails."""
    events = [_user("the amount is wrong", "dispute_debt"), _user("10/27/1975", "inform_identity"),
              _user("5050", "inform_identity"), _user("SET-100022", "inform_identity")]
    assert stated_reason(_tracker("d-1", events)) == [{"event": "slot", "timestamp": None, "name": "dispute_kind",
                                                        "value": "amount"}]
    stated = stated_reason(_tracker("d-2", [_user("it should be $400 not $640", "dispute_debt")]))
    assert [(e["name"], e["value"]) for e in stated] == [("dispute_kind", "amount"),
                                                          ("dispute_correct_amount", "$400.00")]
    assert stated_reason(_tracker("d-3", [_user("I dispute this", "dispute_debt")])) == []
    assert stated_reason(_tracker("d-4", [_user("the amount is wrong", "dispute_debt"),
                                          {"event": "session_started"}, _user("hi", "greet")])) == []


@pytest.fixture
def one_account(sqlite_engine, sqlite_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    context.settings.cache_clear()
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, balance_cents=64000)
        conversation = conversations.get_or_create(session, "rest", "web-reason")
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.verified_at = datetime.now(timezone.utc)
        session.flush()
        conversation_id = conversation.id
    yield conversation_id
    context.settings.cache_clear()


def test_DSP_1_a_verified_debtor_stating_the_reason_and_amount_is_asked_nothing(one_account):
    """"the amount is wrong, it should be $400" opens the form with both filled and nothing left to ask. Mutation
    tried: the `stated_reason` line removed from ValidateDisputeForm.run -> requested_slot dispute_kind: fails."""
    tracker = _tracker(one_account, [_user("the amount is wrong, it should be $400", "dispute_debt"),
                                     {"event": "active_loop", "name": "dispute_form"}])
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateDisputeForm().run(dispatcher, tracker, DOMAIN))
    final = {e["name"]: e["value"] for e in events}
    assert final == {"dispute_kind": "amount", "dispute_correct_amount": "40000", "requested_slot": None}
    assert dispatcher.messages == []


def test_DSP_1_two_figures_at_the_amount_question_give_the_one_said_to_be_right(one_account):
    """"it should be $400 not $640" where the right amount was asked got "Sorry, I didn't catch that". Mutation
    tried: validate_dispute_correct_amount without stated_correct_cents -> None and the re-ask: fails."""
    text = "it should be $400 not $640"
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateDisputeForm().validate_dispute_correct_amount(
        text, dispatcher, _tracker(one_account, [_user(text, "inform")]), DOMAIN))
    assert result == {"dispute_correct_amount": "40000"} and dispatcher.messages == []


def test_DSP_1_a_right_amount_given_with_the_reason_at_the_menu_is_not_asked_for_again(one_account):
    """Mutation tried: validate_dispute_kind without the stated_correct_cents line -> only the kind: fails."""
    text = "it should be $400 not $640"
    result = asyncio.run(ValidateDisputeForm().validate_dispute_kind(
        text, CollectingDispatcher(), _tracker(one_account, [_user(text, "inform")]), DOMAIN))
    assert result == {"dispute_kind": "amount", "dispute_correct_amount": "40000"}


@pytest.mark.parametrize(("text", "choice"), [
    ("Toda la deuda", True), ("All of them", True), ("all of them", True), ("Todas", True),
    ("The account ending 0003 (Acme Bank)", True), ("La cuenta que termina en 0004 (Contoso Card)", True),
    ("It's not mine", True), ("I lost my job", False), ("goodbye", False), ("3", False),
    ("all of them are wrong and I lost my job", False),
])
def test_DSP_1_a_dispute_menus_own_choices_are_known_by_their_words(text, choice):
    """h-debtor: the model read "Toda la deuda" as hardship and "All of them" as goodbye; the gateway marks a menu's
    own choice so that Rasa takes it as the answer while that menu asks (rasa_extensions/settle_channel).
    Mutation tried: is_menu_choice without the account titles (_ACCOUNT_TITLE) -> False for them (fails)."""
    assert disputes.is_menu_choice(text) is choice
