"""Copies to keep: a receipt or a plan confirmation goes where the payment or the plan happened (the conversation,
as always) and, when the debtor agreed to get documents by email (E-SIGN consent, EMAIL-1: bot/compliance/esign.py),
also as an email they can keep. The email is bot-initiated, so it is queued in the outbox and sent by
`queue.process_due` through the outbound gate like any other (EMAIL-3: TIME-1, FREQ-1, DISC-2, TONE-1, holds,
opt-out and bounces), and "sent" only when a mail server accepted it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import audit
from bot.compliance import esign
from bot.db.models import Account, Conversation, Debtor, ScheduledMessage
from bot.messaging import outbox

RECEIPT, PLAN_CONFIRMATION = "receipt", "plan_confirmation"
COPY_KINDS = frozenset({RECEIPT, PLAN_CONFIRMATION})


def email_copy(session: Session, account: Account, kind: str, text: str, now: datetime,
               conversation: Conversation | None = None) -> ScheduledMessage | None:
    """Queue the email copy of a receipt or plan confirmation when the debtor said yes to email at their address;
    None when they did not, have no address, or the original already went to that address by email."""
    if kind not in COPY_KINDS:
        raise ValueError(f"no email copy for {kind!r}; copies are {sorted(COPY_KINDS)}")
    debtor = session.get(Debtor, account.debtor_id)
    address = esign.normal(debtor.email or "")
    said = esign.decision(session, debtor.id, address) if address else None
    if said is None or not said.consented:
        return None
    if conversation is not None and conversation.channel == esign.CHANNEL and \
            esign.normal(conversation.external_id) == address:
        return None  # the conversation is this email thread: the original is the copy
    message = outbox.schedule(session, account_id=account.id, channel=esign.CHANNEL, address=address, kind=kind,
                              text=text, not_before=now)
    audit.record(session, "email_copy_queued", rule_id="EMAIL-1", account_id=account.id,
                 conversation_id=conversation.id if conversation is not None else None, at=now,
                 detail={"kind": kind, "message_id": message.id})
    return message
