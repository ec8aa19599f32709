"""The outbound queue's email transport (bot.messaging.queue.process_due), and the jobs' transport for every
channel. An email is recorded in the address's conversation as sent, with its Message-ID and the server's reply,
only after the server accepted it; the queue stores the Message-ID on the queued message."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot import language, sms
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import EmailMessage, Message
from bot.mail import compose, links, smtp
from bot.messaging import outbox
from bot.messaging.queue import NotConfigured, Transport

CHANNEL = "email"
CHECK_PATH = "/transcripts/check"  # where a copy of a conversation is checked (bot/gateway/document_routes.py)


def normal_address(address: str) -> str:
    """One spelling per mailbox for opt-outs and bounces (OPT-3, EMAIL-1): trimmed and lower-case."""
    return address.strip().lower()


def record_email(session: Session, message_id: str, address: str, row: Message, kind: str,
                 now: datetime | None = None) -> EmailMessage:
    """An email a server accepted, by its Message-ID: what the provider's later events name (bot/mail/webhooks.py)
    and what a reply in the thread answers."""
    now = now or datetime.now(timezone.utc)
    email = EmailMessage(message_id=message_id[:250], address=address, conversation_id=row.conversation_id,
                         message_row_id=row.id, kind=kind, status="sent", sent_at=now, status_at=now)
    session.add(email)
    session.flush()
    return email


def notice_view(settings: Settings, document: dict[str, Any]) -> dict[str, Any]:
    """A validation notice's facts with this deployment's collector details (the email and /notices/<token>)."""
    return compose.notice_view(document, business_name=settings.business_name,
                               collector_address=settings.collector_address,
                               support_contact=settings.support_contact, online_url=f"{settings.pay_base_url}/")


def email_transport(engine: Engine, settings: Settings) -> Transport:
    """SMTP to SMTP_URL. Without it nothing leaves and nothing is called sent: NotConfigured keeps it queued.
    A malformed SMTP_URL raises SmtpUrlError here, when the job starts."""
    config = smtp.parse_url(settings.smtp_url, settings.smtp_timeout_seconds) if settings.smtp_url else None

    def send(channel: str, address: str, text: str, kind: str = "reminder",
             document: dict[str, Any] | None = None) -> str:
        if config is None:
            raise NotConfigured("no mail server is configured (SMTP_URL); the email waits in the queue")
        notice = notice_view(settings, document) if document and document.get("notice_id") else None
        with session_scope(engine) as session:  # the debtor's language: the subject and the footer follow it
            speaks = language.for_address(session, CHANNEL, normal_address(address))
        message = compose.build(
            language=speaks, kind=kind, text=text, to=address, sender=settings.email_from,
            business_name=settings.business_name,
            support_contact=settings.support_contact,
            opt_out_url=links.opt_out_url(settings.pay_base_url, settings.email_link_secret, normal_address(address)),
            notice=notice, notice_url=links.notice_url(settings.pay_base_url, settings.email_link_secret,
                                                       document["notice_id"]) if notice else None,
            transcript=(document or {}).get("transcript"), check_url=f"{settings.pay_base_url}{CHECK_PATH}")
        reply = smtp.send(config, message)  # raises DeliveryDeferred / DeliveryRefused: the queue decides
        message_id = str(message["Message-ID"])
        with session_scope(engine) as session:
            row = outbox.record_sent(session, CHANNEL, address, text, kind=kind, payload={"email": {
                "status": "sent", "message_id": message_id, "subject": str(message["Subject"]),
                "server_reply": reply}})
            record_email(session, message_id, normal_address(address), row, kind)
        return message_id

    return send


def outbound_transport(engine: Engine, settings: Settings) -> Transport:
    """What the jobs (send-reminders, charge-installments) send the queue with: email by SMTP, texts as before
    (bot.sms.sms_transport: Twilio, or the local outbox without keys)."""
    email, other = email_transport(engine, settings), sms.sms_transport(engine, settings)

    def send(channel: str, address: str, text: str, kind: str = "reminder",
             document: dict[str, Any] | None = None) -> str:
        return (email if channel == CHANNEL else other)(channel, address, text, kind, document)

    return send
