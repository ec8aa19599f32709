"""Whole conversations over HTTP through the gateway, with the real Rasa server and action server."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import get_engine, session_scope
from bot.db.models import AuditEvent, Conversation, Message
from tests.integration.chat import Chat

pytestmark = pytest.mark.integration

DEBT_HINTS = re.compile(r"debt|\$|acme|owe|balance with|SET-", re.IGNORECASE)


def test_greet_ask_balance_verify_and_hear_the_balance(running_stack):
    """ID-1, ID-2, DISC-1: nothing about the debt until verified; then the disclosure, then the ledger figure."""
    chat = Chat(running_stack)
    greeting = " ".join(chat.say("hi"))
    assert "automated assistant" in greeting  # DISC-4

    before = chat.say("what do I owe?")
    assert not DEBT_HINTS.search(" ".join(before)), before
    assert "date of birth" in " ".join(before)

    assert "Social Security" in " ".join(chat.say("03/14/1979"))
    assert "account number" in " ".join(chat.say("1234"))
    answer = chat.say("SET-100001")
    assert answer[0] == DEBT_COLLECTOR_DISCLOSURE
    assert "$1,234.56" in answer[1] and "Acme Bank" in answer[1] and "ending 0001" in answer[1]

    again = chat.say("how much is my balance")
    assert DEBT_COLLECTOR_DISCLOSURE not in again and "$1,234.56" in " ".join(again)

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        conv = session.scalars(select(Conversation).where(Conversation.external_id == chat.sender)).one()
        messages = session.scalars(select(Message).where(Message.conversation_id == conv.id)
                                   .order_by(Message.id)).all()  # in the order sent: no index decides it
        inbound = [m.text for m in messages if m.direction == "in"]
        # ID-2: the identity answers are stored as what they are, never their values (bot/records/identity_answers.py)
        assert inbound == ["hi", "what do I owe?", "[date of birth]", "[SSN last four]", "[account number]",
                           "how much is my balance"]
        assert all(m.status == "processed" for m in messages if m.direction == "in")
        assert any("$1,234.56" in m.text for m in messages if m.direction == "out")
        # REC-1: the record keeps what the NLU read each message as, from the same pass that answered it.
        asked = next(m for m in messages if m.text == "what do I owe?")
        assert asked.intent == "check_balance" and 0.5 < asked.intent_confidence <= 1.0


def test_three_failures_lock_out_even_the_right_answers(running_stack):
    """ID-3: 3 wrong dates of birth, then the correct one: still refused; a person is offered."""
    chat = Chat(running_stack)
    chat.say("whats my balance")
    for wrong in ("01/01/1970", "02/02/1970", "03/03/1970"):
        chat.say(wrong)
        chat.say("5678")
        last = chat.say("SET-100002")
    assert "24 hours" in " ".join(last) and "talk to a person" in " ".join(last)

    retry = chat.say("what do I owe")
    assert "24 hours" in " ".join(retry)
    assert not DEBT_HINTS.search(" ".join(retry))

    # A new conversation with the correct details is refused too (the lock is on the person), in the very words
    # an account that does not exist gets, so the lockout tells a stranger nothing (ID-3).
    replies = []
    for reference in ("SET-100002", "SET-999999"):
        other = Chat(running_stack)
        other.say("balance")
        other.say("11/02/1985")
        other.say("5678")
        replies.append(other.say(reference))
    refused, made_up = replies
    assert refused == made_up and "$" not in " ".join(refused)

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.kind == "identity_locked")).first() is not None


def test_the_bot_says_it_is_automated_and_keeps_verifying(running_stack):
    """DISC-4 mid-verification, then the form carries on."""
    chat = Chat(running_stack)
    chat.say("how much do i owe")
    reply = " ".join(chat.say("am I talking to a real person?"))
    assert "not a person" in reply and "date of birth" in reply


def test_compliance_requests_are_answered_and_recorded_before_verification(running_stack):
    chat = Chat(running_stack)
    reply = " ".join(chat.say("you have the wrong number, i dont know this person"))
    assert "mix-up" in reply and "won't contact this number" in reply and not DEBT_HINTS.search(reply)
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        kinds = session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "wrong_party_reported")).all()
    assert "ID-4" in kinds


def test_nonsense_gets_a_helpful_reprompt(running_stack):
    reply = " ".join(Chat(running_stack).say("asdkjh qwe zzz"))
    assert "talk to a person" in reply


def test_a_conversation_in_spanish_is_verified_and_hears_its_balance_in_spanish(running_stack):
    """Issue 23, with the real Rasa and action server: the debtor's Spanish switches the conversation, the slot
    carries it to Rasa (domain/ responses pick their Spanish variation), verification asks in Spanish, and the
    balance comes after the Spanish DISC-1 disclosure; a dispute is taken and confirmed in Spanish.
    Mutation tried: actions/language.language_of ignoring the message's metadata (the slot stayed "en" and the
    prompts came in English)."""
    from bot import wording

    chat = Chat(running_stack)
    before = " ".join(chat.say("hola, quiero saber cuanto debo"))
    assert not DEBT_HINTS.search(before), before
    assert "fecha de nacimiento" in before
    assert "Seguro Social" in " ".join(chat.say("03/14/1979"))
    assert "número de cuenta" in " ".join(chat.say("1234"))
    answer = chat.say("SET-100001")
    assert answer[0] == wording.say("debt_collector_disclosure", "es")
    assert "Su saldo con Acme Bank (cuenta que termina en 0001) es $1,234.56." in answer[1]
    assert "plan de pagos" in answer[2]
    # A dispute in Spanish (DSP-1): the choices, a digit picks one, the confirmation with a Spanish date.
    # The reason said in words is taken (DSP-1, disputes.stated_kind): no "¿Qué parte no reconoce?" menu.
    recorded = " ".join(chat.say("esa deuda no es mia"))
    assert "¿Qué parte no reconoce?" not in recorded, recorded
    assert "anoté su disputa de $1,234.56 en la cuenta que termina en 0001" in recorded, recorded


def test_rasa_collects_what_loading_the_model_left_before_it_serves(running_stack):
    """The stalls of 4-41 s under load were the first garbage collection freeing what loading the model left
    (tests/test_rasa_speedups.py): the Rasa server collects it at start, before its first message, and says so."""
    log = (running_stack.config.log_dir / "rasa.log").read_text(encoding="utf-8")
    said = [line for line in log.splitlines() if "objects left by loading the model in" in line]
    assert len(said) == 1 and " collected " in said[0]


def test_LANG_1_pay_now_in_english_stays_english_for_a_debtor_who_wrote_spanish_before(running_stack):
    """L1 with the real Rasa and action server: "pay now" typed in English, then the verification, by a debtor whose
    stored language is Spanish (a Spanish session elsewhere). The disclosure, the pay menu and what follows are all
    English: the conversation's language, not the debtor's.
    Mutation tried: observe() keeping no language that equals the current one -> fails (the disclosure came in
    Spanish, the pay menu in English, as the tester saw)."""
    import secrets

    from bot.db.models import Debtor
    from tests.conftest import add_debtor

    chat = Chat(running_stack)
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        debtor, _ = add_debtor(session, account_ref=reference, first_name="Erik", last_name="Lang", dob="1965-12-24",
                               ssn_last4="8642", phone=None, balance_cents=4200)
        session.get(Debtor, debtor.id).language = "es"
    chat.say("pay now")
    chat.say("12/24/1965")
    chat.say("8642")
    answer = chat.say(reference)
    assert answer[0] == DEBT_COLLECTOR_DISCLOSURE, answer
    said = " ".join(answer)
    assert "$42.00" in said and not re.search(r"Quiere|saldo|cobrador|pagar", said), said
