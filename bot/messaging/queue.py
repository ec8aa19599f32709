"""The outbox's queue: bot-initiated messages (reminders, notices, campaigns, replies deferred by TIME-2) wait in
scheduled_messages until the outbound gate lets them go. A message outside the contact window or over the cap
is deferred to the next allowed time (TIME-1, FREQ-1), never dropped; one that may not go at all is kept as
blocked with its rule IDs.

A message is "sent" only when its transport handed it over (EMAIL-3: a mail server answered 250). A transport that
could not hand it over now raises DeliveryDeferred (SMTP 4xx, connection refused, no mail server configured): the
message waits with a growing backoff and is given up as "failed" after MAX_DELIVERY_ATTEMPTS. One refused for
good raises DeliveryRefused (SMTP 5xx): the message is "bounced" and the address suppressed (EMAIL-1).

A letter (the "mail" channel: a required notice without E-SIGN consent, EMAIL-1) is never handed to a transport
here: Settle cannot post a letter, so it goes to the print queue (status "queued_for_post") for a print-and-mail
provider, and is never called sent. A validation notice is written as of the moment it goes (DISC-5,
bot/compliance/notice_document.py), so its validation period counts from then."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot import audit, contact_preferences
from bot.compliance import notice_document, outbound_gate
from bot.db import session_scope
from bot.db.models import ScheduledMessage
from bot.messaging.outbox import record_sent

# A transport delivers one due message: (channel, address, text, kind) -> provider message id, recording it in
# the address's conversation through `outbox.record_sent`. The default only records it (the embedded default: no
# SMS provider); bot/sms.py supplies Twilio's.
# A message that is a document (the validation notice) also hands its facts over, as a fifth argument.
Transport = Callable[..., str]
MAIL = "mail"  # letters: the print queue, never sent by Settle itself
QUEUED_FOR_POST = "queued_for_post"
PRINT_QUEUE_REASON = "queued for a print-and-mail provider: not sent by Settle, no provider is connected yet"

# Temporary failures: retried after 5 min, 10, 20, ... at most 6 h apart; after 10 attempts (about two days) the
# message is given up as undeliverable, which a PLAN-3 notice's debit then treats as no notice (EMAIL-1).
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
MAX_DELIVERY_ATTEMPTS = 10


class DeliveryDeferred(Exception):
    """The transport could not hand the message over now (a mail server's 4xx, a refused connection, no mail server
    configured); nothing left. The queue retries it with backoff."""


class NotConfigured(DeliveryDeferred):
    """No transport for the channel is configured (email without SMTP_URL): the message stays queued, says why, and
    is not given up on (no attempt is counted); it goes once the transport is configured."""


class DeliveryRefused(Exception):
    """The transport's server refused the message for good (a mail server's 5xx): it bounced."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


def backoff(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th temporary failure."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def local_transport(engine: Engine) -> Transport:
    """Outbound messages recorded in the address's conversation, as the demo shows them."""

    def send(channel: str, address: str, text: str, kind: str = "reminder",
             document: dict[str, Any] | None = None) -> str:
        with session_scope(engine) as session:
            return f"local-{record_sent(session, channel, address, text, kind=kind).id}"

    return send


@dataclass(frozen=True)
class RunSummary:
    sent: int
    deferred: int
    blocked: int
    bounced: int = 0  # refused for good, or given up after every retry
    queued_for_post: int = 0  # letters put in the print queue (never "sent")


# What a queued message's status means, as the consoles say it.
STATUS_WORDS = {
    "pending": "waiting to be sent", "sending": "being sent", "sent": "sent (the server accepted it)",
    "blocked": "held by a rule", "cancelled": "cancelled", "bounced": "bounced: not delivered",
    "failed": "not delivered: gave up after retries",
    QUEUED_FOR_POST: "queued for a print-and-mail provider (not sent)",
}


def status_phrase(message: ScheduledMessage) -> str:
    return STATUS_WORDS.get(message.status, message.status)


def describe(message: ScheduledMessage, verdict: outbound_gate.Verdict) -> str:
    """One line for --dry-run: what would happen to the message, and why."""
    if verdict.allowed:
        return f"{message.id} {message.kind} to {message.channel}: send"
    action = f"defer to {verdict.defer_until:%Y-%m-%d %H:%M} UTC" if verdict.defer_until else "block"
    return f"{message.id} {message.kind} to {message.channel}: {action} ({', '.join(verdict.rule_ids)}: " \
           f"{'; '.join(verdict.reasons)})"


def process_due(engine: Engine, transport: Transport, now: datetime | None = None,
                dry_run: bool = False, channels: Collection[str] | None = None) -> RunSummary:
    """Send, defer or block every pending message that is due (on `channels` only, when given). Each message is
    claimed and decided in its own transaction, so two runners never send one message twice. A transport failure
    other than DeliveryDeferred/DeliveryRefused rolls the claim back to pending and is raised."""
    now = now or datetime.now(timezone.utc)
    with session_scope(engine) as session:
        query = select(ScheduledMessage.id).where(
            ScheduledMessage.status == "pending", ScheduledMessage.not_before <= now)
        if channels is not None:
            query = query.where(ScheduledMessage.channel.in_(list(channels)))
        due = session.scalars(query.order_by(ScheduledMessage.not_before)).all()
    sent = deferred = blocked = bounced = posted = 0
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
        bounced += decided == "bounced"
        posted += decided == QUEUED_FOR_POST
    return RunSummary(sent, deferred, blocked, bounced, posted)


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
    if not dry_run and _prepare(engine, message_id, now) is not None:
        return "blocked"
    with session_scope(engine) as session:
        message = session.get(ScheduledMessage, message_id)
        verdict = outbound_gate.check_initiated(session, message, now)
        if verdict.reroute is not None and not dry_run:
            _reroute(session, message, verdict)
            session.commit()  # before a transport that writes in its own transaction (SQLite has one writer)
            verdict = outbound_gate.check_initiated(session, message, now)
        if dry_run:
            print(describe(message, verdict))
            session.rollback()
            return None
        if verdict.allowed and message.channel == MAIL:
            message.text, message.status, message.reason = verdict.text, QUEUED_FOR_POST, PRINT_QUEUE_REASON
            audit.record(session, "outbound_queued_for_post", rule_id="EMAIL-1", account_id=message.account_id,
                         detail={"message_id": message.id, "kind": message.kind})
            return QUEUED_FOR_POST
        if verdict.allowed:
            try:
                provider_id = transport(message.channel, message.address, verdict.text, message.kind,
                                        *([message.document] if message.document else []))
            except DeliveryDeferred as exc:
                return _delivery_deferred(session, message, now, exc)
            except DeliveryRefused as exc:
                return _bounced(session, message, now, str(exc), exc.code)
            message.text = verdict.text  # with the DISC-2 notice and OPT-1 line
            message.status, message.sent_at = "sent", now
            message.provider_id = provider_id[:250] if isinstance(provider_id, str) else None
            return "sent"
        if verdict.defer_until is not None:
            message.status, message.not_before = "pending", verdict.defer_until
            message.rule_ids, message.reason = list(verdict.rule_ids), "; ".join(verdict.reasons)
            audit.record(session, "outbound_deferred", rule_id=verdict.rule_ids[0], account_id=message.account_id,
                         detail={"message_id": message.id, "until": verdict.defer_until.isoformat()})
            return "deferred"
        return _block(session, message, verdict)


def _prepare(engine: Engine, message_id: str, now: datetime) -> str | None:
    """DISC-5: a validation notice is written as of now, when it goes; its own transaction, committed before the
    send (no write lock held across the network). Held ("blocked") when it cannot be written truthfully."""
    with session_scope(engine) as session:
        message = session.get(ScheduledMessage, message_id)
        if message.kind != notice_document.KIND:
            return None
        try:
            notice_document.prepare(session, message, now)
        except notice_document.NoticeNotReady as exc:
            return _block(session, message, outbound_gate.Verdict(False, message.text, ("DISC-5",),
                                                                  reasons=(str(exc),)))
        return None


def _block(session: Session, message: ScheduledMessage, verdict: outbound_gate.Verdict) -> str:
    message.status, message.rule_ids = "blocked", list(verdict.rule_ids)
    message.reason = "; ".join(verdict.reasons)
    audit.record(session, "outbound_blocked", rule_id=verdict.rule_ids[0], account_id=message.account_id,
                 detail={"message_id": message.id, "rules": list(verdict.rule_ids)})
    return "blocked"


def _reroute(session: Session, message: ScheduledMessage, verdict: outbound_gate.Verdict) -> None:
    """EMAIL-1: a required notice that may not go by email goes by post, or a PLAN-3 notice by text, instead (the
    gate says where; it is checked again there)."""
    channel, address = verdict.reroute
    audit.record(session, "outbound_rerouted", rule_id=verdict.rule_ids[0], account_id=message.account_id,
                 detail={"message_id": message.id, "from": message.channel, "to": channel,
                         "reasons": list(verdict.reasons)})
    message.channel, message.address = channel, address
    message.rule_ids, message.reason = list(verdict.rule_ids), "; ".join(verdict.reasons)


def _delivery_deferred(session: Session, message: ScheduledMessage, now: datetime,
                       error: DeliveryDeferred) -> str:
    """EMAIL-3: not handed over, so not sent: try again later, or give up after MAX_DELIVERY_ATTEMPTS (EMAIL-1: an
    undelivered notice has not been given)."""
    reason = str(error)
    if isinstance(error, NotConfigured):
        said = message.reason == f"not sent: {reason}"
        message.status, message.not_before, message.reason = "pending", now + BACKOFF_MAX, f"not sent: {reason}"
        if not said:  # audited once, not every run
            audit.record(session, "outbound_not_configured", rule_id="EMAIL-3", account_id=message.account_id,
                         detail={"message_id": message.id, "channel": message.channel, "kind": message.kind})
        return "deferred"
    message.attempts = (message.attempts or 0) + 1
    message.reason = f"delivery failed ({message.attempts} attempts): {reason}"[:2000]
    if message.attempts >= MAX_DELIVERY_ATTEMPTS:
        message.status, message.rule_ids = "failed", ["EMAIL-1"]
        audit.record(session, "outbound_undeliverable", rule_id="EMAIL-1", account_id=message.account_id,
                     detail={"message_id": message.id, "channel": message.channel, "kind": message.kind,
                             "attempts": message.attempts})
        return "bounced"
    message.status, message.not_before = "pending", now + backoff(message.attempts)
    audit.record(session, "outbound_delivery_deferred", rule_id="EMAIL-3", account_id=message.account_id,
                 detail={"message_id": message.id, "channel": message.channel, "kind": message.kind,
                         "attempts": message.attempts, "until": message.not_before.isoformat()})
    return "deferred"


def _bounced(session: Session, message: ScheduledMessage, now: datetime, reason: str, code: int | None) -> str:
    """EMAIL-1: refused for good. The message is bounced (never sent) and the address suppressed, which also
    cancels what else was queued for it."""
    message.status, message.rule_ids, message.reason = "bounced", ["EMAIL-1"], f"refused: {reason}"[:2000]
    session.flush()  # bounced before the suppression cancels what is still pending for the address
    contact_preferences.mark_bounced(session, message.channel, message.address, reason=reason, now=now)
    audit.record(session, "outbound_bounced", rule_id="EMAIL-1", account_id=message.account_id,
                 detail={"message_id": message.id, "channel": message.channel, "kind": message.kind, "code": code})
    return "bounced"
