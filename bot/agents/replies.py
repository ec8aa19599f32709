"""An agent's reply, and the bot's word when an agent hands a conversation back.

Both go through the outbox (bot/messaging) like every message Settle sends: an agent's reply gets every rule a
human collector's message needs (bot/compliance/outbound_gate.py: TONE-1 and TBD-1 on the words and the agent's
name said with them, TONE-2 for figures the ledger does not hold, ID-1/DISC-3 before verification, DISC-2 on a
text, the holds, OPT-3 and ID-4 suppression), and one written after the debtor's session went quiet starts a
contact of its own (TIME-1, FREQ-1, ID-5). A card number or SSN typed into a reply is never sent, and only its
redacted form is stored (PCI-1, PCI-2). A blocked reply is stored as blocked with its rule IDs, attributed to the
agent and shown to them.

Storing happens in one transaction (here, sync, in a worker thread); delivering happens after it commits (the
console's route hands the result to the couriers), so a debtor never receives a message the database does not
hold."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot import agents, audit, conversations
from bot.agents import queue, users
from bot.compliance import outbound_gate
from bot.db.models import Conversation, Handoff, User
from bot.messaging import outbox
from bot.messaging.outbox import Draft, Posted

log = logging.getLogger("settle.agents")

MAX_REPLY = 1600  # one Twilio message at most; longer is not a chat reply
HANDED_BACK_TEXT = ("You're back with our automated assistant. You can say 'balance', 'payment plan', 'pay now' "
                    "or 'talk to a person'.")
# On a held account the gate refuses any mention of paying (DSP-2, CEASE-*): the same news without it.
HANDED_BACK_NEUTRAL = "You're back with our automated assistant. Say 'talk to a person' any time to reach us again."


ENDED_TEXT = ("The person ended the chat, so a reply would not reach them on the web chat. Nothing was sent. "
              "Add a private note if you need to, then resolve the conversation or hand it back.")


class ReplyError(ValueError):
    """The reply cannot even be considered (empty, too long): nothing is stored."""


def record_reply(session: Session, handoff_id: str, agent: User, text: str,
                 now: datetime | None = None) -> Posted:
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
    if conversations.ended_at(session, conversation.id) is not None:
        # "End chat" shut the web session for good: a reply would be stored as sent and never read.
        raise ReplyError(ENDED_TEXT)
    draft = Draft(text, "agent_reply", sender_role="agent", sender_name=agent.display_name,
                  payload={"agent_id": agent.id, "agent_name": agent.display_name}, actor=users.actor(agent))
    posted = outbox.post_reply(session, conversation, draft, now=now)
    if posted.sent:
        audit.record(session, "agent_reply_sent", rule_id="HO-1", actor=users.actor(agent),
                     conversation_id=conversation.id, detail={"message_id": posted.message_id})
    return posted


def record_bot_notice(session: Session, handoff: Handoff, now: datetime | None = None) -> Posted | None:
    """The bot's own word after a hand back: the debtor knows they are talking to software again (DISC-4) and
    what they can do next. On a held account the wording without a payment ask is used (DSP-2, CEASE-*)."""
    conversation = session.get(Conversation, handoff.conversation_id)
    if conversation is None or conversations.ended_at(session, conversation.id) is not None:
        return None  # the person ended the web chat: nobody is there to be told
    # DISC-3: the menu names a balance and payments, so only a verified debtor hears it.
    wordings = (HANDED_BACK_TEXT, HANDED_BACK_NEUTRAL) if conversation.verified_at is not None else ()
    text = next((t for t in wordings if outbound_gate.check_reply(session, conversation, t).allowed),
                HANDED_BACK_NEUTRAL)
    return outbox.post_reply(session, conversation, Draft(text, "handback"), now=now)


class Publisher(Protocol):
    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...


async def notify(hub: Publisher | None, conversation_id: str) -> None:
    """Wake every console watching this conversation or the queue; they read what changed from the database."""
    if hub is None:
        return
    await hub.publish(agents.conversation_topic(conversation_id), {"type": "changed"})
    await hub.publish(agents.QUEUE_TOPIC, {"type": "changed"})
