"""While a person owns a conversation the bot says nothing, yet a legal request typed to them still takes effect."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import wording
from bot.agents import queue, users
from bot.db.models import Account, AccountStatus, AuditEvent, ContactPreference, Message
from bot.gateway.pipeline import stop_reply
from tests.integration.chat import Chat, letters

pytestmark = pytest.mark.integration


def _owned(running_stack) -> Chat:
    chat = Chat(running_stack, "owned")
    chat.verify_as_new_debtor()
    chat.say("i want to talk to a person")
    with chat.session() as session:
        agent = users.create_user(session, f"agent{letters()}", "correct horse battery staple", "agent")
        handoff = queue.open_handoff(session, chat.conversation(session).id)
        queue.claim(session, handoff.id, agent)
    return chat


def test_CEASE_1_a_cease_typed_to_an_agent_ends_collection_with_the_one_closing_message(running_stack):
    """CEASE-1: "one closing message", as in a bot-owned chat (the exploratory pass: the account was ceased but the
    debtor heard nothing). The agent sees it in the transcript. Mutation tried: CONFIRMED_WHILE_OWNED without
    cease_contact -> no reply, and this fails."""
    chat = _owned(running_stack)
    assert chat.say("Stop contacting me. I refuse to pay this.") == [wording.say("cease_reply")]
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert session.get(Account, conversation.account_id).status == AccountStatus.CEASED
        applied = session.scalars(select(AuditEvent.rule_id).where(
            AuditEvent.conversation_id == conversation.id, AuditEvent.kind == "rule_applied_while_agent_owned")).all()
    assert applied == ["CEASE-1"]
    with chat.session() as session:  # what the agent reads: the debtor's words, then the confirmation
        said = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id)
                               .order_by(Message.id.desc()).limit(2)).all()
    assert said == [wording.say("cease_reply"), "Stop contacting me. I refuse to pay this."]


def test_OPT_3_an_opt_out_typed_to_an_agent_is_confirmed_once(running_stack):
    chat = _owned(running_stack)
    assert chat.say("stop texting me please") == [stop_reply("rest")]
    with chat.session() as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == chat.sender)).one()
    assert preference.opted_out_at is not None
