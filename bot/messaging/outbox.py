"""Posting a message: rules, storage and audit in the caller's transaction; delivery after it commits
(bot/messaging/delivery.py). See bot/messaging/__init__.py for the whole picture."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, conversations
from bot.compliance import outbound_gate, redaction
from bot.db.models import Account, Conversation, Message, ScheduledMessage
from bot.messaging.events import Event, message_event

# How long after the consumer's last message a reply still answers them (TIME-2); the gateway passes its
# SESSION_IDLE_MINUTES, the same idle time after which a new session starts.
REPLY_WINDOW = timedelta(minutes=60)

SENT, BLOCKED, DEFERRED = "sent", "blocked", "deferred"
OPT_OUT_CONFIRMATION = outbound_gate.OPT_OUT_CONFIRMATION
OPT_OUT_ANSWER = outbound_gate.OPT_OUT_ANSWER
OPT_OUT_ONLY = outbound_gate.OPT_OUT_ONLY


@dataclass(frozen=True)
class Draft:
    """What to say. `kind` names the message for the record (reply, agent_reply, handback, payment_receipt,
    refund_receipt, reminder, debit_notice, ...); `sender_name` is an agent's display name, said with the text."""

    text: str
    kind: str = "reply"
    sender_role: str = "bot"
    payload: dict[str, Any] | None = None
    sender_name: str | None = None
    actor: str = "system"  # who the audit trail names for a refusal ("agent:ana")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return list((self.payload or {}).get("buttons") or [])


@dataclass(frozen=True)
class Posted:
    """What became of a draft: sent (stored, to be delivered), deferred (queued until `not_before`) or blocked
    (stored with its rules, delivered to nobody)."""

    status: str
    channel: str
    address: str
    text: str
    conversation_id: str | None
    kind: str = "reply"
    sender_role: str = "bot"
    sender_name: str | None = None
    message_id: int | None = None
    queued_id: str | None = None
    not_before: datetime | None = None
    rule_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    payload: dict[str, Any] | None = None
    event: Event = field(default_factory=dict)

    @property
    def sent(self) -> bool:
        return self.status == SENT

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return list((self.payload or {}).get("buttons") or [])

    def as_reply(self) -> dict[str, Any]:
        """Rasa's reply shape ({"text", "buttons"?, ...}), for the REST channel."""
        extra = {k: v for k, v in (self.payload or {}).items() if k not in ("kind", "agent_id", "agent_name")}
        return {"text": self.text, **extra}


def consumer_started(session: Session, conversation: Conversation, now: datetime,
                     window: timedelta = REPLY_WINDOW) -> bool:
    """TIME-2: the consumer wrote within the window, so a message now answers them (any hour)."""
    # The newest inbound message by id, read backwards along (conversation_id, id): a turn reads one or two rows,
    # not the whole conversation as max(created_at) did (issue 22). Messages are stored in order, so it is the
    # latest one.
    last_in = session.scalar(select(Message.created_at).where(
        Message.conversation_id == conversation.id, Message.direction == "in").order_by(Message.id.desc()).limit(1))
    return last_in is not None and now - last_in <= window


def post_reply(session: Session, conversation: Conversation, draft: Draft, *, now: datetime | None = None,
               window: timedelta = REPLY_WINDOW) -> Posted:
    return post_replies(session, conversation, [draft], now=now, window=window)[0]


def post_replies(session: Session, conversation: Conversation, drafts: Sequence[Draft], *,
                 now: datetime | None = None, window: timedelta = REPLY_WINDOW,
                 accounts: Sequence[Account] | None = None) -> list[Posted]:
    """Gate and store the replies of one turn, in order. A reply outside the consumer's live session is a
    bot-initiated contact and goes through `start_contact` instead."""
    now = now or datetime.now(timezone.utc)
    if not drafts:
        return []
    if not consumer_started(session, conversation, now, window):
        return [start_contact(session, conversation, draft, now=now) for draft in drafts]
    if accounts is None:
        accounts = outbound_gate.accounts_of(session, conversation)
    preference = outbound_gate.reply_preference(session, conversation)  # once for the turn's replies
    stored: list[tuple[Draft, outbound_gate.Verdict, Message | None, ScheduledMessage | None]] = []
    for draft in drafts:
        verdict = outbound_gate.check_reply(session, conversation, draft.text, draft.sender_role, accounts,
                                            now=now, buttons=draft.buttons, sender_name=draft.sender_name,
                                            kind=draft.kind, preference=preference)
        if verdict.defer_until is not None:  # TIME-2: said once at an inconvenient time; the rest waits
            queued = schedule(session, account_id=_account_id(session, conversation, accounts),
                              channel=conversation.channel, address=conversation.external_id, kind=draft.kind,
                              text=verdict.text, not_before=verdict.defer_until)
            queued.rule_ids, queued.reason = list(verdict.rule_ids), "; ".join(verdict.reasons)
            audit.record(session, "outbound_deferred", rule_id=verdict.rule_ids[0], conversation_id=conversation.id,
                         actor=draft.actor,
                         detail={"message_id": queued.id, "until": verdict.defer_until.isoformat(),
                                 "kind": draft.kind})
            stored.append((draft, verdict, None, queued))
            continue
        message = conversations.record_message(
            session, conversation, direction="out", sender_role=draft.sender_role, text=_storable(draft, verdict.text),
            payload=_payload(draft), status=SENT if verdict.allowed else BLOCKED, at=now, flush=False)
        if not verdict.allowed:
            message.rule_ids = list(verdict.rule_ids)
        stored.append((draft, verdict, message, None))
    session.flush()  # one INSERT round for the turn's replies
    posted = []
    for draft, verdict, message, queued in stored:
        if queued is not None:
            posted.append(_posted(DEFERRED, conversation, draft, verdict, queued=queued))
            continue
        if not verdict.allowed:
            audit.record(session, "outbound_blocked", rule_id=verdict.rule_ids[0], conversation_id=conversation.id,
                         actor=draft.actor,
                         detail={"rules": list(verdict.rule_ids), "reasons": list(verdict.reasons),
                                 "message_id": message.id, "kind": draft.kind, "sender_role": draft.sender_role})
        posted.append(_posted(SENT if verdict.allowed else BLOCKED, conversation, draft, verdict, message=message))
    return posted


def start_contact(session: Session, conversation: Conversation, draft: Draft, *,
                  now: datetime | None = None, account_id: str | None = None) -> Posted:
    """A message to a conversation's address that answers nothing live: every rule of a bot-initiated message
    applies now (OPT-3, ID-4, ID-5, holds, TIME-1, FREQ-1, DISC-2, OPT-1). Sent now when allowed (and counted
    for FREQ-1), queued until the next allowed time when deferred, stored as blocked otherwise."""
    now = now or datetime.now(timezone.utc)
    accounts = outbound_gate.accounts_of(session, conversation)
    account_id = account_id or _account_id(session, conversation, accounts)
    queued = schedule(session, account_id=account_id, channel=conversation.channel,
                      address=conversation.external_id, kind=draft.kind, text=draft.text, not_before=now)
    verdict = outbound_gate.check_initiated(session, queued, now, sender_role=draft.sender_role,
                                            conversation=conversation, buttons=draft.buttons,
                                            sender_name=draft.sender_name)
    if verdict.allowed:
        queued.text, queued.status, queued.sent_at = verdict.text, SENT, now
        message = conversations.record_message(session, conversation, direction="out", sender_role=draft.sender_role,
                                               text=verdict.text, payload=_payload(draft, queued.id), status=SENT,
                                               at=now)
        return _posted(SENT, conversation, draft, verdict, message=message, queued=queued)
    queued.rule_ids, queued.reason = list(verdict.rule_ids), "; ".join(verdict.reasons)
    if verdict.defer_until is not None:
        queued.not_before = verdict.defer_until
        audit.record(session, "outbound_deferred", rule_id=verdict.rule_ids[0], account_id=account_id,
                     actor=draft.actor,
                     conversation_id=conversation.id,
                     detail={"message_id": queued.id, "until": verdict.defer_until.isoformat(), "kind": draft.kind})
        return _posted(DEFERRED, conversation, draft, verdict, queued=queued)
    queued.status = BLOCKED
    queued.text = _storable(draft, draft.text)
    message = conversations.record_message(session, conversation, direction="out", sender_role=draft.sender_role,
                                           text=queued.text, payload=_payload(draft, queued.id), status=BLOCKED,
                                           at=now)
    message.rule_ids = list(verdict.rule_ids)
    audit.record(session, "outbound_blocked", rule_id=verdict.rule_ids[0], account_id=account_id, actor=draft.actor,
                 conversation_id=conversation.id,
                 detail={"rules": list(verdict.rule_ids), "reasons": list(verdict.reasons), "message_id": message.id,
                         "kind": draft.kind, "sender_role": draft.sender_role})
    return _posted(BLOCKED, conversation, draft, verdict, message=message, queued=queued)


def schedule(session: Session, *, account_id: str | None, channel: str, address: str, kind: str, text: str,
             not_before: datetime, message_id: str | None = None) -> ScheduledMessage:
    """Queue a bot-initiated message (reminder, notice, campaign); `queue.process_due` sends it through the gate
    when it is due. `message_id`: an idempotent id (a second run queuing the same reminder hits the primary key)."""
    message = ScheduledMessage(account_id=account_id, channel=channel, address=address, kind=kind, text=text,
                               not_before=not_before, **({"id": message_id} if message_id else {}))
    session.add(message)
    session.flush()
    return message


def record_sent(session: Session, channel: str, address: str, text: str, *, kind: str,
                payload: dict[str, Any] | None = None, now: datetime | None = None) -> Message:
    """A queued message the gate let go, in its address's conversation (the thread, the demo phone and delivery
    reports read it there)."""
    conversation = conversations.get_or_create(session, channel, address)
    return conversations.record_message(session, conversation, direction="out", sender_role="bot", text=text,
                                        payload={"kind": kind, **(payload or {})}, status=SENT, at=now)


def _storable(draft: Draft, text: str) -> str:
    """PCI-2: a person's free text is stored redacted (a blocked reply too); the bot's words are templates."""
    return redaction.redact(text).text if draft.sender_role != "bot" else text


def _payload(draft: Draft, queued_id: str | None = None) -> dict[str, Any] | None:
    payload = dict(draft.payload or {})
    if draft.kind != "reply":
        payload["kind"] = draft.kind
    if queued_id is not None:
        payload["queued_id"] = queued_id
    return payload or None


def _account_id(session: Session, conversation: Conversation, accounts: Sequence[Account]) -> str | None:
    if conversation.account_id:
        return conversation.account_id
    return accounts[0].id if accounts else None


def _posted(status: str, conversation: Conversation, draft: Draft, verdict: outbound_gate.Verdict, *,
            message: Message | None = None, queued: ScheduledMessage | None = None) -> Posted:
    posted = Posted(status, conversation.channel, conversation.external_id,
                    message.text if message is not None else verdict.text, conversation.id, draft.kind,
                    draft.sender_role, draft.sender_name, message.id if message is not None else None,
                    queued.id if queued is not None else None,
                    queued.not_before if queued is not None and status == DEFERRED else None,
                    tuple(verdict.rule_ids), tuple(verdict.reasons),
                    message.payload if message is not None else _payload(draft))
    return replace(posted, event=message_event(message)) if message is not None else posted
