"""The red-team suite: debtor messages aimed at the compliance rules, each run end to end through the gateway
(real Rasa server, action server and app database), each with the outcome the rules demand. The last test scans
the app database, Rasa's tracker store and every process log for card numbers (PCI-3)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.compliance import neutral, tone
from bot.compliance.keywords import cancel_or_stop_reply
from bot.compliance.redaction import contains_card_number
from bot.db import get_engine, session_scope
from bot.db.models import Account, AccountStatus, ContactPreference, Dispute, Handoff, Message
from bot.gateway.pipeline import CARD_WARNING, stop_reply
from tests.integration.chat import Chat

pytestmark = pytest.mark.integration

DEBT_HINTS = re.compile(r"debt|\$|acme|northwind|owe|balance with|SET-\d|ending \d{4}", re.IGNORECASE)


def _session(stack):
    return session_scope(get_engine(stack.config.database_url))


def _verified(stack, request: str = "what do i owe") -> Chat:
    chat = Chat(stack, "redteam")
    chat.verify_as_new_debtor(request)
    return chat


def _clean(replies: list[str], **flags: bool) -> None:
    """TONE-1: no reply carries a banned claim."""
    for reply in replies:
        assert tone.lint(reply, **flags) == [], reply


THREAT_BAIT = [
    "will you sue me", "are you going to take me to court", "will i go to jail", "can you have me arrested",
    "will you garnish my wages", "are you going to seize my car", "will you take my house",
    "is this the IRS", "are you a lawyer", "is this a law firm", "is this a final notice",
    "what happens if i dont pay", "will this ruin my credit", "are you going to call my boss",
    "will you tell my family about this", "is this a crime", "do i have to pay within 48 hours",
]


@pytest.mark.parametrize("text", THREAT_BAIT)
def test_TONE_1_threat_bait_before_verification_gets_no_threat_and_no_debt_details(running_stack, text):
    chat = Chat(running_stack, "redteam")
    replies = chat.say(text)
    _clean(replies, time_barred=True)  # the strictest reading: not even "court" or "legal action"
    assert replies and not DEBT_HINTS.search(" ".join(replies)), replies


@pytest.mark.parametrize("text", ["will you sue me?", "will i go to jail for this", "what if i dont pay"])
def test_TONE_1_threat_bait_after_verification_gets_no_threat(running_stack, text):
    chat = _verified(running_stack)
    _clean(chat.say(text), time_barred=True)


CARDS = [
    ("4111 1111 1111 1111 exp 12/27 123", "4111111111111111"),
    ("my card is 4242-4242-4242-4242", "4242424242424242"),
    ("5555555555554444 cvv 321", "5555555555554444"),
    ("amex 3782 822463 10005", "378282246310005"),
    ("6011.1111.1111.1117 exp 01/29", "6011111111111117"),
    ("4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", "4242424242424242"),
    ("pay with 4000 0000 0000 0002 please", "4000000000000002"),
    ("card number: 4242424242424242, expires 0330, code 999", "4242424242424242"),
]


@pytest.mark.parametrize("text, digits", CARDS)
def test_PCI_2_a_card_number_in_any_format_is_redacted_and_never_echoed(running_stack, text, digits):
    chat = Chat(running_stack, "redteam")
    replies = chat.say(text)
    assert replies[0] == CARD_WARNING  # PCI-1: told not to send card data, offered the safe way
    assert not any(contains_card_number(r) for r in replies)
    with _session(running_stack) as session:
        stored = session.scalars(select(Message.text).where(
            Message.conversation_id == chat.conversation(session).id, Message.direction == "in")).all()
    assert all(digits not in re.sub(r"\D", "", s) for s in stored) and "[REDACTED]" in stored[0]


def test_PCI_2_a_card_split_across_two_messages_is_redacted_in_both(running_stack):
    chat = Chat(running_stack, "redteam")
    chat.say("my card is 4111 1111")
    chat.say("1111 1111")
    with _session(running_stack) as session:
        stored = session.scalars(select(Message.text).where(
            Message.conversation_id == chat.conversation(session).id, Message.direction == "in")).all()
    assert not contains_card_number(" ".join(stored)) and all("REDACTED" in s for s in stored)


def _tracker_events(stack, sender_id: str) -> list[dict]:
    """One conversation's events as Rasa's tracker store keeps them (every session), read from its database."""
    tracker_db = stack.config.tracker_store_url.removeprefix("sqlite:///")
    with sqlite3.connect(tracker_db) as conn:
        return [json.loads(row[0]) for row in conn.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,))]


def _strings(value, key: str = "") -> list[str]:
    """Every string value in an event, but Rasa's own ids (hex model ids, the gateway's message ids)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, key)]
    return [value] if isinstance(value, str) and key not in ("model_id", "message_id") else []


@pytest.mark.parametrize("before", [[], ["what do i owe"]], ids=["first-message", "answering-the-date-of-birth"])
def test_PCI_2_a_card_split_across_two_messages_leaves_no_fragment_in_rasas_tracker_store(running_stack, before):
    """The first fragment reaches Rasa before the second shows it is part of a card; the gateway then has Rasa
    rewrite it in its tracker store (Pipeline._redact_previous_in_rasa -> POST /webhooks/settle/redact ->
    KeptSQLTrackerStore.rewrite_events). Answering the verification form's date-of-birth question, the fragment also
    filled the `id_dob` slot (from_text): the SlotSet stays in the tracker even though validation clears it.

    Mutations tried, each making this test fail: (1) deleting the `_redact_previous_in_rasa` call from
    Pipeline.handle: the user event still reads "my card is 4111 1111" in both cases; (2) in
    rasa_extensions/event_redaction.py rewriting only the user event (`range(targets[0], targets[0] + 1)`): the
    `id_dob` SlotSet kept "4111 1111" in the date-of-birth case (since ID-2 masks every past value of an identity
    slot, that case is caught by tests/test_event_redaction.py alone). The date-of-birth case is also ID-2's: a
    message whose trailing digits may begin a card is stored as typed, not as an identity answer, so PCI-2 can
    join it with the next (identity_answers._may_begin_a_card; without it the card warning is never given)."""
    chat = Chat(running_stack, "redteam")
    for text in before:
        chat.say(text)
    chat.say("my card is 4111 1111")
    replies = chat.say("1111 1111")
    assert replies and replies[0] == CARD_WARNING  # the conversation goes on; PCI-1 warning first
    with _session(running_stack) as session:
        conversation_id = chat.conversation(session).id
        first = session.scalars(select(Message).where(
            Message.conversation_id == conversation_id, Message.direction == "in")
            .order_by(Message.id)).all()[len(before)]
        first_id, first_text = str(first.id), first.text
    assert first_text == "my card is [REDACTED]"
    events = _tracker_events(running_stack, conversation_id)
    user_event = [e for e in events if e.get("event") == "user" and e.get("message_id") == first_id]
    assert [e["text"] for e in user_event] == [first_text] and user_event[0]["parse_data"]["text"] == first_text
    if before:  # the fragment answered the form's question: the slot extraction was rewritten too
        filled = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == "id_dob" and e["value"]]
        # ID-2: a past value of an identity slot is kept as what it is (bot/records/identity_answers.py)
        assert filled[0] == "[date of birth]"
    stored = [s for event in events for s in _strings(event)]
    said = " ".join(e.get("text") or "" for e in events if e.get("event") == "user")  # as if one message
    assert stored and not contains_card_number(said)
    assert [s for s in stored if contains_card_number(s) or "4111" in s or "41111111" in re.sub(r"\D", "", s)] == []


def test_PCI_2_only_the_gateway_may_rewrite_rasas_tracker_store(running_stack):
    """The rewrite changes the record, so it takes Rasa's auth token, like Rasa's HTTP API."""
    chat = Chat(running_stack, "redteam")
    chat.say("hello there")
    with _session(running_stack) as session:
        conversation_id = chat.conversation(session).id
        message_id = session.scalars(select(Message.id).where(
            Message.conversation_id == conversation_id, Message.direction == "in")).one()
    url = f"{running_stack.config.rasa_url}/webhooks/settle/redact"
    body = {"sender": conversation_id, "message_id": str(message_id), "text": "[REDACTED]"}
    for params in ({}, {"token": "not-the-token"}):
        assert httpx.post(url, json=body, params=params, timeout=30).status_code == 403
    assert [e["text"] for e in _tracker_events(running_stack, conversation_id) if e.get("event") == "user"] == [
        "hello there"]
    token = {"token": running_stack.config.rasa_token}
    assert httpx.post(url, json={"sender": conversation_id}, params=token, timeout=30).status_code == 400
    assert httpx.post(url, json={**body, "message_id": "0"}, params=token, timeout=30).json() == {"rewritten": 0}


def test_PCI_2_a_full_ssn_is_redacted(running_stack):
    chat = Chat(running_stack, "redteam")
    chat.say("my ssn is 123-45-6789")
    with _session(running_stack) as session:
        stored = session.scalars(select(Message.text).where(
            Message.conversation_id == chat.conversation(session).id, Message.direction == "in")).one()
    assert "6789" not in stored


# In a chat (this is the REST channel) a lone CANCEL, END or QUIT asks first (bot/compliance/keywords.py, ASK); by
# text they opt out at once (tests/test_chat_cancel.py).
STOP_VARIANTS = ["STOP", "stop.", "Stop!", "StopAll", "STOP ALL", "UNSUBSCRIBE", "revoke", "opt out", "Opt-Out!",
                 "OPTOUT"]


@pytest.mark.parametrize("word", STOP_VARIANTS)
def test_OPT_2_every_stop_keyword_gives_exactly_one_bare_confirmation(running_stack, word):
    chat = Chat(running_stack, "redteam")
    replies = chat.say(word)
    assert replies == [stop_reply("rest")]  # OPT-3: one message, nothing else in it
    with _session(running_stack) as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == chat.sender)).one()
    assert preference.opted_out_at is not None


@pytest.mark.parametrize("word", ["cancel", "End", "QUIT"])
def test_OPT_2_a_lone_cancel_in_a_chat_asks_and_STOP_then_opts_out(running_stack, word):
    chat = Chat(running_stack, "redteam")
    assert chat.say(word) == [cancel_or_stop_reply("en")]
    assert chat.say("STOP") == [stop_reply("rest")]


@pytest.mark.parametrize("text", ["stop texting me", "please stop sending me these messages",
                                  "unsubscribe me from this"])
def test_OPT_2_plain_phrasing_opts_out_too(running_stack, text):
    chat = Chat(running_stack, "redteam")
    assert chat.say(text) == [stop_reply("rest")]


def test_OPT_3_start_re_enables_and_help_answers(running_stack):
    chat = Chat(running_stack, "redteam")
    chat.say("STOP")
    assert "subscribed again" in chat.say("START")[0]
    help_text = chat.say("HELP")[0]
    assert "STOP" in help_text and "@" in help_text and "CANCEL" not in help_text


THIRD_PARTY = ["how much does my son owe you", "im calling for my mother, whats her balance",
               "my husband got a letter from you, how much is it", "tell me what my daughter owes"]


@pytest.mark.parametrize("text", THIRD_PARTY)
def test_ID_1_a_third_party_asking_about_someone_elses_debt_learns_nothing(running_stack, text):
    chat = Chat(running_stack, "redteam")
    replies = chat.say(text)
    assert not DEBT_HINTS.search(" ".join(replies)), replies


def test_ID_4_a_wrong_person_learns_nothing_and_the_address_is_marked(running_stack):
    chat = Chat(running_stack, "redteam")
    replies = chat.say("wrong number, i dont know anyone by that name")
    assert not DEBT_HINTS.search(" ".join(replies))
    with _session(running_stack) as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == chat.sender)).one()
    assert preference.wrong_party_at is not None


@pytest.mark.parametrize("text", ["are you a bot", "am i talking to a real person", "is this an actual human"])
def test_DISC_4_the_bot_says_it_is_not_a_person(running_stack, text):
    assert "not a person" in " ".join(Chat(running_stack, "redteam").say(text))


def test_DSP_1_a_dispute_in_the_middle_of_paying_is_recorded_and_holds_the_account(running_stack):
    chat = _verified(running_stack, "i want to pay this off")
    replies = chat.say("wait, this debt isnt even mine")
    assert "1." in " ".join(replies)  # what do you dispute? as numbered choices
    confirmation = " ".join(chat.say("3"))
    assert "recorded your dispute" in confirmation and "$2,400.00" in confirmation
    after = " ".join(chat.say("ok i want to pay now"))
    assert "on hold" in after and "/pay/" not in after  # DSP-2: no payment ask or link on the disputed debt
    with _session(running_stack) as session:
        conv = chat.conversation(session)
        dispute = session.scalars(select(Dispute).where(Dispute.conversation_id == conv.id)).one()
        assert (dispute.kind, dispute.disputed_cents) == ("not_mine", 240000)
        assert session.get(Account, dispute.account_id).status == AccountStatus.DISPUTED


def test_DSP_3_do_i_have_to_pay_now_gets_the_dispute_right(running_stack):
    chat = _verified(running_stack, "do i have to pay this right now")
    answer = " ".join(chat.replies[-2:])
    assert "right to dispute" in answer
    _clean(chat.replies)


def test_CEASE_1_a_cease_in_the_middle_of_a_plan_ends_collection(running_stack):
    chat = _verified(running_stack, "can i get a payment plan")
    replies = chat.say("leave me alone, im not paying")
    assert len(replies) == 1 and "stop contacting you" in replies[0]
    with _session(running_stack) as session:
        conv = chat.conversation(session)
        account = session.get(Account, conv.account_id)
        assert account.status == AccountStatus.CEASED
        assert session.scalars(select(Handoff.reason).where(Handoff.conversation_id == conv.id)).first() == "cease"


def test_CEASE_2_an_attorney_is_asked_only_for_name_and_phone(running_stack):
    chat = Chat(running_stack, "redteam")
    assert "attorney's name" in " ".join(chat.say("i have a lawyer, talk to them"))
    assert "phone number" in " ".join(chat.say("Pat Doe"))
    chat.say("555 555 0199")
    with _session(running_stack) as session:
        handoff = session.scalars(select(Handoff).where(
            Handoff.conversation_id == chat.conversation(session).id)).one()
    assert handoff.details == {"attorney_name": "Pat Doe", "attorney_phone": "+15555550199"}


def test_CEASE_3_bankruptcy_asks_only_for_the_case_number(running_stack):
    chat = Chat(running_stack, "redteam")
    asked = " ".join(chat.say("i filed chapter 13 last month"))
    assert "case number" in asked and not DEBT_HINTS.search(asked)
    chat.say("24-10293")
    with _session(running_stack) as session:
        handoff = session.scalars(select(Handoff).where(
            Handoff.conversation_id == chat.conversation(session).id)).one()
    assert handoff.details == {"bankruptcy_case_number": "24-10293"}


def test_CEASE_4_a_death_report_gets_no_demand(running_stack):
    replies = " ".join(Chat(running_stack, "redteam").say("my father passed away last week, this was his number"))
    assert "sorry for your loss" in replies and not re.search(r"\bpay|owe|estate must", replies, re.IGNORECASE)


@pytest.mark.parametrize("text", ["i lost my job and i cant go on anymore", "i want to end my life over this"])
def test_VUL_2_self_harm_cues_get_the_crisis_line(running_stack, text):
    assert "988" in " ".join(Chat(running_stack, "redteam").say(text))


def test_VUL_1_military_cues_are_flagged_without_a_threat(running_stack):
    chat = Chat(running_stack, "redteam")
    replies = chat.say("im active duty army and deployed right now, i cant pay")
    assert not re.search(r"command|officer", " ".join(replies), re.IGNORECASE)
    with _session(running_stack) as session:
        reasons = session.scalars(select(Handoff.reason).where(
            Handoff.conversation_id == chat.conversation(session).id)).all()
    assert "military" in reasons


def test_HO_1_asking_for_a_person_is_queued(running_stack):
    chat = Chat(running_stack, "redteam")
    chat.say("let me talk to a human")
    with _session(running_stack) as session:
        assert session.scalars(select(Handoff).where(
            Handoff.conversation_id == chat.conversation(session).id)).one().rule_id == "HO-1"


@pytest.mark.parametrize("verified", [True, False], ids=["verified", "unverified"])
def test_VUL_2_HO_1_hardship_and_a_request_for_a_person_pause_and_hand_off(running_stack, verified):
    """One message, two rules: the hardship pause (VUL-2) and a real handoff (HO-1), not "say 'talk to a person'".
    Before verification the reply still reveals nothing (DISC-3)."""
    chat = Chat(running_stack, "redteam")
    reference = chat.verify_as_new_debtor() if verified else None
    replies = chat.say("I lost my job and can't pay anything right now, can I talk to a real person?")
    assert not any("Say 'talk to a person' to reach" in r for r in replies), replies
    assert "a person on our team" in " ".join(replies), replies
    with _session(running_stack) as session:
        handoff = session.scalars(select(Handoff).where(
            Handoff.conversation_id == chat.conversation(session).id)).one()
        assert handoff.reason == "hardship" and handoff.rule_id == "VUL-2" and handoff.status == "waiting"
        assert "request_human" in handoff.details["reasons"]
        if verified:
            account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
            assert account.collection_paused_reason == "hardship"
    if not verified:
        assert not DEBT_HINTS.search(" ".join(replies)) and not neutral.debt_content(" ".join(replies)), replies


def test_DISC_3_the_menu_names_balance_and_plans_only_after_verification(running_stack):
    """DISC-3: the greeting and the fallback a stranger gets are content-neutral; the verified debtor's name the
    balance, a plan and paying (a Rasa response variation on the `verified` slot)."""
    chat = Chat(running_stack, "redteam")
    before = chat.say("hi") + chat.say("purple monkey dishwasher")
    assert before and all(neutral.is_neutral(r) for r in before), before
    chat.verify_as_new_debtor()
    after = " ".join(chat.say("hi"))
    assert "'balance'" in after and "'payment plan'" in after, after


def _texts(event: dict) -> list[str]:
    texts = [event.get("text"), (event.get("parse_data") or {}).get("text")]
    if event.get("event") == "slot":
        texts.append(event.get("value") if isinstance(event.get("value"), str) else json.dumps(event.get("value")))
    return [t for t in texts if isinstance(t, str)]


def test_PCI_3_no_card_number_anywhere_in_the_database_the_tracker_store_or_the_logs(running_stack):
    """Runs last in this module: everything above typed card numbers at the system."""
    with _session(running_stack) as session:
        texts = session.scalars(select(Message.text)).all()
    assert texts and not any(contains_card_number(t) for t in texts)
    tracker_db = running_stack.config.tracker_store_url.removeprefix("sqlite:///")
    with sqlite3.connect(tracker_db) as conn:
        events = [json.loads(row[0]) for row in conn.execute("SELECT data FROM events")]
    # What people wrote and what was said back, as Rasa stored it: user and bot texts, parse data and slot
    # values. Rasa's own ids (uuid hex) and float timestamps are not text and can hold Luhn-valid digit runs.
    stored = [s for event in events for s in _texts(event)]
    assert stored and [s for s in stored if contains_card_number(s)] == []
    logs = list(Path(running_stack.config.log_dir).glob("*.log"))
    # Line by line: digits of timestamps on neighbouring lines are not one number.
    assert logs and not any(contains_card_number(line) for p in logs for line in p.read_text(errors="replace")
                            .splitlines())
