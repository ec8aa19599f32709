"""While a person owns a conversation the bot says nothing, yet a legal request typed to them still takes effect."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.agents import queue, users
from bot.db.models import Account, AccountStatus, AuditEvent, ContactPreference
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


def test_CEASE_1_a_cease_typed_to_an_agent_still_ends_collection_without_a_bot_reply(running_stack):
    chat = _owned(running_stack)
    assert chat.say("leave me alone, im not paying this") == []  # the agent answers, not the bot
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert session.get(Account, conversation.account_id).status == AccountStatus.CEASED
        applied = session.scalars(select(AuditEvent.rule_id).where(
            AuditEvent.conversation_id == conversation.id, AuditEvent.kind == "rule_applied_while_agent_owned")).all()
    assert applied == ["CEASE-1"]


def test_OPT_3_an_opt_out_typed_to_an_agent_is_confirmed_once(running_stack):
    chat = _owned(running_stack)
    assert chat.say("stop texting me please") == [stop_reply("rest")]
    with chat.session() as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == chat.sender)).one()
    assert preference.opted_out_at is not None
