"""An agent's reply passes the outbound gate first (TONE-1, TONE-2, DSP-2, PCI-2, OPT-3); a blocked one is stored as
blocked with its rule IDs and attributed to the agent, an allowed one is stored as sent and delivered on the
debtor's channel (the widget through the live hub, SMS through Twilio)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot import contact_preferences, conversations, disputes, handoff, sms
from bot.agents import queue, replies, users
from bot.db import session_scope
from bot.db.models import AuditEvent, Message
from bot.gateway.couriers import WidgetCourier
from bot.gateway.live import InProcessHub
from bot.messaging.delivery import Couriers
from tests.conftest import add_debtor

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def _owned(session, channel: str = "web", external_id: str = "w-agent-test", verified: bool = True):
    """A verified debtor's conversation, queued and claimed by agent Ana."""
    debtor, account = add_debtor(session, balance_cents=123456, phone="+15555550101")
    conversation = conversations.get_or_create(session, channel, external_id)
    if verified:
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, NOW
    conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="a person please")
    agent = users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
    queued = handoff.request(session, conversation.id, "request_human", rule_id="HO-1", account_id=account.id)
    queue.claim(session, queued.id, agent)
    return queued, agent, account, conversation


@pytest.mark.parametrize("text,rule", [
    ("If you don't pay we'll have you arrested.", "TONE-1"),
    ("You owe $500.00, pay it today.", "TONE-2"),
])
def test_TONE_1_TONE_2_a_banned_claim_or_a_typed_in_figure_is_blocked_with_its_rule(engine, text, rule):
    with session_scope(engine) as session:
        queued, agent, _account, conversation = _owned(session)
        outgoing = replies.record_reply(session, queued.id, agent, text)
        stored = session.get(Message, outgoing.message_id)
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "outbound_blocked")).one()
    assert not outgoing.sent and rule in outgoing.rule_ids and outgoing.reasons
    assert (stored.status, stored.sender_role, stored.direction) == ("blocked", "agent", "out")
    assert rule in stored.rule_ids and stored.payload["agent_id"] == agent.id
    assert event.actor == "agent:ana" and rule in event.detail["rules"]


def test_TONE_2_the_ledger_figure_goes_out_attributed_to_the_agent(engine):
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _owned(session)
        outgoing = replies.record_reply(session, queued.id, agent, "Your balance is $1,234.56. How can I help?")
        stored = session.get(Message, outgoing.message_id)
    assert outgoing.sent and outgoing.rule_ids == ()
    assert (stored.status, stored.sender_role, stored.payload["agent_name"]) == ("sent", "agent", "Ana")
    assert outgoing.event["role"] == "agent" and outgoing.event["agent_name"] == "Ana"


def test_DSP_2_an_agent_cannot_ask_for_payment_on_a_disputed_account(engine):
    with session_scope(engine) as session:
        queued, agent, _account, conversation = _owned(session)
        disputes.record_dispute(session, conversation.id, "all")
        outgoing = replies.record_reply(session, queued.id, agent, "Can you make a payment today?")
    assert not outgoing.sent and "DSP-2" in outgoing.rule_ids


def test_PCI_2_a_card_number_in_a_reply_is_never_sent_or_stored(engine):
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _owned(session)
        outgoing = replies.record_reply(session, queued.id, agent, "Is your card 4111 1111 1111 1111?")
        stored = session.get(Message, outgoing.message_id)
    assert not outgoing.sent and "PCI-2" in outgoing.rule_ids
    assert "4111" not in stored.text and "[REDACTED]" in stored.text


def test_OPT_3_nothing_goes_to_an_opted_out_number_until_the_consumer_writes_again(engine):
    with session_scope(engine) as session:
        queued, agent, _account, conversation = _owned(session, channel="sms", external_id="+15555550101")
        contact_preferences.opt_out(session, "sms", "+15555550101", via="keyword:STOP")
        blocked = replies.record_reply(session, queued.id, agent, "Are you still there?")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="hello?")
        allowed = replies.record_reply(session, queued.id, agent, "Yes, I'm here. How can I help?")
    assert not blocked.sent and blocked.rule_ids == ("OPT-3",)
    assert allowed.sent


def test_only_the_owner_can_write_and_compliance_never_can(engine):
    with session_scope(engine) as session:
        queued, _agent, _account, _conversation = _owned(session)
        other = users.create_user(session, "ben", PASSWORD, "agent")
        reviewer = users.create_user(session, "cat", PASSWORD, "compliance")
        supervisor = users.create_user(session, "sue", PASSWORD, "supervisor")
        for person in (other, reviewer, supervisor):
            with pytest.raises(queue.Forbidden):
                replies.record_reply(session, queued.id, person, "Hello")
        assert session.scalars(select(Message).where(Message.sender_role == "agent")).all() == []


def test_an_empty_or_huge_reply_is_refused_before_anything_is_stored(engine):
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _owned(session)
        for text in ("   ", "x" * (replies.MAX_REPLY + 1)):
            with pytest.raises(replies.ReplyError):
                replies.record_reply(session, queued.id, agent, text)


def test_the_hand_back_notice_drops_the_payment_words_on_a_held_account(engine):
    """DISC-4: the debtor is told the bot is back; DSP-2: on a disputed account without 'pay now'."""
    with session_scope(engine) as session:
        queued, agent, _account, conversation = _owned(session)
        disputes.record_dispute(session, conversation.id, "all")
        returned = queue.hand_back(session, queued.id, agent)
        notice = replies.record_bot_notice(session, returned)
    assert notice.sent and notice.text == replies.HANDED_BACK_NEUTRAL


def test_an_allowed_web_reply_is_published_to_the_widget_and_wakes_the_console(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        queued, agent, _account, conversation = _owned(session)
        outgoing = replies.record_reply(session, queued.id, agent, "Hi, this is Ana.")

    async def run() -> list[dict]:
        hub = InProcessHub()
        seen: list[dict] = []
        async with hub.subscribe(conversation.id) as widget, hub.subscribe(f"console:{conversation.id}") as console:
            await Couriers({"web": WidgetCourier(hub)}).deliver([outgoing])
            await replies.notify(hub, conversation.id)
            seen.append(await asyncio.wait_for(widget.__aiter__().__anext__(), 1))
            seen.append(await asyncio.wait_for(console.__aiter__().__anext__(), 1))
        return seen

    widget_event, console_event = asyncio.run(run())
    assert widget_event["role"] == "agent" and widget_event["agent_name"] == "Ana"
    assert widget_event["text"] == "Hi, this is Ana." and console_event == {"type": "changed"}


class _FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> sms.SendResult:
        self.sent.append((to, body))
        return sms.SendResult("SM" + "a" * 32, "queued", 1)


def test_an_allowed_sms_reply_goes_out_through_the_sms_sender_with_the_agents_name(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        queued, agent, _account, _conversation = _owned(session, channel="sms", external_id="+15555550101")
        outgoing = replies.record_reply(session, queued.id, agent, "Hi, this is Ana from our team.")
    sender = _FakeSender()
    courier = sms.SmsCourier(sqlite_engine, sender, 10)  # type: ignore[arg-type]
    asyncio.run(Couriers({"sms": courier}).deliver([outgoing]))
    # DISC-2: a person's text says it is from a debt collector too, after the name it is signed with.
    assert sender.sent == [
        ("+15555550101", "Ana: This message is from a debt collector. Hi, this is Ana from our team.")]
    with session_scope(sqlite_engine) as session:
        assert session.get(Message, outgoing.message_id).payload["sms"]["status"] == "queued"
