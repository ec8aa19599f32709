"""Stripe's webhook events, turned into ledger changes and messages.

- Signature: checked with the SDK (stripe.Webhook.construct_event) against STRIPE_WEBHOOK_SECRET; a bad or
  missing one is refused before anything is read (the route answers 400 and nothing changes).
- Exactly once: every event id is stored in the same transaction as what it changed, so a redelivery (or two
  deliveries at once: the primary key makes one of them fail) is answered and ignored. Independently, the ledger
  changes once per PaymentIntent (service.apply_payment), so two *different* events about one payment
  (checkout.session.completed and payment_intent.succeeded) or the success page's own check cannot double it.
- Any order: each handler works from the object in the event (fetching what it lacks from Stripe first, outside
  the transaction) and only moves a payment forward: a failure or an expiry arriving after a success changes
  nothing, a refund arriving before its payment is netted out when the payment is applied.

Handled: checkout.session.completed, .async_payment_succeeded, .async_payment_failed, .expired;
payment_intent.succeeded, .payment_failed; setup_intent.succeeded; charge.refunded; charge.dispute.created.
Anything else is recorded as ignored."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import stripe
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot import audit
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AutopayAuthorisation, PayLink, Payment, StripeEvent
from bot.payments import autopay, service
from bot.payments.service import Delivered, Received

log = logging.getLogger("settle.webhooks")

HANDLED = (
    "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
    "checkout.session.expired", "payment_intent.succeeded", "payment_intent.payment_failed",
    "setup_intent.succeeded", "charge.refunded", "charge.dispute.created",
)


class BadSignature(Exception):
    """The request did not come from Stripe (or was changed on the way): refused, nothing read."""


def verify(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, if and only if the Stripe-Signature header is valid for this body and secret (and recent)."""
    if not secret:
        raise BadSignature("no webhook secret configured")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise BadSignature(str(exc)) from exc
    return json.loads(payload)


@dataclass
class Result:
    outcome: str
    delivered: Delivered = field(default_factory=Delivered)


@dataclass
class _Prepared:
    """A succeeded PaymentIntent and everything needed to apply it, read from Stripe before the transaction."""

    intent: dict[str, Any]
    checkout: dict[str, Any] | None
    received: Received


def handle(engine: Engine, client: stripe.StripeClient, settings: Settings, event: dict[str, Any],
           now: datetime | None = None) -> Result:
    """Process one verified event, once. Raises on a failure worth a redelivery (the route answers 500)."""
    now = now or datetime.now(timezone.utc)
    event_id, kind = event["id"], event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    with session_scope(engine) as session:
        if session.get(StripeEvent, event_id) is not None:
            return Result("duplicate")
    prepared = _gather(engine, client, kind, obj)
    for attempt in range(3):
        try:
            with session_scope(engine) as session:
                row = StripeEvent(id=event_id, type=kind, object_id=obj.get("id"), outcome="processing",
                                  received_at=now)
                session.add(row)
                session.flush()  # a concurrent delivery of the same event fails here (primary key)
                outcome, delivered = _dispatch(session, client, settings, kind, obj, prepared, now)
                row.outcome = outcome
            return Result(outcome, delivered)
        except (IntegrityError, OperationalError):
            # The same event processed by a concurrent delivery, or a write conflict with one (SQLite): look
            # again; the ledger's own uniqueness keeps a retry from applying anything twice.
            with session_scope(engine) as session:
                if session.get(StripeEvent, event_id) is not None:
                    return Result("duplicate")
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def apply_intent(engine: Engine, client: stripe.StripeClient, settings: Settings, intent: dict[str, Any],
                 checkout: dict[str, Any] | None, now: datetime | None = None) -> Delivered:
    """Apply a succeeded PaymentIntent outside any webhook (the success page, the autopay scheduler)."""
    now = now or datetime.now(timezone.utc)
    prepared = _prepare(engine, client, intent, checkout)
    for attempt in range(3):
        try:
            with session_scope(engine) as session:
                return _apply(session, settings, prepared, now)[1]
        except (IntegrityError, OperationalError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- reading what the event lacks (outside the transaction) ------------------------------------------------------


def _gather(engine: Engine, client: stripe.StripeClient, kind: str, obj: dict[str, Any]) -> _Prepared | None:
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("mode") != "payment" or obj.get("payment_status") != "paid" or not obj.get("payment_intent"):
            return None
        intent = client.v1.payment_intents.retrieve(obj["payment_intent"]).to_dict()
        return _prepare(engine, client, intent, obj)
    if kind == "payment_intent.succeeded":
        return _prepare(engine, client, obj, None)
    return None


def _prepare(engine: Engine, client: stripe.StripeClient, intent: dict[str, Any],
             checkout: dict[str, Any] | None) -> _Prepared:
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
    chosen = next((f for f in (checkout or {}).get("custom_fields") or [] if f.get("key") == service.AUTOPAY_KEY),
                  None)
    autopay_chosen = ((chosen or {}).get("dropdown") or {}).get("value") == service.AUTOPAY_YES
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
        consented=autopay_chosen, consent_text=shown.removeprefix(service.AUTOPAY_PREFIX) if shown else None,
    )
    return _Prepared(intent, checkout, received)


def _forget_card(client: stripe.StripeClient, payment_method_id: str) -> None:
    """The debtor said no to autopay: the card Stripe kept for later is removed (we keep only what we use)."""
    try:
        client.v1.payment_methods.detach(payment_method_id)
    except stripe.InvalidRequestError:
        pass  # already detached: a redelivery, or the success page got there first


# --- the handlers (inside the transaction) -----------------------------------------------------------------------


def _dispatch(session: Session, client: stripe.StripeClient, settings: Settings, kind: str, obj: dict[str, Any],
              prepared: _Prepared | None, now: datetime) -> tuple[str, Delivered]:
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if prepared is None:
            _note_session(session, obj)
            return "awaiting_payment", Delivered()
        return _apply(session, settings, prepared, now)
    if kind == "payment_intent.succeeded":
        if prepared is None or prepared.intent.get("status") != "succeeded":
            return "ignored", Delivered()
        return _apply(session, settings, prepared, now)
    if kind == "checkout.session.async_payment_failed":
        payment = _payment_for_session(session, obj)
        if payment is None or payment.status != "pending":
            return "no_change", Delivered()
        payment.status, payment.failure_code = "failed", "async_payment_failed"
        return "failed", service.tell_debtor(session, payment, service.texts.async_failed(
            payment.amount_cents, payment.currency), "payment_failed", now)
    if kind == "checkout.session.expired":
        payment = _payment_for_session(session, obj)
        if payment is not None and payment.status == "pending":
            payment.status = "expired"  # the link stays usable until its own expiry: a new session next time
            return "expired", Delivered()
        return "no_change", Delivered()
    if kind == "payment_intent.payment_failed":
        return _failed(session, settings, obj, now), Delivered()
    if kind == "setup_intent.succeeded":
        return _setup_succeeded(session, obj, now), Delivered()
    if kind == "charge.refunded":
        payment = _payment_for_charge(session, obj.get("id"), obj.get("payment_intent"), obj.get("metadata"))
        if payment is None:
            return "unknown_payment", Delivered()
        return "refunded", service.apply_refund(session, payment, int(obj.get("amount_refunded") or 0), obj["id"],
                                                settings, now)
    if kind == "charge.dispute.created":
        payment = _payment_for_charge(session, obj.get("charge"), obj.get("payment_intent"), None)
        service.flag_chargeback(session, payment, None, obj, now)
        return "chargeback_flagged", Delivered()
    return "ignored", Delivered()


def _apply(session: Session, settings: Settings, prepared: _Prepared, now: datetime) -> tuple[str, Delivered]:
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
    delivered = service.apply_payment(session, payment, prepared.received, settings, now)
    return ("applied" if payment.status == "succeeded" else payment.status), delivered


def _payment_for_intent(session: Session, prepared: _Prepared) -> Payment | None:
    intent = prepared.intent
    metadata = intent.get("metadata") or {}
    payment = session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent["id"]))
    if payment is None and metadata.get("payment_id"):
        payment = session.get(Payment, metadata["payment_id"])
    if payment is None and prepared.checkout is not None:
        payment = _payment_for_session(session, prepared.checkout)
    if payment is None and metadata.get("pay_link_id"):
        payment = _from_link(session, metadata["pay_link_id"], (prepared.checkout or {}).get("id"))
    if payment is not None and payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent["id"]
    return payment


def _payment_for_session(session: Session, checkout: dict[str, Any]) -> Payment | None:
    payment = session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == checkout.get("id")))
    link_id = (checkout.get("metadata") or {}).get("pay_link_id")
    if payment is None and link_id:
        payment = _from_link(session, link_id, checkout.get("id"))
    return payment


def _from_link(session: Session, link_id: str, session_id: str | None) -> Payment | None:
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
    payment = service._payment_for_link(session, link, session_id)
    session.add(payment)
    session.flush()
    return payment


def _note_session(session: Session, checkout: dict[str, Any]) -> None:
    payment = _payment_for_session(session, checkout)
    if payment is not None and checkout.get("payment_intent") and payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = checkout["payment_intent"]


def _payment_for_charge(session: Session, charge_id: str | None, intent_id: str | None,
                        metadata: dict[str, Any] | None) -> Payment | None:
    payment = session.scalar(select(Payment).where(Payment.stripe_charge_id == charge_id)) if charge_id else None
    if payment is None and intent_id:
        payment = session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    metadata = metadata or {}
    if payment is None and metadata.get("payment_id"):
        payment = session.get(Payment, metadata["payment_id"])
    if payment is None and metadata.get("pay_link_id"):
        # A refund that overtook its payment's success events: the charge carries the PaymentIntent's metadata.
        payment = _from_link(session, metadata["pay_link_id"], None)
    if payment is not None and payment.stripe_payment_intent_id is None and intent_id:
        payment.stripe_payment_intent_id = intent_id
    return payment


def _failed(session: Session, settings: Settings, intent: dict[str, Any], now: datetime) -> str:
    metadata = intent.get("metadata") or {}
    payment = session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent["id"]))
    if payment is None and metadata.get("payment_id"):
        payment = session.get(Payment, metadata["payment_id"])
    if payment is None and metadata.get("pay_link_id"):
        payment = session.scalar(select(Payment).where(Payment.pay_link_id == metadata["pay_link_id"],
                                                       Payment.status == "pending")
                                 .order_by(Payment.created_at.desc()).limit(1))
    if payment is None:
        return "no_change"  # not one of ours, or not recorded yet: the hosted page told the debtor already
    error = intent.get("last_payment_error") or {}
    if payment.method == "autopay":
        autopay.record_failure(session, payment, error.get("decline_code") or error.get("code") or "card_declined",
                               error.get("message") or "",
                               intent["id"], settings, now)
        return "declined"
    if payment.status == "pending":
        # On the hosted page the debtor saw the decline and can try another card: the session is still open.
        payment.failure_code = error.get("decline_code") or error.get("code")
    return "noted"


def _setup_succeeded(session: Session, setup: dict[str, Any], now: datetime) -> str:
    """A card saved in setup mode for a plan (a new card for autopay): the active authorisation moves to it."""
    plan_id = (setup.get("metadata") or {}).get("plan_id")
    if not plan_id or not setup.get("payment_method"):
        return "recorded"
    auth = session.scalar(select(AutopayAuthorisation).where(AutopayAuthorisation.plan_id == plan_id,
                                                             AutopayAuthorisation.status == "active"))
    if auth is None or (setup.get("customer") and setup["customer"] != auth.stripe_customer_id):
        return "no_authorisation"
    auth.stripe_payment_method_id = setup["payment_method"]
    audit.record(session, "autopay_card_changed", rule_id="PLAN-2", account_id=auth.account_id,
                 detail={"plan_id": plan_id})
    return "card_changed"
