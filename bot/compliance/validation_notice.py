"""DISC-5: when a chat is the initial communication about a debt, the validation notice (1006.34) is queued
within 5 days in a form the consumer can keep (a chat bubble does not count). The notice also fixes the end
of the validation period that DSP-2 and DSP-3 use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.db.models import Account, Debtor, ScheduledMessage
from bot.money import format_cents

DUE_WITHIN = timedelta(days=5)
# Reg F: the validation period ends 30 days after the consumer receives the notice; receipt is assumed
# 5 business days after sending (1006.34(b)(5)), so 30 + 7 calendar days is the conservative end.
VALIDATION_PERIOD = timedelta(days=37)


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
    channel, address = ("email", debtor.email) if debtor.email else ("mail", f"{debtor.first_name} "
                                                                             f"{debtor.last_name}, {debtor.zip}")
    ends = now + VALIDATION_PERIOD
    session.add(ScheduledMessage(
        account_id=account.id, channel=channel, address=address, kind="validation_notice", not_before=now,
        text=(f"Validation notice. {account.creditor} says you owe {format_cents(account.balance_cents)} on the "
              f"account ending {account.account_ref[-4:]}. You have the right to dispute all or part of this debt. "
              f"If you dispute it by {ends:%B %-d, %Y}, we must stop collection until we send you verification."),
    ))
    account.validation_period_ends_at = ends
    audit.record(session, "validation_notice_queued", rule_id="DISC-5", conversation_id=conversation_id,
                 account_id=account.id, detail={"channel": channel, "due_by": (now + DUE_WITHIN).isoformat()})
    return True
