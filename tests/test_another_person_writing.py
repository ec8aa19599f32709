"""ID-1, ID-4: on a shared or handed-over phone, a message saying someone else is writing now withdraws the
verification before anything else is read (bot/compliance/cues.speaker_change, sensitive_requests
.another_person_writing). The dialogue's side is in tests/integration/test_identity_reports.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot import conversations
from bot.compliance import cues, sensitive_requests
from bot.db import session_scope
from bot.db.models import AuditEvent, Handoff
from tests.conftest import add_debtor

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)

ANOTHER_PERSON = [
    "hi this is Maria now, Luis handed me the phone. how much do I owe on the car loan?",
    "Luis gave me his phone",
    "my wife handed me the phone",
    "it's Maria now",
    "someone else is texting now",
    "hola, soy Maria ahora, Luis me pasó el teléfono",
    "ahora habla Maria",
    "Luis me prestó su celular",
]
THIRD_PARTY = ["Actually I'm not Robert, I'm his wife", "I'm Luis's wife", "this is Maria, his wife",
               "soy su esposa", "soy la esposa de Luis", "I'm her son, what does she owe?"]
THE_SAME_PERSON = ["how much do I owe?", "this is ridiculous now", "it's me now", "my phone died earlier",
                   "I'm on my phone now", "can my wife pay for me?", "I'll pay now", "thanks, that's all"]


@pytest.mark.parametrize("text", ANOTHER_PERSON + THIRD_PARTY)
def test_ID_4_another_person_writing_is_read_from_the_words(text):
    assert cues.speaker_change(text) is not None


@pytest.mark.parametrize("text", THIRD_PARTY)
def test_ID_1_saying_who_they_are_to_the_debtor_makes_a_third_party(text):
    change = cues.speaker_change(text)
    assert change is not None and change.third_party


@pytest.mark.parametrize("text", THE_SAME_PERSON)
def test_ID_4_the_debtor_talking_about_themselves_is_no_change(text):
    assert cues.speaker_change(text) is None


@given(name=st.sampled_from(["Maria", "Ana", "José", "Priya", "Tom"]),
       lead=st.sampled_from(["this is {n} now", "its {n} now", "it's {n} here now", "this is {n} speaking",
                             "soy {n} ahora", "ahora habla {n}"]),
       before=st.sampled_from(["", "hi ", "ok. ", "Hello! "]), after=st.sampled_from(["", ".", "!", " thanks"]),
       upper=st.booleans())
def test_ID_4_a_named_new_writer_is_read_however_it_is_typed(name, lead, before, after, upper):
    """Property: case, greeting, punctuation and accents do not hide the new writer's name."""
    text = before + lead.format(n=name) + after
    change = cues.speaker_change(text.upper() if upper else text)
    assert change is not None and change.name == cues.normalise(name).replace("é", "e")


def _verified(session, text_phone: str = "+15555550105"):
    luis, account = add_debtor(session, account_ref="SET-100006", first_name="Luis", phone=text_phone)
    add_debtor(session, account_ref="SET-100005", first_name="Maria", phone=text_phone, ssn_last4="2222")
    conversation = conversations.get_or_create(session, "sms", text_phone)
    conversation.debtor_id, conversation.account_id, conversation.verified_at = luis.id, account.id, NOW
    session.flush()
    return conversation


def test_ID_4_maria_on_luis_phone_withdraws_his_verification_and_may_verify_herself(engine):
    """F30: verified as Luis, "this is Maria now, Luis handed me the phone": the conversation is no longer verified
    (so accounts.balance_messages refuses), the withdrawal is audited with ID-4, and no person is called for: Maria
    is a debtor on file and may verify as herself.

    Mutation tried: `conversation.verified_at = None` removed from _withdraw_verification -> verified_at kept."""
    with session_scope(engine) as session:
        conversation = _verified(session)
        assert sensitive_requests.another_person_writing(session, conversation, ANOTHER_PERSON[0], NOW)
        assert conversation.verified_at is None
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "verification_withdrawn")).one()
        assert event.rule_id == "ID-4" and event.detail == {"intent": "new_speaker"}
        assert sensitive_requests.handed_to_a_person(session, conversation.id, "help@example.com") is None


def test_ID_1_a_spouse_on_the_phone_goes_to_a_person_and_is_told_nothing(engine):
    """ID-1: "I'm Luis's wife" after Luis verified: withdrawn, handed to a person (reason third_party), and every
    later request in the conversation gets the handover reply, which names no debt.

    Mutation tried: THIRD_PARTY_WRITING left out of handed_to_a_person's kinds -> None was returned."""
    with session_scope(engine) as session:
        conversation = _verified(session)
        assert sensitive_requests.another_person_writing(session, conversation, "I'm Luis's wife", NOW)
        assert conversation.verified_at is None
        assert session.scalar(select(Handoff.reason).where(Handoff.conversation_id == conversation.id)) \
            == "third_party"
        reply = sensitive_requests.handed_to_a_person(session, conversation.id, "help@example.com")
        assert reply is not None and "$" not in reply and "debt" not in reply.lower()


def test_ID_4_the_verified_debtor_giving_their_own_name_keeps_the_verification(engine):
    """"this is Luis now" from Luis changes nothing. Mutation tried: the own-name check removed -> withdrawn."""
    with session_scope(engine) as session:
        conversation = _verified(session)
        assert not sensitive_requests.another_person_writing(session, conversation, "this is Luis now", NOW)
        assert conversation.verified_at is not None
