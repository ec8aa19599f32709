"""A succeeded Stripe PaymentIntent, applied to our ledger once, whoever reports it first: the webhook handler
(webhooks.py), the success page's check (service.sync_checkout_session) or the autopay scheduler (autopay.py).

- prepare(): reads what the PaymentIntent lacks (its charge for the card, and the Checkout Session that holds the
  debtor's autopay choice) from Stripe, outside any transaction, and turns it into a ledger.Received. A card
  Stripe kept for later when the debtor said no to autopay is removed here.
- apply_prepared(): finds our Payment for it (by PaymentIntent, payment id, Checkout Session, or rebuilt from our
  pay link when the session's creation was never recorded) and applies it (ledger.apply_payment), inside the
  caller's transaction; a payment whose metadata names another account is held, not applied.
- apply_intent(): both, with a transaction of its own, for callers outside a webhook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import stripe
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot import audit
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import PayLink, Payment
from bot.payments import ledger
from bot.payments.autopay_authorisation import AUTOPAY_KEY, AUTOPAY_PREFIXES, AUTOPAY_YES
from bot.payments.ledger import Received
from bot.payments.messages import Delivered


@dataclass
class Prepared:
    """A succeeded PaymentIntent and everything needed to apply it, read from Stripe before the transaction."""

    intent: dict[str, Any]
    checkout: dict[str, Any] | None
    received: Received


def apply_intent(engine: Engine, client: stripe.StripeClient, settings: Settings, intent: dict[str, Any],
                 checkout: dict[str, Any] | None, now: datetime | None = None) -> Delivered:
    """Apply a succeeded PaymentIntent outside any webhook (the success page, the autopay scheduler)."""
    now = now or datetime.now(timezone.utc)
    prepared = prepare(engine, client, intent, checkout)
    for attempt in range(3):
        try:
            with session_scope(engine) as session:
                return apply_prepared(session, settings, prepared, now)[1]
        except (IntegrityError, OperationalError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- reading what the PaymentIntent lacks (outside the transaction) ----------------------------------------------


def prepare(engine: Engine, client: stripe.StripeClient, intent: dict[str, Any],
            checkout: dict[str, Any] | None) -> Prepared:
    charge = client.v1.charges.retrieve(intent["latest_charge"]).to_dict() if intent.get("latest_charge") else {}
    card = ((charge.get("payment_method_details") or {}).get("card")) or {}
    metadata = intent.get("metadata") or {}
    if checkout is None and metadata.get("pay_link_id") and intent.get("setup_future_usage"):
        # The session holds the debtor's consent to autopay (PLAN-2); find it through our pay link.
        with session_scope(engine) as session:
            link = session.get(PayLink, metadata["pay_link_id"])
            session_id = link.stripe_checkout_session_id if link is not None else None
        if session_id:
            checkout = client.v1.checkout.sessions.retrieve(session_id).to_dict()
    chosen = next((f for f in (checkout or {}).get("custom_fields") or [] if f.get("key") == AUTOPAY_KEY), None)
    autopay_chosen = ((chosen or {}).get("dropdown") or {}).get("value") == AUTOPAY_YES
    shown = ((((checkout or {}).get("custom_text") or {}).get("submit")) or {}).get("message")
    if chosen is not None and not autopay_chosen and intent.get("payment_method") and \
            intent.get("setup_future_usage") == "off_session":
        _forget_card(client, intent["payment_method"])
    received = Received(
        payment_intent_id=intent["id"], amount_cents=int(intent.get("amount_received") or 0),
        currency=str(intent.get("currency") or "usd"), charge_id=charge.get("id"),
        customer_id=intent.get("customer"), payment_method_id=intent.get("payment_method"),
        card_brand=card.get("brand"), card_last4=card.get("last4"),
        saved_for_later=intent.get("setup_future_usage") == "off_session",
        consented=autopay_chosen, consent_text=_without_prefix(shown) if shown else None,
    )
    return Prepared(intent, checkout, received)


def _without_prefix(shown: str) -> str:
    """The authorisation text as shown, without the page's lead-in (in whichever language it was shown)."""
    return next((shown.removeprefix(p) for p in AUTOPAY_PREFIXES if shown.startswith(p)), shown)


def _forget_card(client: stripe.StripeClient, payment_method_id: str) -> None:
    """The debtor said no to autopay: the card Stripe kept for later is removed (we keep only what we use)."""
    try:
        client.v1.payment_methods.detach(payment_method_id)
    except stripe.InvalidRequestError:
        pass  # already detached: a redelivery, or the success page got there first


# --- applying it (inside the transaction) ------------------------------------------------------------------------


def apply_prepared(session: Session, settings: Settings, prepared: Prepared,
                   now: datetime) -> tuple[str, Delivered]:
    """The outcome ("applied", "held", "unknown_payment", or the payment's status) and the messages sent."""
    payment = _payment_for_intent(session, prepared)
    if payment is None:
        audit.record(session, "payment_not_matched", detail={"payment_intent": prepared.intent["id"]})
        return "unknown_payment", Delivered()
    account_id = (prepared.intent.get("metadata") or {}).get("account_id")
    if account_id and account_id != payment.account_id:
        audit.record(session, "payment_not_matched", account_id=payment.account_id,
                     detail={"payment_intent": prepared.intent["id"], "reason": "account in metadata differs"})
        payment.status = "held"
        return "held", Delivered()
    delivered = ledger.apply_payment(session, payment, prepared.received, settings, now)
    return ("applied" if payment.status == "succeeded" else payment.status), delivered


def _payment_for_intent(session: Session, prepared: Prepared) -> Payment | None:
    intent = prepared.intent
    metadata = intent.get("metadata") or {}
    payment = session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent["id"]))
    if payment is None and metadata.get("payment_id"):
        payment = session.get(Payment, metadata["payment_id"])
    if payment is None and prepared.checkout is not None:
        payment = payment_for_session(session, prepared.checkout)
    if payment is None and metadata.get("pay_link_id"):
        payment = payment_from_link(session, metadata["pay_link_id"], (prepared.checkout or {}).get("id"))
    if payment is not None and payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent["id"]
    return payment


def payment_for_session(session: Session, checkout: dict[str, Any]) -> Payment | None:
    """Our Payment for a Checkout Session, rebuilt from its pay link if its creation was never recorded."""
    payment = session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == checkout.get("id")))
    link_id = (checkout.get("metadata") or {}).get("pay_link_id")
    if payment is None and link_id:
        payment = payment_from_link(session, link_id, checkout.get("id"))
    return payment


def payment_from_link(session: Session, link_id: str, session_id: str | None) -> Payment | None:
    """A session Stripe made whose creation we never recorded (the gateway went down before it could): the
    payment is rebuilt from our pay link, which fixed the account and the amount."""
    link = session.get(PayLink, link_id)
    if link is None:
        return None
    session_id = session_id or link.stripe_checkout_session_id  # a PaymentIntent event names no session
    if session_id:
        known = session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == session_id))
        if known is not None:
            return known
    # Rebuilt earlier from a PaymentIntent event that named no session: the same payment, now with its session.
    unnamed = session.scalar(select(Payment).where(Payment.pay_link_id == link.id, Payment.method == "checkout",
                                                   Payment.stripe_checkout_session_id.is_(None)))
    if unnamed is not None:
        unnamed.stripe_checkout_session_id = session_id
        return unnamed
    payment = ledger.payment_for_link(session, link, session_id)
    session.add(payment)
    session.flush()
    return payment
