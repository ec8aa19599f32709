"""ID-3 (F33): a locked person's right details, typed in a new SMS conversation, were answered "You have 2 more
tries", which no try could keep. A locked person still answers as made-up details do (ID-2: the lockout confirms no
factor; tests/test_identity.py), so the words themselves must be true in both cases: the lock first, and the count
said to be this chat's."""

from __future__ import annotations

import pytest

from bot import identity
from bot.db import session_scope
from bot.db.models import Conversation
from tests.conftest import add_debtor


@pytest.mark.parametrize("language", ["en", "es"])
def test_ID_3_the_retry_message_puts_the_lock_first_and_counts_only_this_chats_tries(language):
    """Mutation tried: the count ("If not, {tries}") dropped from the English verify_retry -> failed (the
    wording's order and the chat's count are what this checks)."""
    said = identity.retry_message(2, language)
    lock = said.index("24")
    count = said.index("2 more tries" if language == "en" else "2 intentos más")
    assert lock < count and said[:count].rstrip().endswith(("this chat has", "este chat tiene"))


def test_ID_3_a_locked_person_on_a_new_sms_conversation_is_told_of_the_lock(engine):
    """F33 end to end in the service: three failures from the web lock the person; their right details from their
    own phone in a new conversation get the answer whose first instruction is the lockout's (talk to a person)."""
    service = identity.IdentityService()
    with session_scope(engine) as session:
        add_debtor(session, phone="+15555550121")
        for n in range(3):
            conversation = Conversation(channel="rest", external_id=f"lock1-{n}")
            session.add(conversation)
            session.flush()
            service.verify(session, conversation.id, identity.Factors(
                dob=identity.parse_dob(f"01/0{n + 1}/1970"), ssn_last4="1234", account_ref="SET-100001"))
        sms = Conversation(channel="sms", external_id="+15555550121")
        session.add(sms)
        session.flush()
        result = service.verify(session, sms.id, identity.Factors(
            dob=identity.parse_dob("03/14/1979"), ssn_last4="1234", phone="+15555550121"))
    said = identity.retry_message(result.tries_left)
    assert result.status != identity.VERIFIED
    assert said.index("locked for 24 hours") < said.index("more tries")
