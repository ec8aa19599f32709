"""An agent's reply, and the bot's word when an agent hands a conversation back.

An agent's reply passes the same outbound gate as the bot's (`check_reply(..., sender_role="agent")`: TONE-1,
TBD-1, DSP-2 and CEASE-* holds, and TONE-2 for figures the ledger does not hold), plus two checks that only a
person's free text needs:
  * PCI-1/PCI-2: a card number or SSN typed into a reply is never sent, and only its redacted form is stored;
  * OPT-3 / ID-4: after STOP or a wrong-party report on this address, nothing goes there until the consumer
    writes again (then a reply in that consumer-started session is allowed, as for the bot).
A blocked reply is stored as blocked with its rule IDs (sender_role "agent", attributed) and shown to the agent;
an allowed one is stored as sent, attributed to the agent, and delivered on the debtor's channel: the widget
through the live hub, SMS through Twilio (or the local outbox without keys, which the demo phone shows).

Storing happens in one transaction (`record_reply`, sync, in a worker thread); delivering happens after it
commits (`deliver`, async), so a debtor never receives a message the database does not hold."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot import agents, audit, conversations, sms
from bot.agents import queue, users
from bot.compliance import outbound_gate, redaction
from bot.db.models import ContactPreference, Conversation, Handoff, Message, User
from bot.gateway.live import LiveHub, message_event

log = logging.getLogger("settle.agents")

MAX_REPLY = 1600  # one Twilio message at most; longer is not a chat reply
HANDED_BACK_TEXT = ("You're back with our automated assistant. You can say 'balance', 'payment plan', 'pay now' "
                    "or 'talk to a person'.")
# On a held account the gate refuses any mention of paying (DSP-2, CEASE-*): the same news without it.
HANDED_BACK_NEUTRAL = "You're back with our automated assistant. Say 'talk to a person' any time to reach us again."


class ReplyError(ValueError):
    """The reply cannot even be considered (empty, too long): nothing is stored."""


@dataclass
class Outgoing:
    """A stored outbound message and where it goes; `allowed` False means it was blocked and goes nowhere."""

    allowed: bool
    message_id: int
    conversation_id: str
    channel: str
    address: str
    text: str
    rule_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    event: dict[str, Any] = field(default_factory=dict)
    sender_name: str | None = None


def _suppressed(session: Session, conversation: Conversation) -> str | None:
    """OPT-3 / ID-4 for a person's reply: the address opted out or reached the wrong person, and the consumer
    has not written since (a consumer who writes in again is answered in that session, docs/compliance.md)."""
    preference = session.scalar(select(ContactPreference).where(
        ContactPreference.channel == conversation.channel, ContactPreference.address == conversation.external_id))
    if preference is None:
        return None
    since = max((t for t in (preference.opted_out_at, preference.wrong_party_at) if t is not None), default=None)
    if since is None:
        return None
    last_in = session.scalar(select(func.max(Message.created_at)).where(
        Message.conversation_id == conversation.id, Message.direction == "in"))
    if last_in is not None and last_in > since:
        return None
    return "ID-4" if preference.wrong_party_at is not None else "OPT-3"


def record_reply(session: Session, handoff_id: str, agent: User, text: str,
                 now: datetime | None = None) -> Outgoing:
    """Gate and store an agent's reply. Only the agent who owns the conversation may write in it."""
    handoff = queue.get(session, handoff_id)
    if not users.can_reply(agent, handoff):
        if users.can_work(agent) and handoff.status == queue.CLAIMED:
            raise queue.Forbidden("Another person owns this conversation; only they can write in it.")
        if users.can_work(agent):
            raise queue.Forbidden("Take the conversation first; only its owner can write in it.")
        raise queue.Forbidden("Your role cannot write to debtors.")
    text = (text or "").strip()
    if not text:
        raise ReplyError("Write a reply first.")
    if len(text) > MAX_REPLY:
        raise ReplyError(f"A reply can be up to {MAX_REPLY} characters.")
    conversation = session.get(Conversation, handoff.conversation_id)
    now = now or datetime.now(timezone.utc)

    found = redaction.redact(text)
    stored_text = found.text  # PCI-2: the number is never stored, even on a blocked reply
    rule_ids: list[str] = []
    reasons: list[str] = []
    if found.kinds:
        rule_ids.append("PCI-2")
        reasons.append("card or SSN digits in the reply: " + ", ".join(found.kinds))
    verdict = outbound_gate.check_reply(session, conversation, stored_text, sender_role="agent")
    rule_ids += [r for r in verdict.rule_ids if r not in rule_ids]
    reasons += verdict.reasons
    suppressed = _suppressed(session, conversation)
    if suppressed:
        rule_ids.append(suppressed)
        reasons.append("the address opted out" if suppressed == "OPT-3" else "the address reached the wrong person")

    payload = {"agent_id": agent.id, "agent_name": agent.display_name}
    allowed = not rule_ids
    message = conversations.record_message(session, conversation, direction="out", sender_role="agent",
                                           text=stored_text, payload=payload,
                                           status="sent" if allowed else "blocked")
    message.created_at = now
    if allowed:
        audit.record(session, "agent_reply_sent", rule_id="HO-1", actor=users.actor(agent),
                     conversation_id=conversation.id, detail={"message_id": message.id})
    else:
        message.rule_ids = rule_ids
        audit.record(session, "outbound_blocked", rule_id=rule_ids[0], actor=users.actor(agent),
                     conversation_id=conversation.id,
                     detail={"rules": rule_ids, "reasons": reasons, "message_id": message.id,
                             "sender_role": "agent"})
    return Outgoing(allowed, message.id, conversation.id, conversation.channel, conversation.external_id,
                    stored_text, tuple(rule_ids), tuple(reasons), message_event(message), agent.display_name)


def record_bot_notice(session: Session, handoff: Handoff) -> Outgoing | None:
    """The bot's own word after a hand back: the debtor knows they are talking to software again (DISC-4) and
    what they can do next. Gated like any bot reply; nothing is sent if the gate refuses both wordings."""
    conversation = session.get(Conversation, handoff.conversation_id)
    if conversation is None or _suppressed(session, conversation):
        return None
    text = next((t for t in (HANDED_BACK_TEXT, HANDED_BACK_NEUTRAL)
                 if outbound_gate.check_reply(session, conversation, t).allowed), None)
    if text is None:
        return None
    message = conversations.record_message(session, conversation, direction="out", sender_role="bot", text=text,
                                           status="sent")
    return Outgoing(True, message.id, conversation.id, conversation.channel, conversation.external_id, text,
                    event=message_event(message))


async def deliver(outgoing: Outgoing, *, engine: Engine, hub: LiveHub | None,
                  sms_sender: sms.TwilioSender | None, max_segments: int = 10) -> None:
    """Send a stored, allowed message on the debtor's channel, then tell the console. A blocked one only
    reaches the console."""
    if outgoing.allowed and outgoing.channel == "web" and hub is not None:
        # The widget renders role "agent" with the agent's name (DISC-4: a person is never passed off as the bot).
        await hub.publish(outgoing.conversation_id, outgoing.event)
    elif outgoing.allowed and outgoing.channel == sms.CHANNEL and sms_sender is not None:
        body = sms.sms_text(f"{outgoing.sender_name}: {outgoing.text}" if outgoing.sender_name else outgoing.text)
        results = await run_in_threadpool(sms.send_text, sms_sender, outgoing.address, body, max_segments)
        await run_in_threadpool(sms.record_delivery, engine, outgoing.conversation_id, outgoing.message_id,
                                outgoing.address, results, max_segments)
        if not any(r.ok for r in results):
            log.warning("an agent's SMS reply (message %s) was not accepted by Twilio", outgoing.message_id)
    # SMS without Twilio keys: the stored message is the local outbox (the demo phone shows it). REST: the
    # channel has no push; the reply is stored and visible in the console.
    await notify(hub, outgoing.conversation_id)


async def notify(hub: LiveHub | None, conversation_id: str) -> None:
    """Wake every console watching this conversation or the queue; they read what changed from the database."""
    if hub is None:
        return
    await hub.publish(agents.conversation_topic(conversation_id), {"type": "changed"})
    await hub.publish(agents.QUEUE_TOPIC, {"type": "changed"})
