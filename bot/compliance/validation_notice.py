"""DISC-5: when a chat is the initial communication about a debt, the validation notice (1006.34) is queued
within 5 days in a form the consumer can keep (a chat bubble does not count): the document of
bot/compliance/notice_document.py. The notice also fixes the end of the validation period that DSP-2 and DSP-3
use (bot/compliance/validation_period.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.compliance import esign, notice_document
from bot.compliance.validation_period import validation_period
from bot.db.models import Account, Debtor, ScheduledMessage
from bot.messaging import outbox

DUE_WITHIN = timedelta(days=5)


def queue_if_first_contact(session: Session, account: Account, conversation_id: str, now: datetime) -> bool:
    """Queue the notice unless one was already queued or sent for this account (the operator may also have
    mailed one: then the import sets validation_period_ends_at and nothing is queued)."""
    if account.validation_period_ends_at is not None:
        return False
    existing = session.scalar(select(ScheduledMessage.id).where(
        ScheduledMessage.account_id == account.id, ScheduledMessage.kind == "validation_notice").limit(1))
    if existing is not None:
        return False
    debtor = session.get(Debtor, account.debtor_id)
    # By email when we have an address (bot/mail: sent only when a mail server accepted it, EMAIL-3, and only with
    # the debtor's E-SIGN consent, EMAIL-1: bot/compliance/esign.py), else by post: the print queue.
    channel, address = ("email", debtor.email.strip().lower()) if debtor.email and debtor.email.strip() else \
        ("mail", esign.postal_address(debtor))
    # Written now as if sent now; the queue writes it again as of the moment it really goes (notice_document.prepare)
    # and moves the period with it. Until then the period is at least this long.
    try:
        document = notice_document.build(session, account, now)
        text = notice_document.summary(document)
    except notice_document.NoticeNotReady:
        document = None  # the queue holds it with DISC-5 and the reason when it is due
        text = f"Validation notice for the account {notice_document.masked_reference(account.account_ref)}."
    queued = outbox.schedule(session, account_id=account.id, channel=channel, address=address,
                             kind="validation_notice", not_before=now, text=text)
    queued.document, queued.created_at = document, now  # the E-SIGN answer's wait counts from `now` (esign.gate)
    account.validation_period_ends_at = validation_period(now, debtor.timezone).ends_at
    audit.record(session, "validation_notice_queued", rule_id="DISC-5", conversation_id=conversation_id,
                 account_id=account.id, detail={"channel": channel, "due_by": (now + DUE_WITHIN).isoformat()})
    return True
