"""DISC-5: the validation notice as a document with the content of 12 CFR 1006.34(c), laid out as Model Form B-1.

`build` gathers the facts of one account at the moment the notice is sent: the consumer's name and mailing address,
the creditor, the itemization date and the amount owed then, the interest and fees charged since, what was paid or
credited since, the amount owed now, and the end of the validation period (bot/compliance/validation_period.py:
the date shown and the date DSP-2/DSP-3 use are one value). The facts are stored with the queued message
(ScheduledMessage.document), so the email and the printable page (bot/mail/compose.py renders both) show exactly
what was sent. The collector's own details (name, mailing address, contact) come from the settings at rendering.

`prepare` is what the queue calls just before it sends a validation notice: the period counts from the real send
time, not from when the notice was queued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import wording
from bot.compliance.validation_period import validation_period
from bot.db.models import Account, Debtor, ScheduledMessage
from bot.money import format_cents
from bot.wording import formats

KIND = "validation_notice"
CFPB_URL = "www.cfpb.gov/debt-collection"


class NoticeNotReady(Exception):
    """The notice cannot be written truthfully from what is on file (no itemization, figures that do not add up)."""


def masked_reference(account_ref: str) -> str:
    return f"ending {account_ref[-4:]}"


def build(session: Session, account: Account, sent_at: datetime) -> dict[str, Any]:
    """The facts of the notice for `account` sent at `sent_at`. Raises NoticeNotReady when the itemization is
    missing or does not explain the balance: a notice with made-up figures would itself break 1006.34."""
    debtor = session.get(Debtor, account.debtor_id)
    if account.itemization_date is None or account.itemization_cents is None:
        raise NoticeNotReady("no itemization date and amount on file for the account (1006.34(b)(3))")
    interest, fees = account.interest_since_cents or 0, account.fees_since_cents or 0
    # What lowered the balance since the itemization date: payments (ours and the creditor's) and credits.
    paid_or_credited = account.itemization_cents + interest + fees - account.balance_cents
    if paid_or_credited < 0 or min(interest, fees, account.itemization_cents) < 0:
        raise NoticeNotReady("the itemization does not add up to the balance: the balance is higher than the "
                             "amount on the itemization date plus interest and fees")
    period = validation_period(sent_at, debtor.timezone)
    # A Spanish-speaking debtor gets the complete Spanish notice with the English one, in the same message
    # (1006.34(d)(3)(vi)(B): a translation only alongside the English).
    languages = [wording.ENGLISH, wording.SPANISH] if debtor.language == wording.SPANISH else [wording.ENGLISH]
    address = [line.strip() for line in (debtor.postal_address or "").splitlines() if line.strip()]
    return {
        "consumer_name": f"{debtor.first_name} {debtor.last_name}",
        "consumer_address": address or [f"ZIP {debtor.zip}"],
        "creditor": account.creditor,
        "account_ref": account.account_ref,
        "account": masked_reference(account.account_ref),
        "currency": account.currency,
        "itemization_date": account.itemization_date.isoformat(),
        "itemization_cents": account.itemization_cents,
        "interest_cents": interest,
        "fees_cents": fees,
        "paid_or_credited_cents": paid_or_credited,
        "current_cents": account.balance_cents,
        "sent_at": sent_at.isoformat(),
        "sent_on": period.sent_on.isoformat(),
        "received_on": period.received_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "ends_at": period.ends_at.isoformat(),
        "languages": languages,
    }


def summary(document: dict[str, Any]) -> str:
    """The notice in two sentences: the message's text, which the outbound gate checks and the conversation keeps;
    the email and the printable page carry the whole document."""
    ends = datetime.fromisoformat(document["ends_on"]).date()
    amount = format_cents(document["current_cents"], document["currency"])
    # DISC-5 / LANG-1: the English, then the Spanish for a Spanish speaker (never the translation alone).
    return "\n\n".join(
        wording.say("notice_summary", language, creditor=document["creditor"], amount=amount,
                    last4=document["account_ref"][-4:], ends=formats.long_date(ends, language, weekday=False))
        for language in document.get("languages", [wording.ENGLISH]))


def prepare(session: Session, message: ScheduledMessage, now: datetime) -> None:
    """Rewrite a validation notice as of `now`, the moment it goes (or goes to the print queue), and make the
    account's validation period the one it states. Raises NoticeNotReady (the queue holds it, DISC-5)."""
    account = session.get(Account, message.account_id)
    document = {**build(session, account, now), "notice_id": message.id}  # the printable page's link names it
    message.document, message.text = document, summary(document)
    account.validation_period_ends_at = datetime.fromisoformat(document["ends_at"])
