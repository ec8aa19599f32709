"""DSP-1: a dispute is about the account the debtor means. With more than one open account the debtor is asked
which one (by its last four, the number of the choice, or "all of them"), and a corrected amount applies to the
account it is about. Driven through the dispute form's actions as Rasa runs them, on a real database."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import context
from actions.disputes import ActionAskDisputeAccount, ActionRecordDispute, ValidateDisputeForm
from bot import conversations, disputes, wording
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, Conversation, Dispute
from tests.conftest import add_debtor
from tests.test_actions import DOMAIN

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)


def _two_accounts(session, language: str | None = None) -> str:
    """Priya: SET-100003 ($845.10) and SET-100004 ($3,120.75), verified on the web."""
    debtor, first = add_debtor(session, account_ref="SET-100003", first_name="Priya", balance_cents=84510)
    second = Account(debtor_id=debtor.id, account_ref="SET-100004", creditor="Contoso Card", balance_cents=312075)
    session.add(second)
    debtor.language = language
    conversation = conversations.get_or_create(session, "rest", "web-priya")
    conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, first.id, NOW
    session.flush()
    return conversation.id


@pytest.fixture
def priya(sqlite_engine, sqlite_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    context.settings.cache_clear()
    with session_scope(sqlite_engine) as session:
        conversation_id = _two_accounts(session)
    yield conversation_id
    context.settings.cache_clear()


def _tracker(sender: str, slots: dict[str, Any], text: str = "") -> Tracker:
    all_slots = {"verified": True, "dispute_kind": None, "dispute_account": None, "dispute_correct_amount": None,
                 "requested_slot": None, **slots}
    return Tracker(sender, all_slots, {"intent": {"name": "inform"}, "text": text},
                   [{"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}}], False, None,
                   {"name": "dispute_form"}, "action_listen")


async def _required(sender: str, slots: dict[str, Any]) -> list[str]:
    return await ValidateDisputeForm().required_slots(["dispute_kind", "dispute_account", "dispute_correct_amount"],
                                                      CollectingDispatcher(), _tracker(sender, slots), DOMAIN)


async def _record(sender: str, slots: dict[str, Any]) -> list[str]:
    dispatcher = CollectingDispatcher()
    await ActionRecordDispute().run(dispatcher, _tracker(sender, slots), DOMAIN)
    return [m["text"] for m in dispatcher.messages]


def _disputes(engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {ref: cents for ref, cents in session.execute(
            select(Account.account_ref, Dispute.disputed_cents).join(Account, Dispute.account_id == Account.id))}


async def test_DSP_1_with_two_accounts_the_debtor_is_asked_which_one_before_anything_is_recorded(priya):
    """'this isn't mine' -> '3': the form asks which account (each by its last four, and all of them), numbered
    for SMS. Mutation tried: required_slots without "dispute_account" -> fails (nothing asked, both disputed)."""
    assert await _required(priya, {"dispute_kind": "not_mine"}) == ["dispute_kind", "dispute_account"]
    dispatcher = CollectingDispatcher()
    await ActionAskDisputeAccount().run(dispatcher, _tracker(priya, {"dispute_kind": "not_mine"}), DOMAIN)
    # DISC-1: the disclosure first when not given yet this session (h-debtor), then the question.
    assert [m["text"] for m in dispatcher.messages[:-1]] == [DEBT_COLLECTOR_DISCLOSURE]
    text = dispatcher.messages[-1]["text"]
    assert "1. The account ending 0003" in text and "2. The account ending 0004" in text
    assert "3. All of them" in text and "$" not in text
    assert [b["title"] for b in dispatcher.messages[-1]["buttons"]][-1] == "All of them"


@pytest.mark.parametrize(("answer", "disputed"), [
    ("0004", {"SET-100004": 312075}), ("the one ending 0003", {"SET-100003": 84510}), ("2", {"SET-100004": 312075}),
    ("The account ending 0004 (Contoso Card)", {"SET-100004": 312075}),
    ("all of them", {"SET-100003": 84510, "SET-100004": 312075}), ("3", {"SET-100003": 84510, "SET-100004": 312075}),
])
async def test_DSP_1_only_the_account_the_debtor_chose_is_disputed(sqlite_engine, priya, answer, disputed):
    """The answer decides the scope: one account by its last four or its number, or every one. Mutation tried:
    record_dispute ignoring account_id -> fails (both accounts disputed for a single choice)."""
    validated = await ValidateDisputeForm().validate_dispute_account(answer, CollectingDispatcher(),
                                                                     _tracker(priya, {}), DOMAIN)
    await _record(priya, {"dispute_kind": "not_mine", **validated})
    assert _disputes(sqlite_engine) == disputed
    with session_scope(sqlite_engine) as session:
        statuses = {a.account_ref: a.status for a in session.scalars(select(Account))}
    assert {ref for ref, status in statuses.items() if status == AccountStatus.DISPUTED} == set(disputed)


async def test_DSP_1_a_corrected_amount_applies_to_the_account_it_is_about(sqlite_engine, priya):
    """'The amount is wrong' on the account ending 0004, 'it should be $3,000': $120.75 disputed there, nothing on
    0003. Mutation tried: record_dispute's account filter removed -> fails (0003 disputed too, with the $3,000
    correction applied to it)."""
    chosen = next(iter((await ValidateDisputeForm().validate_dispute_account(
        "0004", CollectingDispatcher(), _tracker(priya, {}), DOMAIN)).values()))
    slots = {"dispute_kind": "amount", "dispute_account": chosen}
    assert await _required(priya, slots) == ["dispute_kind", "dispute_account", "dispute_correct_amount"]
    said = await _record(priya, {**slots, "dispute_correct_amount": "300000"})
    assert _disputes(sqlite_engine) == {"SET-100004": 12075}
    assert "$120.75 on the account ending 0004" in said[-1] and "0003" not in said[-1]


async def test_DSP_1_an_amount_dispute_of_every_account_disputes_each_in_full(sqlite_engine, priya):
    """One corrected figure cannot be right for two accounts, so 'all of them' does not ask for it and each account
    is disputed in full (the debtor-protective reading: more held, never less). Mutation tried: the
    `len(chosen) == 1` guard removed from record_dispute -> fails ($500 taken as right for both accounts)."""
    slots = {"dispute_kind": "amount", "dispute_account": disputes.ALL_ACCOUNTS}
    assert await _required(priya, slots) == ["dispute_kind", "dispute_account"]
    await _record(priya, {**slots, "dispute_correct_amount": "50000"})
    assert _disputes(sqlite_engine) == {"SET-100003": 84510, "SET-100004": 312075}


async def test_DSP_1_an_answer_that_names_no_account_is_asked_again_in_the_debtors_language(sqlite_engine, priya):
    """'0009' or 'the blue one' are no answer: asked again, nothing recorded; in Spanish for a Spanish debtor."""
    dispatcher = CollectingDispatcher()
    tracker = _tracker(priya, {"language": "es"})
    for answer in ("0009", "the blue one", "7"):
        assert await ValidateDisputeForm().validate_dispute_account(answer, dispatcher, tracker, DOMAIN) == {
            "dispute_account": None}
    assert dispatcher.messages[0]["text"] == wording.say("dispute_account_again", "es", numbers="1, 2 o 3")
    assert _disputes(sqlite_engine) == {}


async def test_DSP_1_one_open_account_is_not_asked_about(sqlite_engine, sqlite_url, monkeypatch):
    """Fatima has one account: the form asks what is disputed, never which account (the README walkthrough)."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    context.settings.cache_clear()
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, account_ref="SET-100014")
        conversation = conversations.get_or_create(session, "rest", "web-fatima")
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, NOW
        conversation_id = conversation.id
    assert await _required(conversation_id, {"dispute_kind": "amount"}) == ["dispute_kind", "dispute_correct_amount"]
    await _record(conversation_id, {"dispute_kind": "amount", "dispute_correct_amount": "100000"})
    assert _disputes(sqlite_engine) == {"SET-100014": 23456}
    context.settings.cache_clear()


class _Ref:
    def __init__(self, ref: str) -> None:
        self.id, self.account_ref = f"id-{ref}", ref


@settings(max_examples=200, deadline=None)
@given(tails=st.lists(st.integers(0, 9999), min_size=2, max_size=5, unique=True), pick=st.integers(0, 4))
def test_DSP_1_a_choice_by_last_four_or_number_names_exactly_that_account(tails, pick):
    """Property: for any set of accounts with distinct last fours, the last four and the choice number each name
    that account, the number after the last is all of them, and a number beyond that is no answer."""
    accounts = [_Ref(f"SET-10{t:04d}") for t in tails]
    pick %= len(accounts)
    chosen = accounts[pick]
    assert disputes.parse_account_choice(chosen.account_ref[-4:], accounts) == chosen.id
    assert disputes.parse_account_choice(str(pick + 1), accounts) == chosen.id
    assert disputes.parse_account_choice(str(len(accounts) + 1), accounts) == disputes.ALL_ACCOUNTS
    assert disputes.parse_account_choice(str(len(accounts) + 2), accounts) is None


async def test_ID_1_a_dispute_form_finishing_after_the_verification_was_withdrawn_says_nothing_about_a_debt(
        sqlite_engine, priya):
    """ID-4 said while a person had the conversation withdraws the verification without Rasa knowing: the form's
    end records nothing and reveals nothing, and Rasa's verified slot is reset. Mutation tried: the NotVerified
    handler removed from ActionRecordDispute -> fails (the action raises)."""
    with session_scope(sqlite_engine) as session:
        session.get(Conversation, priya).verified_at = None
    dispatcher = CollectingDispatcher()
    events = await ActionRecordDispute().run(dispatcher, _tracker(priya, {"dispute_kind": "not_mine"}), DOMAIN)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_verification_stopped"]
    assert {"event": "slot", "name": "verified", "value": False, "timestamp": None} in events
    assert _disputes(sqlite_engine) == {}
