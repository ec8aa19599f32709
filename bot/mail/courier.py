"""The outbox's courier for email conversations (bot/messaging/delivery.py): a reply the outbox sent in an email
conversation (the bot's answer, an agent's reply, a hand-back notice, a receipt, the opt-out confirmation) goes to
the address by SMTP, in the debtor's thread: "Re: <their subject>", In-Reply-To their last email and References
the thread before it, so their mail client shows the answer under what they wrote.

What the server answered is kept on the stored message (its payload's "email": status, Message-ID) and the email
is kept by its Message-ID for the provider's events (bot/mail/webhooks.py). A 5xx is a bounce (EMAIL-1: the
address is suppressed); a 4xx or a refused connection is recorded as "failed" and audited (EMAIL-3): the message
was not delivered, and the record says so."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select

from bot import audit, contact_preferences
from bot import language as languages
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, EmailMessage, Message
from bot.mail import compose, links, smtp
from bot.mail.transport import CHANNEL, normal_address, record_email
from bot.messaging.outbox import OPT_OUT_ONLY, Posted
from bot.messaging.queue import DeliveryDeferred, DeliveryRefused
from bot.sms import render_reply


class EmailCourier:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.config = smtp.parse_url(settings.smtp_url, settings.smtp_timeout_seconds)

    async def deliver(self, posted: Posted) -> None:
        await asyncio.to_thread(self.send, posted)

    async def deliver_together(self, posted: Sequence[Posted]) -> None:
        """One turn, one email: the bot's replies of a turn (a disclosure, the balance, the next step, a question)
        are its paragraphs, in order, so the disclosure owed (DISC-1, DISC-2) is in the email that carries the debt
        information it precedes, and the debtor's inbox gets one answer to one email."""
        await asyncio.to_thread(self.send_together, posted)

    def thread(self, conversation_id: str | None) -> dict[str, str]:
        """The subject and threading headers of the conversation's latest email from the debtor."""
        if conversation_id is None:
            return {}
        with session_scope(self.engine) as session:
            payloads = session.scalars(select(Message.payload).where(
                Message.conversation_id == conversation_id, Message.direction == "in")
                .order_by(Message.id.desc()).limit(20)).all()
            last = next((p["email"] for p in payloads if p and isinstance(p.get("email"), dict)
                         and p["email"].get("message_id")), None)
            if last is None:  # they have not written by email: continue our own last email's thread, if any
                ours = session.scalar(select(EmailMessage.message_id).where(
                    EmailMessage.conversation_id == conversation_id).order_by(EmailMessage.id.desc()).limit(1))
                return {"in_reply_to": ours} if ours else {}
        return {"subject": compose.reply_subject(str(last.get("subject") or "")),
                "in_reply_to": str(last["message_id"]), "references": str(last.get("references") or "")}

    def send(self, posted: Posted) -> None:
        self.send_together([posted])

    def send_together(self, turn: Sequence[Posted]) -> None:
        """Send the messages (one conversation's, in order) as one email, and record it on each of them."""
        first = turn[0]
        address = normal_address(first.address)
        words = "\n\n".join(render_reply(f"{p.sender_name}: {p.text}" if p.sender_name else p.text, p.buttons)
                             for p in turn)
        with session_scope(self.engine) as session:  # a reply in the conversation: its language
            conversation = session.get(Conversation, first.conversation_id) if first.conversation_id else None
            speaks = languages.current(session, conversation) if conversation is not None else None
        message = compose.build(
            language=speaks, kind=first.kind, text=words, to=address,
            sender=self.settings.email_from,
            business_name=self.settings.business_name, support_contact=self.settings.support_contact,
            opt_out_url=links.opt_out_url(self.settings.pay_base_url, self.settings.email_link_secret, address),
            bare=all(p.kind in OPT_OUT_ONLY for p in turn),  # OPT-3: nothing else
            **self.thread(first.conversation_id))
        record: dict[str, Any] = {"message_id": str(message["Message-ID"]), "subject": str(message["Subject"])}
        detail = {"message_id": first.message_id, "message_ids": [p.message_id for p in turn], "kind": first.kind}
        try:
            record.update(status="sent", server_reply=smtp.send(self.config, message))
        except DeliveryRefused as exc:
            record.update(status="bounced", error=str(exc)[:300])
            with session_scope(self.engine) as session:
                self._keep_all(session, turn, record)
                contact_preferences.mark_bounced(session, CHANNEL, address, reason=str(exc))
                audit.record(session, "outbound_bounced", rule_id="EMAIL-1", conversation_id=first.conversation_id,
                             detail={**detail, "code": exc.code})
            return
        except DeliveryDeferred as exc:
            record.update(status="failed", error=str(exc)[:300])
            with session_scope(self.engine) as session:
                self._keep_all(session, turn, record)
                audit.record(session, "email_send_failed", rule_id="EMAIL-3", conversation_id=first.conversation_id,
                             detail={**detail, "error": str(exc)[:300]})
            return
        with session_scope(self.engine) as session:
            rows = self._keep_all(session, turn, record)
            if rows:  # the provider's events name the email; its first row leads to the turn's others
                record_email(session, record["message_id"], address, rows[0], first.kind)

    @classmethod
    def _keep_all(cls, session: Any, turn: Sequence[Posted], record: dict[str, Any]) -> list[Message]:
        return [row for row in (cls._keep(session, p, record) for p in turn) if row is not None]

    @staticmethod
    def _keep(session: Any, posted: Posted, record: dict[str, Any]) -> Message | None:
        row = session.get(Message, posted.message_id) if posted.message_id is not None else None
        if row is not None:
            row.payload = {**(row.payload or {}), "email": record}
        return row
