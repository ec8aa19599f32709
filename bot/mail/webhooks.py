"""A mail provider's delivery events: "delivered", a bounce, a complaint, matched to the email by the Message-ID
Settle stored when the server accepted it (bot/db/models.EmailMessage).

The provider is Mailgun (its JSON event webhook, https://documentation.mailgun.com/docs/mailgun/user-manual/
webhooks/): the body is {"signature": {"timestamp", "token", "signature"}, "event-data": {...}}, signed with
HMAC-SHA256 over timestamp + token under the webhook signing key (EMAIL_WEBHOOK_SECRET). An inbound route forwarded
to Settle (a reply by email) carries the same three fields as form fields, so one check serves both.

- delivered: the email's status becomes "delivered" (and its queued message's: a notice "sent" is now
  "delivered"); "delivered" is only ever said on the provider's word (EMAIL-3).
- failed with severity "permanent": bounced (EMAIL-1): the address is suppressed for email, what was queued for it
  cancelled, a notice that bounced is no notice (its debit does not run). A "temporary" failure is the provider's
  to retry: nothing changes.
- complained (marked as spam) or unsubscribed (the provider's own unsubscribe link): an email opt-out (OPT-3,
  email only), audited with the provider's event.
Events for a Message-ID Settle never sent are ignored (the provider must not retry them forever)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences
from bot.db.models import EmailMessage, Message, ScheduledMessage

PROVIDER = "mailgun"
# A signed request older (or newer) than this is refused: a captured request cannot be replayed later. Mailgun
# signs each attempt afresh, so its retries pass.
MAX_SKEW_SECONDS = 15 * 60

DELIVERED, BOUNCED, COMPLAINED = "delivered", "bounced", "complained"
_KINDS = {"delivered": DELIVERED, "complained": COMPLAINED, "unsubscribed": COMPLAINED}


class Malformed(ValueError):
    """Not a provider event Settle can read (the caller answers 400)."""


@dataclass(frozen=True)
class ProviderEvent:
    kind: str | None  # delivered | bounced | complained; None for events Settle does not act on (opened, ...)
    event: str  # the provider's own name for it ("failed", "complained", ...)
    message_id: str  # without angle brackets
    reason: str = ""
    code: int | None = None


def sign(secret: str, timestamp: str, token: str) -> str:
    """Mailgun's signature: hex HMAC-SHA256 of timestamp + token under the webhook signing key."""
    return hmac.new(secret.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def verify(secret: str, signature: Any, now: datetime | None = None) -> bool:
    """True for a genuine, recent signature block {"timestamp", "token", "signature"}."""
    if not secret or not isinstance(signature, dict):
        return False
    timestamp, token, given = (str(signature.get(k) or "") for k in ("timestamp", "token", "signature"))
    if not (timestamp.isdigit() and token and given) or len(timestamp) > 12 or len(token) > 200:
        return False
    now = now or datetime.now(timezone.utc)
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(given.lower(), sign(secret, timestamp, token))


def bare_id(message_id: str) -> str:
    """"<abc@settle.test>" and "abc@settle.test" are one Message-ID (Mailgun sends it without the brackets)."""
    return message_id.strip().strip("<>").strip()


def parse(body: Any) -> ProviderEvent:
    """The event of a Mailgun webhook body (after its signature was checked); Malformed when it is not one."""
    data = body.get("event-data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise Malformed("no event-data.event")
    headers = (data.get("message") or {}).get("headers") if isinstance(data.get("message"), dict) else None
    message_id = headers.get("message-id") if isinstance(headers, dict) else None
    if not isinstance(message_id, str) or not bare_id(message_id) or len(message_id) > 250:
        raise Malformed("no event-data.message.headers.message-id")
    event = data["event"]
    kind = _KINDS.get(event)
    if event == "failed":
        kind = BOUNCED if data.get("severity") == "permanent" else None  # temporary: the provider retries
    status = data.get("delivery-status") if isinstance(data.get("delivery-status"), dict) else {}
    code = status.get("code")
    reason = str(status.get("description") or status.get("message") or data.get("reason") or "")[:300]
    return ProviderEvent(kind, event[:40], bare_id(message_id), reason, code if isinstance(code, int) else None)


def find(session: Session, message_id: str) -> EmailMessage | None:
    bare = bare_id(message_id)
    return session.scalar(select(EmailMessage).where(EmailMessage.message_id.in_((f"<{bare}>", bare))))


def apply(session: Session, event: ProviderEvent, now: datetime | None = None) -> str:
    """Act on one verified event; returns what happened ("delivered", "bounced", "complained", "ignored: ...")."""
    now = now or datetime.now(timezone.utc)
    email = find(session, event.message_id)
    if email is None:
        return "ignored: unknown message"
    if event.kind is None:
        return f"ignored: {event.event}"
    if email.status == event.kind or (email.status in (BOUNCED, COMPLAINED) and event.kind == DELIVERED):
        return f"ignored: already {email.status}"  # a retried event, or a late "delivered" after a bounce
    email.status, email.status_at = event.kind, now
    email.reason = event.reason or None
    # A queued message (a notice, a reminder) keeps the Message-ID the queue stored when the server accepted it.
    queued = session.scalar(select(ScheduledMessage).where(ScheduledMessage.channel == "email",
                                                           ScheduledMessage.provider_id == email.message_id))
    carried = _mark_messages(session, email, event)
    detail = {"message_id": email.message_row_id, "message_ids": carried,
              "queued_id": queued.id if queued is not None else None,
              "kind": email.kind, "provider": PROVIDER, "event": event.event}
    if event.kind == DELIVERED:
        if queued is not None and queued.status == "sent":
            queued.status, queued.delivered_at = DELIVERED, now
        return DELIVERED
    if event.kind == BOUNCED:
        # EMAIL-1: never delivered, so never given: the notice is "bounced", not "sent", and its debit stops.
        if queued is not None:
            queued.status, queued.rule_ids = BOUNCED, ["EMAIL-1"]
            queued.reason = f"bounced ({PROVIDER}): {event.reason}"[:2000]
        session.flush()
        contact_preferences.mark_bounced(session, "email", email.address, reason=f"{PROVIDER}: {event.reason}",
                                         now=now)
        audit.record(session, "outbound_bounced", rule_id="EMAIL-1", at=now, conversation_id=email.conversation_id,
                     account_id=queued.account_id if queued is not None else None,
                     detail={**detail, "code": event.code})
        return BOUNCED
    # A complaint ("this is spam") is the plainest way to say "stop emailing me": an email opt-out (OPT-3).
    audit.record(session, "email_complaint", rule_id="OPT-3", at=now, conversation_id=email.conversation_id,
                 detail=detail)
    contact_preferences.opt_out(session, "email", email.address, via=f"{PROVIDER}:{event.event}",
                                conversation_id=email.conversation_id, now=now)
    return COMPLAINED


# How far past its first message to look for the rest of one email's messages: a turn is a handful of replies.
MAX_MESSAGES_PER_EMAIL = 50


def _mark_messages(session: Session, email: EmailMessage, event: ProviderEvent) -> list[int]:
    """The provider's word on every conversation message the email carried (its payload's "email" status, as a
    text's Twilio status is kept on its payload); each change is sealed in the transcript (REC-1). One email can
    carry a whole turn (bot/mail/courier.py send_together): the EmailMessage row names the turn's first message,
    and every message of the turn holds the email's Message-ID, so those are the ones marked. Returns their ids."""
    if not email.message_row_id:
        return []
    first = session.get(Message, email.message_row_id)
    if first is None:
        return []
    # The turn's messages were stored in order after the first, in the same conversation.
    following = session.scalars(select(Message).where(
        Message.conversation_id == first.conversation_id, Message.id >= first.id, Message.direction == "out")
        .order_by(Message.id).limit(MAX_MESSAGES_PER_EMAIL)).all()
    carried = [m for m in following
               if m.id == first.id or ((m.payload or {}).get("email") or {}).get("message_id") == email.message_id]
    for message in carried:
        record = dict((message.payload or {}).get("email") or {})
        record.update(status=event.kind, provider_event=event.event)
        if event.reason:
            record["provider_reason"] = event.reason
        message.payload = {**(message.payload or {}), "email": record}
    return [m.id for m in carried]
