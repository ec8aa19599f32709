"""Stripe objects as the stand-in returns them. Each starts from Stripe's own example object for its type
(fixtures.json, copied from stripe/openapi's fixtures3.json, MIT) so that every field Stripe sends is there with
Stripe's type; the builder then resets what the example fills with sample data and sets what this object is.
tests/test_stripe_standin.py checks the result against ../shared/stripe/fixtures3.json."""

from __future__ import annotations

import copy
import json
import secrets
import string
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

_ALPHANUMERIC = string.ascii_letters + string.digits
API_VERSION = "2025-06-30.basil"


@lru_cache(maxsize=1)
def _fixtures() -> dict[str, dict[str, Any]]:
    return json.loads((Path(__file__).parent / "fixtures.json").read_text())["resources"]


def template(kind: str) -> dict[str, Any]:
    """A fresh copy of Stripe's example object of this type."""
    return copy.deepcopy(_fixtures()[kind])


def new_id(prefix: str, length: int = 24) -> str:
    """Ids shaped like Stripe's: a prefix and random letters and digits (never a long run of digits, so no id
    looks like a card number to a PCI-3 scan)."""
    while True:
        body = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))
        if not any(body[i:i + 8].isdigit() for i in range(len(body) - 7)):
            return f"{prefix}_{body}"


def now() -> int:
    return int(time.time())


def _empty_address() -> dict[str, Any]:
    return {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}


def customer(*, email: str | None, name: str | None, phone: str | None, metadata: dict[str, str],
             description: str | None) -> dict[str, Any]:
    obj = template("customer")
    obj.update(
        id=new_id("cus", 14), created=now(), email=email, name=name, phone=phone, metadata=metadata,
        description=description, address=None, balance=0, currency=None, default_source=None, delinquent=False,
        discount=None, invoice_prefix="".join(secrets.choice(string.ascii_uppercase) for _ in range(7)),
        next_invoice_sequence=1, preferred_locales=[], shipping=None, tax_exempt="none", test_clock=None,
        livemode=False, customer_account=None,
    )
    obj["invoice_settings"].update(custom_fields=None, default_payment_method=None, footer=None,
                                   rendering_options=None)
    return obj


def payment_method(*, brand: str, last4: str, exp_month: int, exp_year: int, funding: str, name: str | None,
                   postal_code: str | None) -> dict[str, Any]:
    obj = template("payment_method")
    obj.update(id=new_id("pm"), created=now(), customer=None, metadata={}, livemode=False, type="card",
               allow_redisplay="unspecified", customer_account=None)
    obj["billing_details"].update(address={**_empty_address(), "postal_code": postal_code}, email=None, name=name,
                                  phone=None, tax_id=None)
    card = obj["card"]
    card.update(brand=brand, display_brand=brand, country="US", exp_month=exp_month, exp_year=exp_year,
                fingerprint=new_id("fp", 16)[3:], funding=funding, last4=last4, wallet=None, regulated_status=None,
                generated_from=None, networks={"available": [brand], "preferred": None})
    card["checks"].update(address_line1_check=None, address_postal_code_check="pass" if postal_code else None,
                          cvc_check="pass")
    return obj


def payment_intent(*, amount: int, currency: str, customer_id: str | None, metadata: dict[str, str],
                   description: str | None, setup_future_usage: str | None,
                   payment_method_types: list[str]) -> dict[str, Any]:
    obj = template("payment_intent")
    pi_id = new_id("pi")
    obj.update(
        id=pi_id, amount=amount, amount_capturable=0, amount_details={"tip": {}}, amount_received=0,
        application=None, application_fee_amount=None, automatic_payment_methods=None, canceled_at=None,
        cancellation_reason=None, capture_method="automatic", client_secret=f"{pi_id}_secret_{new_id('s')[2:]}",
        confirmation_method="automatic", created=now(), currency=currency, customer=customer_id,
        description=description, last_payment_error=None, latest_charge=None, livemode=False, metadata=metadata,
        next_action=None, on_behalf_of=None, payment_method=None, payment_method_configuration_details=None,
        payment_method_options={"card": {"request_three_d_secure": "automatic"}},
        payment_method_types=payment_method_types, processing=None, receipt_email=None, review=None,
        setup_future_usage=setup_future_usage, shipping=None, statement_descriptor=None,
        statement_descriptor_suffix=None, status="requires_payment_method", transfer_data=None, transfer_group=None,
        source=None, excluded_payment_method_types=None, customer_account=None, managed_payments=None,
    )
    return obj


def payment_error(*, code: str, message: str, decline_code: str | None, pm: dict[str, Any] | None,
                  charge_id: str | None) -> dict[str, Any]:
    """Stripe's error object (the `error` of a 402, and a PaymentIntent's last_payment_error)."""
    error: dict[str, Any] = {"type": "card_error", "code": code, "message": message,
                             "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}
    if decline_code:
        error["decline_code"] = decline_code
    if pm is not None:
        error["payment_method"] = copy.deepcopy(pm)
    if charge_id:
        error["charge"] = charge_id
    return error


def charge(*, amount: int, currency: str, customer_id: str | None, pi_id: str, pm: dict[str, Any],
           metadata: dict[str, str], description: str | None, succeeded: bool, failure_code: str | None = None,
           failure_message: str | None = None, decline_code: str | None = None,
           three_d_secure: bool = False) -> dict[str, Any]:
    obj = template("charge")
    ch_id = new_id("ch")
    card = pm["card"]
    obj.update(
        id=ch_id, amount=amount, amount_captured=amount if succeeded else 0, amount_refunded=0, application=None,
        application_fee=None, application_fee_amount=None,
        balance_transaction=new_id("txn") if succeeded else None, calculated_statement_descriptor="SETTLE",
        captured=succeeded, created=now(), currency=currency, customer=customer_id, description=description,
        disputed=False, failure_balance_transaction=None, failure_code=failure_code, failure_message=failure_message,
        fraud_details={}, livemode=False, metadata=metadata, on_behalf_of=None, paid=succeeded, payment_intent=pi_id,
        payment_method=pm["id"], receipt_email=None, receipt_number=None,
        receipt_url=f"https://pay.stripe.com/receipts/standin/{ch_id}", refunded=False,
        refunds={"data": [], "has_more": False, "object": "list", "url": f"/v1/charges/{ch_id}/refunds"},
        review=None, shipping=None, source_transfer=None, statement_descriptor=None,
        statement_descriptor_suffix=None, status="succeeded" if succeeded else "failed", transfer_data=None,
        transfer_group=None, source=None,
    )
    obj["billing_details"] = copy.deepcopy(pm["billing_details"])
    obj["outcome"] = {
        "advice_code": None, "network_advice_code": None, "network_decline_code": None,
        "network_status": "approved_by_network" if succeeded else "declined_by_network",
        "reason": None if succeeded else decline_code, "risk_level": "normal",
        "seller_message": "Payment complete." if succeeded else "The bank did not return any further details.",
        "type": "authorized" if succeeded else "issuer_declined",
    }
    details = obj["payment_method_details"]["card"]
    details.update(
        amount_authorized=amount if succeeded else None, brand=card["brand"], country=card["country"],
        exp_month=card["exp_month"], exp_year=card["exp_year"], fingerprint=card["fingerprint"],
        funding=card["funding"], installments=None, last4=card["last4"], mandate=None, network=card["brand"],
        wallet=None, authorization_code="STNDIN" if succeeded else None, regulated_status=None,
        network_transaction_id=new_id("ntx", 15)[4:], transaction_link_id=None,
    )
    details["checks"] = copy.deepcopy(card["checks"])
    details["overcapture"] = {"maximum_amount_capturable": amount, "status": "unavailable"}
    details["three_d_secure"] = ({"authentication_flow": "challenge", "electronic_commerce_indicator": "05",
                                  "exemption_indicator": None, "result": "authenticated", "result_reason": None,
                                  "transaction_id": None, "version": "2.2.0"} if three_d_secure else None)
    return obj


def refund(*, charge_obj: dict[str, Any], amount: int, reason: str | None,
           metadata: dict[str, str]) -> dict[str, Any]:
    obj = template("refund")
    obj.update(id=new_id("re"), amount=amount, balance_transaction=new_id("txn"), charge=charge_obj["id"],
               created=now(), currency=charge_obj["currency"], metadata=metadata,
               payment_intent=charge_obj["payment_intent"], reason=reason, receipt_number=None,
               source_transfer_reversal=None, status="succeeded", transfer_reversal=None,
               customer=charge_obj["customer"], customer_account=None, payment_method=charge_obj["payment_method"])
    obj["destination_details"] = {"card": {"reference": None, "reference_status": "pending",
                                           "reference_type": "acquirer_reference_number", "type": "refund"},
                                  "type": "card"}
    return obj


def dispute(*, charge_obj: dict[str, Any], reason: str) -> dict[str, Any]:
    obj = template("dispute")
    card = charge_obj["payment_method_details"]["card"]
    obj.update(id=new_id("dp"), amount=charge_obj["amount"], balance_transactions=[], charge=charge_obj["id"],
               created=now(), currency=charge_obj["currency"], is_charge_refundable=False, livemode=False,
               metadata={}, payment_intent=charge_obj["payment_intent"], reason=reason, status="needs_response",
               enhanced_eligibility_types=[])
    obj["evidence"] = {k: None for k in obj["evidence"]} | {"enhanced_evidence": {}}
    obj["evidence_details"].update(due_by=now() + 7 * 86400, has_evidence=False, past_due=False,
                                   submission_count=0, enhanced_eligibility={})
    obj["payment_method_details"] = {"card": {"brand": card["brand"], "case_type": "chargeback",
                                              "network_reason_code": "10.4", "network": card["network"]},
                                     "type": "card"}
    return obj


def setup_intent(*, customer_id: str | None, metadata: dict[str, str], usage: str) -> dict[str, Any]:
    obj = template("setup_intent")
    si_id = new_id("seti")
    obj.update(id=si_id, application=None, automatic_payment_methods=None, cancellation_reason=None,
               client_secret=f"{si_id}_secret_{new_id('s')[2:]}", created=now(), customer=customer_id,
               description=None, flow_directions=None, last_setup_error=None, latest_attempt=None, livemode=False,
               mandate=None, metadata=metadata, next_action=None, on_behalf_of=None, payment_method=None,
               payment_method_configuration_details=None, payment_method_options={}, payment_method_types=["card"],
               single_use_mandate=None, status="requires_payment_method", usage=usage,
               excluded_payment_method_types=None)
    return obj


def checkout_session(*, mode: str, amount: int | None, currency: str | None, success_url: str,
                     cancel_url: str | None, metadata: dict[str, str], customer_id: str | None,
                     customer_creation: str | None, customer_email: str | None, client_reference_id: str | None,
                     expires_at: int, tos_required: bool, tos_message: str | None, submit_message: str | None,
                     reuse_agreement: str | None, custom_fields: list[dict[str, Any]],
                     locale: str | None = None) -> dict[str, Any]:
    obj = template("checkout.session")
    cs_id = new_id("cs_test", 58)
    obj.update(
        id=cs_id, after_expiration=None, allow_promotion_codes=None, amount_subtotal=amount, amount_total=amount,
        automatic_tax={"enabled": False, "liability": None, "status": None, "provider": None},
        billing_address_collection=None, cancel_url=cancel_url, client_reference_id=client_reference_id,
        client_secret=None, consent=None, created=now(), currency=currency, custom_fields=custom_fields,
        customer=customer_id,
        customer_creation=customer_creation, customer_details=None, customer_email=customer_email,
        expires_at=expires_at, invoice=None, livemode=False, locale=locale, metadata=metadata, mode=mode,
        payment_intent=None, payment_link=None, payment_method_collection="always" if mode == "setup" else None,
        payment_method_configuration_details=None, payment_method_options={}, payment_method_types=["card"],
        payment_status="unpaid" if mode == "payment" else "no_payment_required", phone_number_collection={
            "enabled": False}, recovered_from=None, setup_intent=None, shipping_address_collection=None,
        shipping_cost=None, shipping_options=[], status="open", submit_type="pay" if mode == "payment" else None,
        subscription=None, success_url=success_url, ui_mode="hosted", url=None, adaptive_pricing={"enabled": False},
        discounts=[], collected_information=None, permissions=None, wallet_options=None, origin_context=None,
        currency_conversion=None, customer_account=None, integration_identifier=None, managed_payments=None,
    )
    obj["total_details"] = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
    obj["invoice_creation"] = {"enabled": False, "invoice_data": {
        "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None, "issuer": None,
        "metadata": {}, "rendering_options": None}} if mode == "payment" else None
    obj["custom_text"] = {"after_submit": None, "shipping_address": None,
                          "submit": {"message": submit_message} if submit_message else None,
                          "terms_of_service_acceptance": {"message": tos_message} if tos_message else None}
    obj["consent_collection"] = {
        "payment_method_reuse_agreement": {"position": reuse_agreement} if reuse_agreement else None,
        "promotions": None, "terms_of_service": "required" if tos_required else "none",
    } if tos_required or reuse_agreement else None
    obj["saved_payment_method_options"] = {"allow_redisplay_filters": ["always"], "payment_method_remove": None,
                                           "payment_method_save": None} if customer_id else None
    return obj


def custom_field(spec: dict[str, Any]) -> dict[str, Any]:
    """A Checkout custom field as Stripe returns it (dropdown or text), before the customer fills it in."""
    kind = spec.get("type", "text")
    options = (spec.get("dropdown") or {}).get("options") or []
    return {
        "key": spec["key"], "label": {"custom": (spec.get("label") or {}).get("custom"), "type": "custom"},
        "optional": str(spec.get("optional", "false")).lower() == "true", "type": kind,
        "dropdown": {"default_value": None, "options": [{"label": o["label"], "value": o["value"]} for o in options],
                     "value": None} if kind == "dropdown" else None,
        "numeric": None, "text": {"default_value": None, "maximum_length": None, "minimum_length": None,
                                  "value": None} if kind == "text" else None,
    }


def customer_details(*, email: str | None, name: str | None, postal_code: str | None) -> dict[str, Any]:
    details = template("checkout.session")["customer_details"]
    details.update(address={**_empty_address(), "country": "US", "postal_code": postal_code}, email=email,
                   name=name, phone=None, tax_exempt="none", tax_ids=[], business_name=None, individual_name=None)
    return details


def event(*, type_: str, obj: dict[str, Any], idempotency_key: str | None,
          previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    evt = template("event")
    data: dict[str, Any] = {"object": copy.deepcopy(obj)}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    evt.update(id=new_id("evt"), api_version=API_VERSION, created=now(), data=data, livemode=False,
               object="event", pending_webhooks=1,
               request={"id": new_id("req", 14) if idempotency_key else None, "idempotency_key": idempotency_key},
               type=type_)
    return evt


def list_of(items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False, "url": url}
