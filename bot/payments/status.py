"""Did my payment arrive? Answered from Settle's own records, for a verified debtor only (ID-1, DISC-3).

A question about a payment is not a claim that the debt is paid: it records nothing and holds nothing (a claim of
payment is an already_paid dispute, DSP-1, recorded by bot/disputes.py). Every figure comes from the payment rows
and the ledger (TONE-2); dates are the debtor's own calendar days."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, language, wording
from bot.accounts import balance_lines, opening_disclosure, verified_accounts
from bot.db.models import Conversation, Debtor, Payment
from bot.local_dates import debtor_date
from bot.wording.formats import long_date, money

# "Did you get it?", "can you confirm you received it?", "¿recibieron mi pago?": asking whether a payment arrived,
# which the model may read as already_paid ("I just paid $10, can you confirm you got it?"). A claim ("I already paid
# this") has none of these and stays a dispute.
_RECEIPT_QUESTION = re.compile(
    r"\b(?:did|have|has|do)\s+(?:you|u|y'?all|you\s+guys|it|that|the\s+payment|my\s+payment)\s+"
    r"(?:\w+\s+){0,2}(?:get|got|gotten|receive|received|go\s+through|gone\s+through|come\s+through|arrive|arrived|"
    r"post|posted|show\s+up|see)\b"
    r"|\b(?:can|could)\s+(?:you|u)\s+(?:please\s+)?(?:confirm|check|see|tell\s+me)\b"
    r"|\b(?:confirm|check)\s+(?:if|whether|that)?\s*(?:you|u)\s+(?:got|received)\b"
    r"|\brecibi(?:eron|ó|o|ste)\b|\b(?:les|le)\s+lleg(?:ó|o)\b|\bconfirm(?:ar|en|e|a)\b",
    re.IGNORECASE)


# "Can you send me the receipt", "I need proof of my payment", "¿me manda el recibo?": a request for the record of a
# payment made, which the model may read as already_paid. "Send me proof that I owe this" asks for verification of
# the debt (a dispute, 1006.38) and is not matched: proof *of a payment* only.
_RECEIPT_REQUEST = re.compile(
    r"\b(?:receipts?|proof\s+of\s+(?:my\s+|the\s+|a\s+)?payments?|payment\s+confirmation|"
    r"confirmation\s+(?:of|for)\s+(?:my\s+|the\s+)?payment|recibos?|comprobantes?(?:\s+de\s+pago)?)\b",
    re.IGNORECASE)
# "Here is my receipt", "I have the receipt": offering proof of a claim of payment, which stays a dispute (DSP-1).
_OFFERS_RECEIPT = re.compile(r"\b(?:here(?:'s|\s+is)|i\s+(?:have|got|can\s+send|will\s+send|'ll\s+send)|"
                             r"attached|tengo|aqu[ií]\s+est[aá])\b[^.?!]{0,20}\b(?:receipts?|recibos?|comprobantes?)\b",
                             re.IGNORECASE)


def asks_whether_received(text: str) -> bool:
    """Whether the message asks about a payment made: did it arrive, or send me its receipt / proof of it (answered
    from the records), rather than claims the debt is paid (DSP-1)."""
    text = text or ""
    return bool(_RECEIPT_QUESTION.search(text)) or asks_for_receipt(text)


def asks_for_receipt(text: str) -> bool:
    """Whether the message asks for the record of a payment made ("I need proof of my payment", "necesito
    comprobante de mi pago"), not offers one ("here is my receipt"). Narrower than asks_whether_received, whose
    "can you check" also fits "can you check my balance": these words are enough on their own, whatever the
    model reads (bot/disputes.request_by_words)."""
    text = text or ""
    return bool(_RECEIPT_REQUEST.search(text)) and not _OFFERS_RECEIPT.search(text)


RECEIVED = ("succeeded", "held")  # held: received, not applied while a dispute or a hold is open (DSP-2)
SHOWN = 3  # the latest payments received, newest first: enough to find the one asked about, SMS-sized


def payment_status_messages(session: Session, conversation_id: str, now: datetime | None = None) -> list[str]:
    """The latest payments received on the verified debtor's accounts (amount, the day in the debtor's time zone,
    the PAY- reference; held ones say so) and each balance now, after the disclosure owed first (DISC-1/DISC-2).
    Raises accounts.NotVerified before verification (ID-1)."""
    now = now or datetime.now(timezone.utc)
    accounts = verified_accounts(session, conversation_id)  # ID-1: raises before verification
    conversation = session.get(Conversation, conversation_id)
    messages = opening_disclosure(session, conversation_id, now)
    speaks = language.current(session, conversation)
    by_id = {account.id: account for account in accounts}
    received = list(session.scalars(
        select(Payment).where(Payment.account_id.in_(by_id), Payment.status.in_(RECEIVED))
        .order_by(Payment.created_at.desc(), Payment.reference.desc()).limit(SHOWN))) if by_id else []
    debtor = session.get(Debtor, conversation.debtor_id)
    lines = []
    for payment in received:
        day = debtor_date(payment.applied_at or payment.updated_at or payment.created_at, debtor)
        key = "payment_status_held" if payment.status == "held" else "payment_status_received"
        lines.append(wording.say(key, speaks, amount=money(payment.amount_cents, payment.currency, speaks),
                                 date=long_date(day, speaks), reference=payment.reference))
    if not lines:
        lines.append(wording.say("payment_status_none", speaks))
    lines += balance_lines(session, accounts, speaks)
    messages.append("\n".join(lines))
    messages.append(wording.say("payment_status_next", speaks))
    audit.record(session, "payment_status_disclosed", rule_id="ID-1", conversation_id=conversation_id,
                 account_id=conversation.account_id, detail={"payments": len(received)})
    return messages
