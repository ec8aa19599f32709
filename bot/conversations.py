"""Conversations and their messages. A message is stored before it is processed (inbound) and as soon as
it is produced (outbound), so nothing a debtor says is lost if a later step fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, Conversation, Message

# The person ended the conversation on their side (the web chat's "End chat", bot/gateway/web_channel.py): an audit
# event, so it is sealed into the transcript (REC-1) and needs no column. The web session's tokens stop working, and
# the agent console says the person has gone (bot/agents/queue.py).
ENDED_EVENT = "web_session_ended"

# Every channel a conversation may be on (Conversation.channel), with the word a person reads for it: the one list
# the consoles' filters and labels are made from. Each channel's module names its own code (bot/sms.py,
# bot/gateway/web_channel.py, bot/mail/transport.py, bot/gateway/rest_channel.py), and a test holds them to this.
CHANNELS = {"sms": "SMS", "web": "Web chat", "email": "Email", "rest": "REST API"}


def channel_label(channel: str | None) -> str:
    """What a person reads for a channel code ("Web chat" for "web"); an unknown code as it is."""
    return CHANNELS.get(channel or "", channel or "")


def get_or_create(session: Session, channel: str, external_id: str) -> Conversation:
    """The conversation for this channel address, created on first contact."""
    query = select(Conversation).where(Conversation.channel == channel, Conversation.external_id == external_id)
    conversation = session.scalar(query)
    if conversation is not None:
        return conversation
    conversation = Conversation(channel=channel, external_id=external_id)
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        # Two first messages raced; the other one created it.
        conversation = session.scalars(query).one()
    return conversation


def record_message(
    session: Session,
    conversation: Conversation,
    *,
    direction: str,
    sender_role: str,
    text: str,
    payload: dict[str, Any] | None = None,
    status: str = "received",
    at: datetime | None = None,
    flush: bool = True,
) -> Message:
    """Adds the message to the session. flush=False leaves the INSERT (and its transcript entry) to the next flush,
    for a caller storing several messages at once that does not need their ids yet."""
    now = at or datetime.now(timezone.utc)
    message = Message(
        conversation_id=conversation.id,
        direction=direction,
        sender_role=sender_role,
        text=text,
        payload=payload,
        status=status,
        created_at=now,
    )
    conversation.last_activity_at = now
    session.add(message)
    if flush:
        session.flush()
    return message


def history(session: Session, conversation_id: str) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
    )


def ended() -> ColumnElement[bool]:
    """SQL for "the person ended this conversation" about `Conversation.id` in a query of conversations (the web
    channel refuses an ended session's tokens with it)."""
    return select(AuditEvent.id).where(AuditEvent.conversation_id == Conversation.id,
                                       AuditEvent.kind == ENDED_EVENT).exists()


def ended_at(session: Session, conversation_id: str) -> datetime | None:
    """When the person ended this conversation ("End chat"), or None while they have not."""
    return ended_at_for(session, [conversation_id]).get(conversation_id)


def ended_at_for(session: Session, conversation_ids: Sequence[str]) -> dict[str, datetime]:
    """`ended_at` of many conversations in one query: only those the person ended are in it."""
    if not conversation_ids:
        return {}
    return dict(session.execute(select(AuditEvent.conversation_id, func.min(AuditEvent.at)).where(
        AuditEvent.conversation_id.in_(conversation_ids), AuditEvent.kind == ENDED_EVENT)
        .group_by(AuditEvent.conversation_id)).all())
