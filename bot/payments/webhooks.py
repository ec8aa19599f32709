"""Stripe's webhook events, turned into ledger changes and messages.

- Signature: checked with the SDK (stripe.Webhook.construct_event) against STRIPE_WEBHOOK_SECRET; a bad or
  missing one is refused before anything is read (the route answers 400 and nothing changes).
- Exactly once: every event id is stored in the same transaction as what it changed, so a redelivery (or two
  deliveries at once: the primary key makes one of them fail) is answered and ignored. Independently, the ledger
  changes once per PaymentIntent (ledger.apply_payment), so two *different* events about one payment
  (checkout.session.completed and payment_intent.succeeded) or the success page's own check cannot double it.
  A succeeded PaymentIntent is applied the way the success page and the autopay scheduler apply it
  (payment_intents.py); this module adds what is particular to events.
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
from bot.db.models import AutopayAuthorisation, Payment, StripeEvent
from bot.payments import autopay, ledger, texts
from bot.payments.messages import Delivered, language_for, tell_debtor
from bot.payments.payment_intents import Prepared, apply_prepared, payment_for_session, payment_from_link, prepare

log = logging.getLogger("settle.webhooks")

HANDLED = (
    "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
    "checkout.session.expired", "payment_intent.succeeded", "payment_intent.payment_failed",
    "setup_intent.succeeded", "charge.refunded", "charge.dispute.created",
)


class BadSignature(Exception):
    """The request did not come from Stripe (or was changed on the way): refused, nothing read."""


def verify(payload: bytes, signature: str | None, secret: str) -> Any:
    """The parsed body (the route checks it is an event), if and only if the Stripe-Signature header is valid for
    this body and secret (and recent)."""
    if not secret:
        raise BadSignature("no webhook secret configured")
    try:
        # The signature alone: the SDK's construct_event would also build an Event object, and fail with a
        # TypeError (a 500 on every retry) on a signed body that is JSON but not an event; the route checks shape.
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
        return json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise BadSignature(str(exc)) from exc


@dataclass
class Result:
    outcome: str
    delivered: Delivered = field(default_factory=Delivered)


def handle(engine: Engine, client: stripe.StripeClient, settings: Settings, event: dict[str, Any],
           now: datetime | None = None) -> Result:
    """Process one verified event, once. Raises on a failure worth a redelivery (the route answers 500)."""
    now = now or datetime.now(timezone.utc)
    event_id, kind = event["id"], event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    with session_scope(engine) as session:
        if session.get(StripeEvent, event_id) is not None:
            return Result("duplicate")
    try:
        prepared = _gather(engine, client, kind, obj)
    except stripe.InvalidRequestError as exc:
        # Stripe does not know an object the event names (an intent or a charge of another account, a deleted
        # test object): no redelivery will change that, so the event is answered (200) and recorded once, and
        # Stripe stops retrying for three days. Network, rate-limit and 5xx errors still raise (500, retried).
        return _unknown_object(engine, event_id, kind, obj, exc, now)
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


def _unknown_object(engine: Engine, event_id: str, kind: str, obj: dict[str, Any], exc: stripe.InvalidRequestError,
                    now: datetime) -> Result:
    """Record an event whose payment intent or charge Stripe does not know: one audit row, one log line (ids and
    Stripe's error code only), and the event id stored so that a redelivery is a plain duplicate."""
    try:
        with session_scope(engine) as session:
            session.add(StripeEvent(id=event_id, type=kind, object_id=obj.get("id"), outcome="unknown_object",
                                    received_at=now))
            session.flush()
            audit.record(session, "stripe_event_unmatched", detail={
                "event": event_id, "type": kind, "object": obj.get("id"),
                "payment_intent": obj.get("payment_intent") if isinstance(obj.get("payment_intent"), str) else None,
                "stripe_error": getattr(exc, "code", None) or "invalid_request"})
    except IntegrityError:
        return Result("duplicate")  # a concurrent delivery recorded it first
    log.warning("Stripe event %s (%s) names an object Stripe does not know (%s); recorded, not retried",
                event_id, kind, getattr(exc, "code", None) or "invalid_request")
    return Result("unknown_object")


# --- reading what the event lacks (outside the transaction) ------------------------------------------------------


def _gather(engine: Engine, client: stripe.StripeClient, kind: str, obj: dict[str, Any]) -> Prepared | None:
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("mode") != "payment" or obj.get("payment_status") != "paid" or not obj.get("payment_intent"):
            return None
        intent = client.v1.payment_intents.retrieve(obj["payment_intent"]).to_dict()
        return prepare(engine, client, intent, obj)
    if kind == "payment_intent.succeeded":
        return prepare(engine, client, obj, None)
    return None


# --- the handlers (inside the transaction) -----------------------------------------------------------------------


def _dispatch(session: Session, client: stripe.StripeClient, settings: Settings, kind: str, obj: dict[str, Any],
              prepared: Prepared | None, now: datetime) -> tuple[str, Delivered]:
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if prepared is None:
            _note_session(session, obj)
            return "awaiting_payment", Delivered()
        return apply_prepared(session, settings, prepared, now)
    if kind == "payment_intent.succeeded":
        if prepared is None or prepared.intent.get("status") != "succeeded":
            return "ignored", Delivered()
        return apply_prepared(session, settings, prepared, now)
    if kind == "checkout.session.async_payment_failed":
        payment = payment_for_session(session, obj)
        if payment is None or payment.status != "pending":
            return "no_change", Delivered()
        payment.status, payment.failure_code = "failed", "async_payment_failed"
        text = texts.async_failed(payment.amount_cents, payment.currency, language_for(session, payment))
        return "failed", tell_debtor(session, payment, text, "payment_failed", now)
    if kind == "checkout.session.expired":
        payment = payment_for_session(session, obj)
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
        return "refunded", ledger.apply_refund(session, payment, int(obj.get("amount_refunded") or 0), obj["id"],
                                               settings, now)
    if kind == "charge.dispute.created":
        payment = _payment_for_charge(session, obj.get("charge"), obj.get("payment_intent"), None)
        ledger.flag_chargeback(session, payment, None, obj, now)
        return "chargeback_flagged", Delivered()
    return "ignored", Delivered()


def _note_session(session: Session, checkout: dict[str, Any]) -> None:
    payment = payment_for_session(session, checkout)
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
        payment = payment_from_link(session, metadata["pay_link_id"], None)
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
