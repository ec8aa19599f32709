"""The ledger: a payment, a refund or a chargeback applied to an account, exactly once, and the receipt for it.

- apply_payment(): the ledger changes exactly once per PaymentIntent (a unique ledger reference, under row locks),
  whatever the order or number of deliveries; a payment for a held account is kept for a person and never
  applied (DSP-2, 1006.30(c)); a plan's installment advances the plan; a plan's first payment made with the
  debtor's "yes" on the page records their autopay authorisation (PLAN-2, autopay_authorisation.py). The debtor
  gets a receipt on their channel.
- apply_refund(), flag_chargeback(): what Stripe reports after the payment.
- The payment rows themselves: a readable reference (new_reference), the pending payment for a pay link's
  Checkout Session (payment_for_link), and row locks (lock_row, for_update).

Everything here works inside the caller's transaction. Turning Stripe's objects into a Received is
payment_intents.py's job; pay links and Checkout are service.py's; the autopay scheduler is autopay.py's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import audit, handoff
from bot.compliance import holds, visible_codes
from bot.config import Settings
from bot.db.models import (
    Account,
    AccountStatus,
    Conversation,
    Debtor,
    Installment,
    LedgerEntry,
    PayLink,
    Payment,
    Plan,
)
from bot.local_dates import debtor_today
from bot.payments import texts
from bot.payments.autopay_authorisation import active_autopay, authorise
from bot.payments.messages import Delivered, language_for, tell_debtor
from bot.plans.service import OPEN_STATUSES, UNPAID_INSTALLMENT, open_plan


@dataclass(frozen=True)
class Received:
    """A successful payment as Stripe reports it."""

    payment_intent_id: str
    amount_cents: int
    currency: str
    charge_id: str | None = None
    customer_id: str | None = None
    payment_method_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    saved_for_later: bool = False  # setup_future_usage=off_session on the PaymentIntent
    consented: bool = False  # the debtor chose autopay on the payment page (PLAN-2)
    consent_text: str | None = None  # the authorisation text as the payment page showed it


def apply_payment(session: Session, payment: Payment, received: Received, settings: Settings,
                  now: datetime | None = None) -> Delivered:
    """Apply a successful payment to the ledger, exactly once per PaymentIntent (PLAN and DSP-2 rules inside).

    Idempotent: the payment row is locked and checked, and the ledger entry's reference ("payment:<pi>") is
    unique, so a concurrent or repeated call changes nothing and sends no second receipt."""
    now = now or datetime.now(timezone.utc)
    payment = lock_row(session, Payment, payment.id)
    if payment.applied_at is not None or payment.status in ("succeeded", "held"):
        return Delivered()
    account = lock_row(session, Account, payment.account_id)
    payment.stripe_payment_intent_id = received.payment_intent_id
    payment.stripe_charge_id = received.charge_id or payment.stripe_charge_id
    payment.stripe_customer_id = received.customer_id or payment.stripe_customer_id
    payment.stripe_payment_method_id = received.payment_method_id or payment.stripe_payment_method_id
    payment.card_brand, payment.card_last4 = received.card_brand, received.card_last4  # PCI-3: no more than this
    rule = holds.hold_rule(session, account)
    if received.amount_cents != payment.amount_cents or received.currency.upper() != payment.currency.upper():
        return _hold(session, payment, account, "AMOUNT", "amount_mismatch", now,
                     {"expected": payment.amount_cents, "received": received.amount_cents})
    if rule is not None and rule != "ACCOUNT-CLOSED":
        # DSP-2 (1006.30(c)): never apply a payment to a disputed debt; CEASE-*/VUL-2: a person decides.
        return _hold(session, payment, account, rule, "payment_on_hold", now, {"rule": rule})
    amount = received.amount_cents - payment.refunded_cents  # a refund that arrived first is netted out
    applied = max(0, min(amount, account.balance_cents))
    entry = LedgerEntry(account_id=account.id, payment_id=payment.id, kind="payment", amount_cents=-applied,
                        balance_after_cents=account.balance_cents - applied,
                        reference=f"payment:{received.payment_intent_id}", created_at=now)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # Applied by another delivery in the meantime: nothing more to do, and no second receipt.
        payment.status = "succeeded"
        return Delivered()
    account.balance_cents -= applied
    payment.status, payment.applied_at, payment.applied_cents = "succeeded", now, applied
    delivered = Delivered()
    link = session.get(PayLink, payment.pay_link_id) if payment.pay_link_id else None
    if link is not None:
        link.status, link.used_at = "paid", now
    if applied < amount:
        # More than the balance arrived (two links paid at once): the excess goes to a person to refund.
        audit.record(session, "overpayment", account_id=account.id, conversation_id=payment.conversation_id,
                     detail={"payment_id": payment.id, "excess_cents": amount - applied})
        _ask_person(session, payment, account, "overpayment", None, {"excess_cents": amount - applied})
    settled = False
    if link is not None and link.purpose == "settlement" and account.balance_cents > 0:
        # The creditor accepted this sum in full settlement: the rest of the balance is written off.
        rest = account.balance_cents
        session.add(LedgerEntry(account_id=account.id, payment_id=payment.id, kind="settlement", amount_cents=-rest,
                                balance_after_cents=0, reference=f"settlement:{received.payment_intent_id}",
                                created_at=now))
        account.balance_cents, settled = 0, True
    _advance_plan(session, payment, account, now)
    if account.balance_cents == 0:
        account.status = AccountStatus.PAID
    audit.record(session, "payment_applied", account_id=account.id, conversation_id=payment.conversation_id,
                 detail={"payment_id": payment.id, "reference": payment.reference, "applied_cents": applied,
                         "method": payment.method, "settled": settled})
    debtor = session.get(Debtor, account.debtor_id)
    speaks = language_for(session, payment)
    card = texts.card_label(received.card_brand, received.card_last4, speaks)
    lines = [texts.receipt(amount_cents=received.amount_cents, currency=account.currency,
                           paid_on=debtor_today(debtor, now), card=card, reference=payment.reference,
                           balance_cents=account.balance_cents, creditor=account.creditor, language=speaks)]
    if settled:
        lines.append(texts.settled(account.creditor, speaks))
    authorisation = None
    if link is not None and link.save_card and received.saved_for_later and received.consented \
            and received.payment_method_id and received.customer_id and account.balance_cents > 0:
        authorisation = authorise(session, payment, link, settings, now, received.consent_text)
    lines.append(_advance_line(session, payment, account, speaks) or "")  # after authorise: names the next card
    if authorisation is not None:
        lines.append(texts.autopay_on(card=card or texts.card_word(speaks),
                                      authorisation=authorisation.authorisation_text, language=speaks))
    delivered.extend(tell_debtor(session, payment, " ".join(line for line in lines if line), "payment_receipt",
                                 now))
    return delivered


def _hold(session: Session, payment: Payment, account: Account, rule: str, reason: str, now: datetime,
          detail: dict[str, Any]) -> Delivered:
    """Money that may not be applied: kept as held, audited with its rule, and handed to a person."""
    payment.status = "held"
    audit.record(session, "payment_held", rule_id=rule if rule != "AMOUNT" else None, account_id=account.id,
                 conversation_id=payment.conversation_id,
                 detail={"payment_id": payment.id, "amount_cents": payment.amount_cents, "reason": reason, **detail})
    _ask_person(session, payment, account, reason, rule if rule != "AMOUNT" else None, detail)
    link = session.get(PayLink, payment.pay_link_id) if payment.pay_link_id else None
    if link is not None:
        link.status, link.used_at = "paid", now  # used: the money arrived, even though it is not applied
    if rule in ("DSP-2", "VUL-2"):
        # Acknowledged without any payment ask (DSP-2); CEASE-* accounts get no message at all (CEASE-1).
        text = texts.held(payment.amount_cents, payment.currency, language_for(session, payment))
        return tell_debtor(session, payment, text, "payment_held", now)
    return Delivered()


def _ask_person(session: Session, payment: Payment, account: Account, reason: str, rule_id: str | None,
                detail: dict[str, Any]) -> None:
    conversation_id = payment.conversation_id or _latest_conversation(session, account)
    if conversation_id is None:
        return  # audited by the caller; there is no conversation to queue for a person
    handoff.request(session, conversation_id, reason, rule_id=rule_id, account_id=account.id,
                    details={"payment_id": payment.id, "payment_reference": payment.reference, **detail})


def _latest_conversation(session: Session, account: Account) -> str | None:
    return session.scalar(select(Conversation.id).where(Conversation.debtor_id == account.debtor_id)
                          .order_by(Conversation.last_activity_at.desc()).limit(1))


def _advance_plan(session: Session, payment: Payment, account: Account, now: datetime) -> None:
    """A paid installment advances its plan: the first payment makes it active, the last completes it. A payment
    that clears the balance completes the plan and cancels what is left (never charge past zero)."""
    plan = session.get(Plan, payment.plan_id) if payment.plan_id else open_plan(session, account.id)
    if plan is None or plan.status not in OPEN_STATUSES:
        return
    if payment.installment_id:
        installment = session.get(Installment, payment.installment_id)
        if installment is not None and installment.status in UNPAID_INSTALLMENT:
            installment.status, installment.paid_at = "paid", now
    if account.balance_cents == 0:
        for installment in plan.installments:
            if installment.status in UNPAID_INSTALLMENT:
                installment.status = "cancelled"
    if all(i.status in ("paid", "cancelled") for i in plan.installments):
        plan.status = "completed"
    elif payment.installment_id and plan.status == "awaiting_first_payment":
        plan.status = "active"
    session.flush()


def _advance_line(session: Session, payment: Payment, account: Account, speaks: str) -> str | None:
    installment = session.get(Installment, payment.installment_id) if payment.installment_id else None
    if installment is None:
        return None
    plan = session.get(Plan, installment.plan_id)
    nxt = next((i for i in plan.installments if i.status in UNPAID_INSTALLMENT), None)
    auth = active_autopay(session, plan.id)
    card = texts.card_label(auth.card_brand, auth.card_last4, speaks) if auth else None
    return texts.plan_progress(number=installment.number, count=plan.installment_count, reference=plan.reference,
                               next_amount=min(nxt.amount_cents, account.balance_cents) if nxt else None,
                               next_due=nxt.due_date if nxt else None, currency=account.currency,
                               autopay_card=card, language=speaks)


def apply_refund(session: Session, payment: Payment, refunded_total_cents: int, charge_id: str, settings: Settings,
                 now: datetime | None = None) -> Delivered:
    """A refund (Stripe reports the charge's cumulative amount_refunded): the balance goes back up by what was
    newly refunded, once per refund level (unique reference), and only for money that had been applied."""
    now = now or datetime.now(timezone.utc)
    payment = lock_row(session, Payment, payment.id)
    delta = refunded_total_cents - payment.refunded_cents
    if delta <= 0:
        return Delivered()
    account = lock_row(session, Account, payment.account_id)
    payment.refunded_cents = refunded_total_cents
    if payment.applied_at is None:
        # Not applied (held for a person, or the success event is still to come): nothing to reverse; apply
        # will net the refund out if the payment arrives later.
        audit.record(session, "refund_recorded", account_id=account.id, detail={"payment_id": payment.id,
                                                                                "refunded_cents": delta})
        return Delivered()
    credit = min(delta, payment.applied_cents)
    entries = [LedgerEntry(account_id=account.id, payment_id=payment.id, kind="refund", amount_cents=credit,
                           balance_after_cents=account.balance_cents + credit,
                           reference=f"refund:{charge_id}:{refunded_total_cents}", created_at=now)]
    link = session.get(PayLink, payment.pay_link_id) if payment.pay_link_id else None
    fully = refunded_total_cents >= payment.amount_cents
    if fully and link is not None and link.purpose == "settlement":
        writeoff = session.scalar(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id,
                                                            LedgerEntry.kind == "settlement"))
        if writeoff is not None:  # no payment, no settlement: the written-off part comes back too
            back = -writeoff.amount_cents
            entries.append(LedgerEntry(account_id=account.id, payment_id=payment.id, kind="settlement",
                                       amount_cents=back, balance_after_cents=account.balance_cents + credit + back,
                                       reference=f"settlement-reversed:{charge_id}", created_at=now))
    try:
        with session.begin_nested():
            session.add_all(entries)
    except IntegrityError:
        return Delivered()
    account.balance_cents += sum(e.amount_cents for e in entries)
    if account.balance_cents > 0 and account.status == AccountStatus.PAID:
        account.status = AccountStatus.ACTIVE
    if fully and payment.installment_id:
        installment = session.get(Installment, payment.installment_id)
        if installment is not None and installment.status == "paid":
            installment.status, installment.paid_at = "scheduled", None
            plan = session.get(Plan, installment.plan_id)
            if plan.status == "completed":
                plan.status = "active"
    audit.record(session, "refund_applied", account_id=account.id, conversation_id=payment.conversation_id,
                 detail={"payment_id": payment.id, "refunded_cents": credit})
    speaks = language_for(session, payment)
    text = texts.refund(amount_cents=delta, currency=account.currency,
                        card=texts.card_label(payment.card_brand, payment.card_last4, speaks),
                        balance_cents=account.balance_cents, creditor=account.creditor, language=speaks)
    return tell_debtor(session, payment, text, "refund_receipt", now)


def flag_chargeback(session: Session, payment: Payment | None, account_id: str | None, dispute: dict[str, Any],
                    now: datetime | None = None) -> None:
    """charge.dispute.created: the cardholder's bank took the money back (a chargeback). That is not a debt
    dispute (DSP-1 is the debtor telling us the debt is wrong): the ledger is not touched, a person is asked to
    look (handoff reason "chargeback"), and autopay on that plan stops until they do."""
    now = now or datetime.now(timezone.utc)
    account = session.get(Account, payment.account_id if payment is not None else account_id or "")
    detail = {"dispute_id": dispute.get("id"), "amount_cents": dispute.get("amount"),
              "reason": dispute.get("reason"), "charge_id": dispute.get("charge")}
    audit.record(session, "chargeback", account_id=account.id if account else None,
                 conversation_id=payment.conversation_id if payment else None,
                 detail={**detail, "payment_id": payment.id if payment else None})
    if account is None:
        return
    if payment is not None:
        _ask_person(session, payment, account, "chargeback", None, detail)
        if payment.plan_id:
            auth = active_autopay(session, payment.plan_id)
            if auth is not None:
                auth.status, auth.stopped_at, auth.stopped_reason = "stopped", now, "chargeback"
    else:
        conversation_id = _latest_conversation(session, account)
        if conversation_id is not None:
            handoff.request(session, conversation_id, "chargeback", account_id=account.id, details=detail)


# --- the payment rows --------------------------------------------------------------------------------------------


def new_reference(session: Session) -> str:
    """A receipt number a person can read out: "PAY-7KQ4XW" (no 0/O or 1/I/L)."""
    return visible_codes.reference(
        "PAY-", taken=lambda r: session.scalar(select(Payment.id).where(Payment.reference == r)) is not None)


def payment_for_link(session: Session, link: PayLink, session_id: str | None) -> Payment:
    """The pending payment for a pay link's Checkout Session (not yet added to the session)."""
    return Payment(reference=new_reference(session), account_id=link.account_id,
                   conversation_id=link.conversation_id, pay_link_id=link.id, plan_id=link.plan_id,
                   installment_id=link.installment_id, method="checkout", amount_cents=link.amount_cents,
                   currency=link.currency, stripe_checkout_session_id=session_id)


def for_update(query: Any, engine_or_session: Engine | Session) -> Any:
    """FOR UPDATE where the database has row locks (PostgreSQL); SQLite serialises writers instead."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return query.with_for_update() if bind.dialect.name == "postgresql" else query


def lock_row(session: Session, model: Any, key: str) -> Any:
    """The row, locked for the rest of the transaction (PostgreSQL) and read fresh."""
    query = for_update(select(model).where(model.__mapper__.primary_key[0] == key), session)
    return session.scalars(query.execution_options(populate_existing=True)).one()

