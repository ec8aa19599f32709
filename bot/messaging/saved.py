"""Saved messages: what a debtor wrote while no Rasa answered, kept until it is answered.

The gateway stores every inbound message before anything else; when no Rasa instance answers its turn, the message is
marked "unprocessed", told "your message is saved and I'll answer it as soon as I can" (wording: unavailable_reply),
and queued here (`save`). Once Rasa answers again, the job `python -m bot answer-saved` (and the gateway itself, for
a conversation whose debtor writes again: bot/gateway/pipeline.py) answers each saved message, in the order the
debtor wrote them, once:

- one worker at a time per conversation: `claim` is a single conditional UPDATE of the conversation's row, atomic on
  SQLite and on PostgreSQL (a second worker's UPDATE waits for the first's row lock, then finds the claim taken), with
  a lease so that a worker that died lets go (`CLAIM_SECONDS`);
- the row here goes in the same transaction that stores the answer (`answered`), so a message is answered or still
  waiting, never both; a worker that died mid-turn leaves it waiting, and its retry carries the same message id, which
  Rasa answers once (rasa_extensions/settle_channel.py);
- every answer goes through the one outbox (bot/messaging/outbox.py), which applies every rule at send time.

What is not answered by the dialogue (`why_not_answered`), but handed to a person (the agent queue) with the message:
- the debtor opted out of the channel since (OPT-3) or a cease, attorney, bankruptcy or death was reported (CEASE-*):
  the dialogue says nothing more, but what they wrote may still matter (a dispute in writing counts, DSP-1), so a person
  reads it;
- the message is older than the conversation's session idle time (SESSION_IDLE_MINUTES): the debtor has left, the
  form it answered may have moved on, and the verification has expired (ID-1); an automatic answer then would be a
  stale reply to a question asked long ago, sent as a new contact. A person reads it and decides what to say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, handoff
from bot.agents import queue as agent_queue
from bot.compliance import holds, outbound_gate
from bot.db.models import Conversation, ConversationFlag, Message, SavedMessage
from bot.records import flags

UNPROCESSED = "unprocessed"  # the stored message's status while it waits
UNANSWERED = "unanswered"  # handed to a person instead of answered by the dialogue
# How long one worker holds a conversation's saved messages: longer than a few Rasa turns (each at most
# RASA_RETRY_SECONDS), short enough that the messages of a worker that died wait only minutes more.
CLAIM_SECONDS = 300
TOO_OLD = "too_old"
HANDOFF_REASON = "saved_message"


@dataclass(frozen=True)
class Saved:
    """One saved message as its turn needs it."""

    message_id: int
    conversation_id: str
    text: str
    created_at: datetime
    new_session: bool
    metadata: dict[str, Any] | None
    rule_ids: tuple[str, ...]


def save(session: Session, message_id: int, conversation_id: str, *, new_session: bool = False,
         metadata: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Queue a stored message whose turn no Rasa answered (once: saving it again keeps the first row)."""
    if session.get(SavedMessage, message_id) is None:
        session.add(SavedMessage(message_id=message_id, conversation_id=conversation_id, new_session=new_session,
                                 turn_metadata=metadata or None, **({"saved_at": now} if now else {})))
        session.flush()


def answered(session: Session, message_id: int) -> None:
    """The message has its answer (stored in this transaction): it waits no more."""
    session.execute(delete(SavedMessage).where(SavedMessage.message_id == message_id))


def waiting_count(session: Session) -> int:
    """How many saved messages wait for an answer (settle_saved_messages_waiting, the operations page)."""
    return session.scalar(select(func.count()).select_from(SavedMessage)) or 0


def waiting_conversations(session: Session, limit: int = 100) -> list[str]:
    """Conversations with saved messages, the longest waiting first."""
    return list(session.scalars(select(SavedMessage.conversation_id).group_by(SavedMessage.conversation_id)
                                .order_by(func.min(SavedMessage.message_id)).limit(limit)))


def has_waiting(session: Session, conversation_id: str) -> bool:
    return session.scalar(select(SavedMessage.message_id).where(
        SavedMessage.conversation_id == conversation_id).limit(1)) is not None


def claim(session: Session, conversation_id: str, worker: str, now: datetime,
          seconds: float = CLAIM_SECONDS) -> bool:
    """Take the conversation's saved messages for `worker` until now + `seconds`, unless another worker holds them.
    One UPDATE whose WHERE tests the claim: two workers racing both run it, one row changes for one of them."""
    result = session.execute(
        update(Conversation).where(
            Conversation.id == conversation_id,
            or_(Conversation.saved_claimed_until.is_(None), Conversation.saved_claimed_until <= now,
                Conversation.saved_claimed_by == worker))
        .values(saved_claimed_by=worker, saved_claimed_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release(session: Session, conversation_id: str, worker: str) -> None:
    """Let go of the claim, if `worker` still holds it."""
    session.execute(update(Conversation).where(Conversation.id == conversation_id,
                                               Conversation.saved_claimed_by == worker)
                    .values(saved_claimed_by=None, saved_claimed_until=None)
                    .execution_options(synchronize_session=False))


def in_order(session: Session, conversation_id: str) -> list[Saved]:
    """The conversation's saved messages, in the order they were written (stored)."""
    rows = session.execute(select(SavedMessage, Message).join(Message, Message.id == SavedMessage.message_id)
                           .where(SavedMessage.conversation_id == conversation_id)
                           .order_by(SavedMessage.message_id)).all()
    return [Saved(m.id, m.conversation_id, m.text, m.created_at, s.new_session, s.turn_metadata,
                  tuple(m.rule_ids or ())) for s, m in rows]


def why_not_answered(session: Session, conversation: Conversation, message: Saved, now: datetime,
                     idle: timedelta) -> str | None:
    """Why the dialogue must not answer this saved message (a rule ID, or TOO_OLD), or None when it may."""
    preference = contact_preferences.find(session, conversation.channel, conversation.external_id)
    if preference is not None and preference.opted_out_at is not None:
        return "OPT-3"  # STOP came after it: the dialogue says nothing more on this channel
    ceased = session.scalar(select(ConversationFlag.rule_id).where(
        ConversationFlag.conversation_id == conversation.id, ConversationFlag.flag == flags.CEASE).limit(1))
    if ceased is not None:
        return ceased or "CEASE-1"
    for account in outbound_gate.accounts_of(session, conversation):
        rule = holds.hold_rule(session, account)
        if rule is not None and rule.startswith("CEASE"):
            return rule
    if now - message.created_at > idle:
        return TOO_OLD
    return None


def hand_to_person(session: Session, conversation: Conversation, messages: Sequence[Saved], why: str,
                   now: datetime) -> None:
    """The messages go to the agent queue unanswered by the bot: a person reads them and decides (see the module
    docstring for when). Their rows leave the queue in this transaction."""
    ids = [m.message_id for m in messages]
    rule_id = None if why == TOO_OLD else why
    for message in session.scalars(select(Message).where(Message.id.in_(ids))):
        message.status = UNANSWERED
        if rule_id is not None:
            message.rule_ids = sorted(set(message.rule_ids or []) | {rule_id})
    session.execute(delete(SavedMessage).where(SavedMessage.message_id.in_(ids)))
    # One open handoff per conversation (bot/handoff.py merges a second request into it): the person sees every
    # message handed over, not only the last.
    current = agent_queue.open_handoff(session, conversation.id)
    before = list(((current.details or {}) if current is not None else {}).get("saved_messages", []))
    handoff.request(session, conversation.id, HANDOFF_REASON, rule_id=rule_id, account_id=conversation.account_id,
                    details={"saved_messages": before + ids, "why": why}, now=now)
    audit.record(session, "saved_messages_handed_over", rule_id=rule_id, conversation_id=conversation.id,
                 detail={"messages": ids, "why": why}, at=now)
