"""Bot-initiated messages (reminders, notices, campaigns) wait in scheduled_messages until the outbound gate lets
them go. A message outside the contact window or over the cap is deferred to the next allowed time (TIME-1,
FREQ-1), never dropped; one that may not go at all is kept as blocked with its rule IDs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot import audit, conversations
from bot.compliance import outbound_gate
from bot.db import session_scope
from bot.db.models import ScheduledMessage

# A transport delivers one message: (channel, address, text) -> provider message id. The default records it
# locally (the embedded default: no SMS provider); the SMS channel supplies Twilio's.
Transport = Callable[[str, str, str], str]


def local_transport(engine: Engine) -> Transport:
    """Outbound messages recorded in the address's conversation, as the demo shows them."""

    def send(channel: str, address: str, text: str) -> str:
        with session_scope(engine) as session:
            conversation = conversations.get_or_create(session, channel, address)
            message = conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                                   text=text, status="sent")
            return f"local-{message.id}"

    return send


@dataclass(frozen=True)
class RunSummary:
    sent: int
    deferred: int
    blocked: int


def schedule(session: Session, *, account_id: str | None, channel: str, address: str, kind: str, text: str,
             not_before: datetime) -> ScheduledMessage:
    message = ScheduledMessage(account_id=account_id, channel=channel, address=address, kind=kind, text=text,
                               not_before=not_before)
    session.add(message)
    session.flush()
    return message


def describe(message: ScheduledMessage, verdict: outbound_gate.Verdict) -> str:
    """One line for --dry-run: what would happen to the message, and why."""
    if verdict.allowed:
        return f"{message.id} {message.kind} to {message.channel}: send"
    action = f"defer to {verdict.defer_until:%Y-%m-%d %H:%M} UTC" if verdict.defer_until else "block"
    return f"{message.id} {message.kind} to {message.channel}: {action} ({', '.join(verdict.rule_ids)}: " \
           f"{'; '.join(verdict.reasons)})"


def process_due(engine: Engine, transport: Transport, now: datetime | None = None,
                dry_run: bool = False) -> RunSummary:
    """Send, defer or block every pending message that is due. Each message is claimed and decided in its own
    transaction, so two runners never send one message twice. A transport failure rolls the claim back to pending."""
    now = now or datetime.now(timezone.utc)
    with session_scope(engine) as session:
        due = session.scalars(select(ScheduledMessage.id).where(
            ScheduledMessage.status == "pending", ScheduledMessage.not_before <= now)
            .order_by(ScheduledMessage.not_before)).all()
    sent = deferred = blocked = 0
    for message_id in due:
        if not dry_run and not _claim(engine, message_id):
            continue  # another runner took it
        try:
            decided = _decide(engine, transport, message_id, now, dry_run)
        except BaseException:
            _unclaim(engine, message_id)  # e.g. the provider is down: it stays queued for the next run
            raise
        sent, deferred, blocked = sent + (decided == "sent"), deferred + (decided == "deferred"), \
            blocked + (decided == "blocked")
    return RunSummary(sent, deferred, blocked)


def _claim(engine: Engine, message_id: str) -> bool:
    """One winner per message on any database: the runner whose UPDATE flips pending to sending sends it. Its own
    short transaction, so that no write lock is held while the message is sent (SQLite has a single writer)."""
    with session_scope(engine) as session:
        return session.execute(update(ScheduledMessage).where(
            ScheduledMessage.id == message_id, ScheduledMessage.status == "pending").values(status="sending")
        ).rowcount == 1


def _unclaim(engine: Engine, message_id: str) -> None:
    with session_scope(engine) as session:
        session.execute(update(ScheduledMessage).where(
            ScheduledMessage.id == message_id, ScheduledMessage.status == "sending").values(status="pending"))


def _decide(engine: Engine, transport: Transport, message_id: str, now: datetime, dry_run: bool) -> str | None:
    with session_scope(engine) as session:
        message = session.get(ScheduledMessage, message_id)
        verdict = outbound_gate.check_initiated(session, message, now)
        if dry_run:
            print(describe(message, verdict))
            session.rollback()
            return None
        if verdict.allowed:
            message.text = verdict.text  # with the DISC-2 notice and OPT-1 line
            transport(message.channel, message.address, verdict.text)
            message.status, message.sent_at = "sent", now
            return "sent"
        if verdict.defer_until is not None:
            message.status, message.not_before = "pending", verdict.defer_until
            message.rule_ids, message.reason = list(verdict.rule_ids), "; ".join(verdict.reasons)
            audit.record(session, "outbound_deferred", rule_id=verdict.rule_ids[0], account_id=message.account_id,
                         detail={"message_id": message.id, "until": verdict.defer_until.isoformat()})
            return "deferred"
        message.status, message.rule_ids = "blocked", list(verdict.rule_ids)
        message.reason = "; ".join(verdict.reasons)
        audit.record(session, "outbound_blocked", rule_id=verdict.rule_ids[0], account_id=message.account_id,
                     detail={"message_id": message.id, "rules": list(verdict.rule_ids)})
        return "blocked"
