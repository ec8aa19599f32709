"""Where a payment's messages go, and what they came to (Delivered).

- tell_debtor(): a receipt or notice about a payment. A Checkout payment answers something the debtor just did,
  so it goes into the conversation the link was sent in; an autopay one is bot-initiated, so it is queued.
- queue_for_payment() and schedule_for_account(): bot-initiated messages (autopay receipts, pre-debit notices,
  declines, missed installments), queued in the outbox for the channel the debtor used for the plan, else a text
  to their phone.
- A receipt also goes by email as a copy to keep when the debtor agreed to email (bot/messaging/copies.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot import audit, language, wording
from bot.compliance import tone
from bot.db.models import Account, Conversation, Debtor, Payment, Plan, ScheduledMessage
from bot.messaging import copies, outbox
from bot.messaging.outbox import Draft, Posted

RECEIPTS = frozenset({"payment_receipt", "refund_receipt"})  # emailed as copies too, with E-SIGN consent


@dataclass
class Delivered:
    """Messages the outbox posted for the debtor by a ledger change, for the gateway's couriers to deliver."""

    posted: list[Posted] = field(default_factory=list)

    @property
    def messages(self) -> list[tuple[str, int]]:
        """(conversation_id, message id) of each message sent."""
        return [(p.conversation_id, p.message_id) for p in self.posted
                if p.sent and p.conversation_id is not None and p.message_id is not None]

    def extend(self, other: Delivered) -> None:
        self.posted += other.posted


def language_for(session: Session, payment: Payment) -> str:
    """The language a payment's messages are written in: its conversation's, else the debtor's, else English
    (LANG-1, bot/language.known_about)."""
    conversation = session.get(Conversation, payment.conversation_id) if payment.conversation_id else None
    account = session.get(Account, payment.account_id)
    return wording.language_or_default(
        language.known_about(session, conversation, account.debtor_id if account is not None else None))


def tell_debtor(session: Session, payment: Payment, text: str, kind: str, now: datetime) -> Delivered:
    """A receipt or notice about a payment, on the debtor's channel, through the outbox.

    A Checkout payment answers something the debtor just did: it goes into the conversation the link was sent in,
    with the debt-collector notice (DISC-2). The outbox treats it as a reply only while the debtor's session is
    live; a payment settled later (an async payment, a refund) starts a contact and gets every rule of a
    bot-initiated message (TIME-1, FREQ-1, OPT-3, ID-4, ID-5). An autopay message is bot-initiated: queued."""
    conversation = session.get(Conversation, payment.conversation_id) if payment.conversation_id else None
    if kind in RECEIPTS:  # and a copy to keep by email, with E-SIGN consent (bot/messaging/copies.py)
        copies.email_copy(session, session.get(Account, payment.account_id), copies.RECEIPT, text, now, conversation)
    if payment.method == "autopay":
        queue_for_payment(session, payment, text, kind, now)
        return Delivered()
    if conversation is None:
        audit.record(session, "payment_message_undelivered", account_id=payment.account_id,
                     detail={"payment_id": payment.id, "kind": kind})
        return Delivered()
    # DISC-2: it may arrive outside the session that asked; in the language of the receipt's words
    text = tone.with_debt_collector_notice(text, language_for(session, payment))
    draft = Draft(text, kind, payload={"payment_reference": payment.reference})
    return Delivered([outbox.post_reply(session, conversation, draft, now=now)])


def queue_for_payment(session: Session, payment: Payment, text: str, kind: str, now: datetime) -> None:
    """Receipts and notices for autopay: bot-initiated, so through the outbox's queue and its gate."""
    account = session.get(Account, payment.account_id)
    plan = session.get(Plan, payment.plan_id) if payment.plan_id else None
    schedule_for_account(session, account, payment.conversation_id or (plan.conversation_id if plan else None),
                         kind, text, now)


# Notices a debtor must be able to keep (PLAN-3's pre-debit notice): by email when there is an address, else by text,
# never as a chat bubble, and "sent" only when a server accepted them. Whether it may go to that address (E-SIGN
# consent or the safe harbour) and where it goes instead is EMAIL-1's, decided when it goes (bot/compliance/esign.py).
EMAILED_KINDS = frozenset({"debit_notice"})


def schedule_for_account(session: Session, account: Account, conversation_id: str | None, kind: str, text: str,
                         not_before: datetime) -> ScheduledMessage | None:
    """A notice in EMAILED_KINDS to the debtor's email address when they have one, else to the number they texted
    about the plan from or their phone; any other message on the channel the debtor used for the plan (its
    conversation), else a text to their phone."""
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    debtor = session.get(Debtor, account.debtor_id)
    if kind in EMAILED_KINDS and debtor.email and debtor.email.strip():
        return outbox.schedule(session, account_id=account.id, channel="email", address=debtor.email.strip().lower(),
                               kind=kind, text=text, not_before=not_before)
    if conversation is not None and not (kind in EMAILED_KINDS and conversation.channel != "sms" and debtor.phone):
        channel, address = conversation.channel, conversation.external_id
    else:
        if not debtor.phone:
            audit.record(session, "payment_message_undelivered", account_id=account.id, detail={"kind": kind})
            return None
        channel, address = "sms", debtor.phone
    return outbox.schedule(session, account_id=account.id, channel=channel, address=address, kind=kind,
                           text=text, not_before=not_before)
