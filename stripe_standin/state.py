"""The stand-in's memory and its bank: customers, payment methods, Checkout Sessions, PaymentIntents, charges,
refunds and disputes, and what happens when a test card is charged. It all runs on the server's one event loop,
so no locks are needed. The objects live in memory; with a state file (store.py) the app saves them after every
request and loads them at start, so a restart forgets nothing, as Stripe would not (`collections`, `restore`)."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from stripe_standin import cards, objects, page
from stripe_standin.webhooks import Deliverer

MIN_AMOUNT = 50  # Stripe's minimum charge in USD cents
MIN_SESSION_SECONDS, MAX_SESSION_SECONDS = 30 * 60, 24 * 3600


class ApiError(Exception):
    """An error answered in Stripe's format: {"error": {"type", "code", "message", "param", ...}}.
    `saved` says whether the idempotency layer keeps it (Stripe keeps results of requests that began executing,
    but not of requests that failed parameter validation)."""

    def __init__(self, status: int, type_: str, message: str, *, code: str | None = None, param: str | None = None,
                 extra: dict[str, Any] | None = None, saved: bool = True) -> None:
        super().__init__(message)
        self.status, self.saved = status, saved
        self.body: dict[str, Any] = {"error": {"type": type_, "message": message, **({"code": code} if code else {}),
                                               **({"param": param} if param else {}), **(extra or {})}}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request_error", message, code=code or ("parameter_invalid" if param else None),
                    param=param, saved=False)


def missing(param: str) -> ApiError:
    return ApiError(400, "invalid_request_error", f"Missing required param: {param}.", code="parameter_missing",
                    param=param, saved=False)


def not_found(kind: str, object_id: str, param: str = "id") -> ApiError:
    return ApiError(404, "invalid_request_error", f"No such {kind}: '{object_id}'", code="resource_missing",
                    param=param, saved=False)


def as_int(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", name) from None


def as_bool(value: Any) -> bool:
    return str(value).lower() == "true"


def as_metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    return {str(k): str(v) for k, v in value.items()}


@dataclass
class Outcome:
    """What a card payment attempt on the hosted page came to."""

    kind: str  # succeeded | declined | requires_action | invalid
    message: str | None = None
    redirect: str | None = None
    field: str | None = None


@dataclass
class State:
    deliverer: Deliverer
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    setup_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Not Stripe objects: how each payment method behaves, and what a session was created with.
    behaviour: dict[str, str] = field(default_factory=dict)
    saved_with_authentication: set[str] = field(default_factory=set)
    session_private: dict[str, dict[str, Any]] = field(default_factory=dict)

    # What a state file keeps: every object, and what the stand-in knows about them besides (not the events).
    KEPT = ("customers", "payment_methods", "sessions", "intents", "charges", "refunds", "disputes", "setup_intents",
            "behaviour", "session_private")

    def collections(self) -> dict[str, dict[str, Any]]:
        """Everything to keep, by collection and id (live references: the store serialises them at once)."""
        kept: dict[str, dict[str, Any]] = {name: getattr(self, name) for name in self.KEPT}
        kept["saved_with_authentication"] = dict.fromkeys(self.saved_with_authentication, True)
        return kept

    def restore(self, collections: dict[str, dict[str, Any]]) -> None:
        """Take back what `collections` gave (at start, before any request)."""
        for name in self.KEPT:
            getattr(self, name).update(collections.get(name, {}))
        self.saved_with_authentication.update(collections.get("saved_with_authentication", {}))

    def emit(self, type_: str, obj: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        event = objects.event(type_=type_, obj=obj, idempotency_key=idempotency_key)
        self.deliverer.enqueue(event)
        return event

    # --- customers and payment methods -------------------------------------------------------------------------

    def create_customer(self, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        obj = objects.customer(email=params.get("email"), name=params.get("name"), phone=params.get("phone"),
                               metadata=as_metadata(params.get("metadata")), description=params.get("description"))
        self.customers[obj["id"]] = obj
        self.emit("customer.created", obj, key)
        return obj

    def customer(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise not_found("customer", customer_id)
        return self.customers[customer_id]

    def payment_method(self, pm_id: str) -> dict[str, Any]:
        if pm_id not in self.payment_methods:
            raise not_found("PaymentMethod", pm_id)
        return self.payment_methods[pm_id]

    def customer_payment_methods(self, customer_id: str) -> dict[str, Any]:
        self.customer(customer_id)
        items = [pm for pm in self.payment_methods.values() if pm["customer"] == customer_id]
        return objects.list_of(items, f"/v1/customers/{customer_id}/payment_methods")

    def detach_payment_method(self, pm_id: str, key: str | None) -> dict[str, Any]:
        pm = self.payment_method(pm_id)
        if pm["customer"] is None:
            raise invalid("The payment method you provided is not attached to a customer so detachment is "
                          "impossible.", code="payment_method_unexpected_state")
        pm["customer"] = None
        self.emit("payment_method.detached", pm, key)
        return pm

    # --- Checkout Sessions -------------------------------------------------------------------------------------

    def create_session(self, params: dict[str, Any], key: str | None, base_url: str) -> dict[str, Any]:
        mode = params.get("mode")
        if not mode:
            raise missing("mode")
        if mode not in ("payment", "setup"):
            raise invalid(f"Invalid mode: {mode}; the stand-in serves payment and setup", "mode")
        success_url = params.get("success_url")
        if not success_url:
            raise invalid("You must provide a success_url when ui_mode is hosted.", "success_url")
        amount, currency, product = None, None, None
        if mode == "payment":
            items = params.get("line_items")
            if not isinstance(items, list) or not items:
                raise missing("line_items")
            amount, currency = 0, None
            for index, item in enumerate(items):
                data = item.get("price_data") if isinstance(item, dict) else None
                if not isinstance(data, dict):
                    raise invalid("The stand-in needs price_data on each line item", f"line_items[{index}][price_data]")
                unit = as_int(data, "unit_amount", required=True)
                quantity = as_int(item, "quantity") or 1
                if currency is not None and data.get("currency") != currency:
                    raise invalid("All line items must share one currency", f"line_items[{index}][price_data]")
                currency = str(data.get("currency") or "").lower()
                if not currency:
                    raise missing(f"line_items[{index}][price_data][currency]")
                product = product or (data.get("product_data") or {}).get("name")
                amount += unit * quantity
            if amount < MIN_AMOUNT:
                raise invalid("The Checkout Session's total amount due must add up to at least $0.50 usd",
                              "line_items", code="amount_too_small")
        customer_id = params.get("customer") or None
        if customer_id:
            self.customer(customer_id)
        expires_at = as_int(params, "expires_at")
        now = objects.now()
        if expires_at is None:
            expires_at = now + MAX_SESSION_SECONDS
        elif not now + MIN_SESSION_SECONDS - 5 <= expires_at <= now + MAX_SESSION_SECONDS + 5:
            raise invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session "
                          "creation.", "expires_at")
        pi_data = params.get("payment_intent_data") or {}
        future = pi_data.get("setup_future_usage") or None
        if future not in (None, "on_session", "off_session"):
            raise invalid(f"Invalid setup_future_usage: {future}", "payment_intent_data[setup_future_usage]")
        locale = params.get("locale") or None
        if locale is not None and locale not in page.CHECKOUT_LOCALES:
            raise invalid(f"Invalid locale: must be one of {', '.join(page.CHECKOUT_LOCALES)}", "locale")
        consent = params.get("consent_collection") or {}
        custom = params.get("custom_text") or {}
        fields = params.get("custom_fields") or []
        if not isinstance(fields, list) or any(not isinstance(f, dict) or not f.get("key") for f in fields):
            raise invalid("Each custom field needs a key", "custom_fields")
        for index, spec in enumerate(fields):  # Stripe requires the label the person sees (50 characters at most)
            label = (spec.get("label") or {}).get("custom")
            if not label:
                raise missing(f"custom_fields[{index}][label][custom]")
            if len(label) > 50:
                raise invalid("The label can be at most 50 characters long.", f"custom_fields[{index}][label][custom]")
        reuse = ((consent.get("payment_method_reuse_agreement") or {}).get("position")
                 or ("auto" if future or mode == "setup" else None))
        tos_message = ((custom.get("terms_of_service_acceptance") or {}).get("message")) or None
        session = objects.checkout_session(
            mode=mode, amount=amount, currency=currency, success_url=success_url,
            cancel_url=params.get("cancel_url"), metadata=as_metadata(params.get("metadata")),
            customer_id=customer_id, customer_creation=params.get("customer_creation"),
            customer_email=params.get("customer_email"), client_reference_id=params.get("client_reference_id"),
            expires_at=expires_at, tos_required=consent.get("terms_of_service") == "required",
            tos_message=tos_message, submit_message=(custom.get("submit") or {}).get("message") or None,
            reuse_agreement=reuse, custom_fields=[objects.custom_field(f) for f in fields], locale=locale,
        )
        session["url"] = f"{base_url.rstrip('/')}/checkout/{session['id']}"
        self.sessions[session["id"]] = session
        self.session_private[session["id"]] = {
            "product": product or "Payment", "pi_metadata": as_metadata(pi_data.get("metadata"),
                                                                        "payment_intent_data[metadata]"),
            "setup_future_usage": future, "description": pi_data.get("description"), "intent": None,
            "pending_pm": None, "setup_metadata": as_metadata((params.get("setup_intent_data") or {}).get("metadata")),
        }
        return session

    def session(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.sessions:
            raise not_found("checkout.session", session_id)
        self.expire_if_due(session_id)
        return self.sessions[session_id]

    def expire_if_due(self, session_id: str) -> None:
        session = self.sessions[session_id]
        if session["status"] == "open" and objects.now() >= session["expires_at"]:
            self._expire(session, None)

    def expire_session(self, session_id: str, key: str | None) -> dict[str, Any]:
        session = self.session(session_id)
        if session["status"] != "open":
            raise ApiError(400, "invalid_request_error", f"Only Checkout Sessions with a status in [\"open\"] can "
                           f"be expired. This Checkout Session has a status of \"{session['status']}\".")
        self._expire(session, key)
        return session

    def _expire(self, session: dict[str, Any], key: str | None) -> None:
        session.update(status="expired", url=None)
        self.emit("checkout.session.expired", session, key)

    def prefilled_email(self, session: dict[str, Any]) -> str | None:
        """The email Checkout shows filled in and read-only: the session's customer_email, else its Customer's
        email. None: the person types one."""
        if session.get("customer_email"):
            return session["customer_email"]
        customer = self.customers.get(session.get("customer") or "")
        return (customer or {}).get("email") or None

    def pay_session(self, session_id: str, *, number: str, exp: str, cvc: str, name: str | None,
                    postal_code: str | None, email: str | None, consent: bool,
                    fields: dict[str, str] | None = None) -> Outcome:
        """A person pressed Pay on the hosted page: check what they typed, then charge the test card."""
        session = self.session(session_id)
        if session["status"] != "open":
            return Outcome("invalid", "This checkout is no longer open.")
        email = self.prefilled_email(session) or email  # a read-only field on the page
        if (session.get("consent_collection") or {}).get("terms_of_service") == "required" and not consent:
            return Outcome("invalid", "Please tick the box to agree before you pay.", field="consent")
        fields = fields or {}
        for custom in session["custom_fields"]:
            value = (fields.get(custom["key"]) or "").strip()
            allowed = [o["value"] for o in (custom["dropdown"] or {}).get("options", [])]
            if (not value and not custom["optional"]) or (value and custom["dropdown"] and value not in allowed):
                return Outcome("invalid", f"Please choose an answer for \"{custom['label']['custom']}\".",
                               field=custom["key"])
        self.session_private[session_id]["fields"] = fields
        number = cards.digits(number)
        if not cards.luhn_valid(number):
            return Outcome("invalid", "Your card number is invalid.", field="card_number")
        month_year = _expiry(exp)
        if month_year is None:
            return Outcome("invalid", "Your card's expiration date is incomplete or in the past.", field="exp")
        if not cvc.isdigit() or len(cvc) not in (3, 4):
            return Outcome("invalid", "Your card's security code is incomplete.", field="cvc")
        card = cards.lookup(number)
        pm = objects.payment_method(brand=card.brand if card else "visa", last4=number[-4:], exp_month=month_year[0],
                                    exp_year=month_year[1], funding=card.funding if card else "credit", name=name,
                                    postal_code=postal_code)
        self.payment_methods[pm["id"]] = pm
        self.behaviour[pm["id"]] = card.behaviour if card else "decline"
        decline_code = card.decline_code if card else "test_mode_live_card"
        private = self.session_private[session_id]
        private["email"], private["name"], private["postal_code"] = email, name, postal_code
        if session["mode"] == "setup":
            return self._complete_setup(session, pm, decline_code)
        return self._attempt(session, pm, decline_code, authenticated=False)

    def authenticate(self, session_id: str, succeed: bool) -> Outcome:
        """The 3-D Secure test page: the person completed or failed the challenge."""
        session = self.session(session_id)
        private = self.session_private[session_id]
        pm_id = private.get("pending_pm")
        if session["status"] != "open" or pm_id is None:
            return Outcome("invalid", "There is nothing to authenticate.")
        private["pending_pm"] = None
        pm = self.payment_methods[pm_id]
        if not succeed:
            intent = self.intents[private["intent"]]
            code, message = cards.AUTHENTICATION_FAILED
            intent.update(status="requires_payment_method", next_action=None, payment_method=None,
                          last_payment_error=objects.payment_error(code=code, message=message, decline_code=None,
                                                                   pm=pm, charge_id=None))
            self.emit("payment_intent.payment_failed", intent)
            return Outcome("declined", message)
        return self._attempt(session, pm, None, authenticated=True)

    def _attempt(self, session: dict[str, Any], pm: dict[str, Any], decline_code: str | None,
                 authenticated: bool) -> Outcome:
        private = self.session_private[session["id"]]
        intent = self.intents.get(private["intent"]) if private["intent"] else None
        if intent is None:
            customer_id = session["customer"]
            if customer_id is None and session.get("customer_creation") == "always":
                customer_id = self.create_customer({"email": private.get("email"), "name": private.get("name")},
                                                   None)["id"]
                session["customer"] = customer_id
            intent = objects.payment_intent(amount=session["amount_total"], currency=session["currency"],
                                            customer_id=customer_id, metadata=private["pi_metadata"],
                                            description=private["description"],
                                            setup_future_usage=private["setup_future_usage"],
                                            payment_method_types=["card"])
            self.intents[intent["id"]] = intent
            private["intent"] = intent["id"]
            self.emit("payment_intent.created", intent)
        behaviour = self.behaviour[pm["id"]]
        if behaviour.startswith("authenticate") and not authenticated:
            intent.update(status="requires_action", payment_method=pm["id"],
                          next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}})
            private["pending_pm"] = pm["id"]
            self.emit("payment_intent.requires_action", intent)
            return Outcome("requires_action")
        charge = self._charge(intent, pm, off_session=False, authenticated=authenticated, decline_code=decline_code)
        if charge["status"] != "succeeded":
            return Outcome("declined", intent["last_payment_error"]["message"])
        if intent["setup_future_usage"] and intent["customer"]:
            self._attach(pm, intent["customer"], authenticated)
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"],
                       customer=intent["customer"], url=None,
                       customer_details=objects.customer_details(email=private.get("email"), name=private.get("name"),
                                                                 postal_code=private.get("postal_code")))
        if (session.get("consent_collection") or {}).get("terms_of_service") == "required":
            session["consent"] = {"promotions": None, "terms_of_service": "accepted"}
        for custom in session["custom_fields"]:
            value = private.get("fields", {}).get(custom["key"]) or None
            if custom["dropdown"] is not None:
                custom["dropdown"]["value"] = value
            elif custom["text"] is not None:
                custom["text"]["value"] = value
        self.emit("checkout.session.completed", session)
        return Outcome("succeeded", redirect=session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))

    def _complete_setup(self, session: dict[str, Any], pm: dict[str, Any], decline_code: str | None) -> Outcome:
        if self.behaviour[pm["id"]] == "decline":
            code, message = cards.DECLINES.get(decline_code or "generic_decline", cards.DECLINES["generic_decline"])
            return Outcome("declined", message)
        private = self.session_private[session["id"]]
        setup = objects.setup_intent(customer_id=session["customer"], metadata=private["setup_metadata"],
                                     usage="off_session")
        setup.update(status="succeeded", payment_method=pm["id"], latest_attempt=objects.new_id("setatt"))
        self.setup_intents[setup["id"]] = setup
        if session["customer"]:
            self._attach(pm, session["customer"], authenticated=True)
        session.update(status="complete", setup_intent=setup["id"], url=None)
        self.emit("setup_intent.succeeded", setup)
        self.emit("checkout.session.completed", session)
        return Outcome("succeeded", redirect=session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))

    def _attach(self, pm: dict[str, Any], customer_id: str, authenticated: bool) -> None:
        pm["customer"] = customer_id
        if authenticated:
            self.saved_with_authentication.add(pm["id"])
        self.emit("payment_method.attached", pm)

    # --- PaymentIntents ----------------------------------------------------------------------------------------

    def create_intent(self, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        amount = as_int(params, "amount", required=True)
        currency = str(params.get("currency") or "").lower()
        if not currency:
            raise missing("currency")
        if amount < MIN_AMOUNT:
            raise invalid("Amount must be at least $0.50 usd", "amount", code="amount_too_small")
        customer_id = params.get("customer") or None
        if customer_id:
            self.customer(customer_id)
        pm_id = params.get("payment_method") or None
        pm = self.payment_method(pm_id) if pm_id else None
        off_session = as_bool(params.get("off_session"))
        if pm is not None and off_session and pm["customer"] != customer_id:
            raise invalid("The provided PaymentMethod was previously used with a PaymentIntent without Customer "
                          "attachment, shared with a connected account without Customer attachment, or was detached "
                          "from a Customer. It may not be used again.", "payment_method")
        intent = objects.payment_intent(amount=amount, currency=currency, customer_id=customer_id,
                                        metadata=as_metadata(params.get("metadata")),
                                        description=params.get("description"),
                                        setup_future_usage=params.get("setup_future_usage") or None,
                                        payment_method_types=params.get("payment_method_types") or ["card"])
        self.intents[intent["id"]] = intent
        self.emit("payment_intent.created", intent, key)
        if pm is None:
            return intent
        intent["payment_method"] = pm["id"]
        if not as_bool(params.get("confirm")):
            intent["status"] = "requires_confirmation"
            return intent
        behaviour = self.behaviour.get(pm["id"], "succeed")
        needs_auth = behaviour == "authenticate_always" or (
            behaviour == "authenticate_once" and pm["id"] not in self.saved_with_authentication)
        if needs_auth and off_session:
            code, message = cards.AUTHENTICATION_REQUIRED
            charge = self._failed_charge(intent, pm, code, message, None)
            error = objects.payment_error(code=code, message=message, decline_code=code, pm=pm, charge_id=charge["id"])
            intent.update(status="requires_payment_method", payment_method=None, last_payment_error=error,
                          latest_charge=charge["id"])
            self.emit("payment_intent.payment_failed", intent, key)
            raise ApiError(402, "card_error", message, code=code,
                           extra={"decline_code": code, "payment_intent": copy.deepcopy(intent),
                                  "payment_method": copy.deepcopy(pm), "charge": charge["id"]})
        if needs_auth:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
            self.emit("payment_intent.requires_action", intent, key)
            return intent
        charge = self._charge(intent, pm, off_session=off_session, authenticated=False, decline_code=None, key=key)
        if charge["status"] != "succeeded":
            error = intent["last_payment_error"]
            raise ApiError(402, "card_error", error["message"], code=error["code"],
                           extra={"decline_code": error.get("decline_code"), "payment_intent": copy.deepcopy(intent),
                                  "payment_method": copy.deepcopy(pm), "charge": charge["id"]})
        return intent

    def intent(self, pi_id: str) -> dict[str, Any]:
        if pi_id not in self.intents:
            raise not_found("payment_intent", pi_id)
        return self.intents[pi_id]

    def _charge(self, intent: dict[str, Any], pm: dict[str, Any], *, off_session: bool, authenticated: bool,
                decline_code: str | None, key: str | None = None) -> dict[str, Any]:
        behaviour = self.behaviour.get(pm["id"], "succeed")
        if behaviour.startswith("decline"):
            decline_code = behaviour.partition(":")[2] or decline_code or "generic_decline"
            code, message = cards.DECLINES.get(decline_code, cards.DECLINES["generic_decline"])
            charge = self._failed_charge(intent, pm, code, message, decline_code)
            intent.update(status="requires_payment_method", payment_method=None, latest_charge=charge["id"],
                          last_payment_error=objects.payment_error(code=code, message=message,
                                                                   decline_code=decline_code, pm=pm,
                                                                   charge_id=charge["id"]))
            self.emit("payment_intent.payment_failed", intent, key)
            return charge
        charge = objects.charge(amount=intent["amount"], currency=intent["currency"], customer_id=intent["customer"],
                                pi_id=intent["id"], pm=pm, metadata=intent["metadata"],
                                description=intent["description"], succeeded=True, three_d_secure=authenticated)
        self.charges[charge["id"]] = charge
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"],
                      payment_method=pm["id"], last_payment_error=None, next_action=None)
        self.emit("charge.succeeded", charge, key)
        self.emit("payment_intent.succeeded", intent, key)
        return charge

    def _failed_charge(self, intent: dict[str, Any], pm: dict[str, Any], code: str, message: str,
                       decline_code: str | None) -> dict[str, Any]:
        charge = objects.charge(amount=intent["amount"], currency=intent["currency"], customer_id=intent["customer"],
                                pi_id=intent["id"], pm=pm, metadata=intent["metadata"],
                                description=intent["description"], succeeded=False, failure_code=code,
                                failure_message=message, decline_code=decline_code)
        self.charges[charge["id"]] = charge
        self.emit("charge.failed", charge)
        return charge

    # --- refunds and disputes ----------------------------------------------------------------------------------

    def charge(self, charge_id: str) -> dict[str, Any]:
        if charge_id not in self.charges:
            raise not_found("charge", charge_id)
        return self.charges[charge_id]

    def create_refund(self, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        if params.get("payment_intent"):
            intent = self.intent(params["payment_intent"])
            if not intent.get("latest_charge") or intent["status"] != "succeeded":
                raise invalid("This PaymentIntent does not have a successful charge to refund.", "payment_intent")
            charge = self.charges[intent["latest_charge"]]
        elif params.get("charge"):
            charge = self.charge(params["charge"])
        else:
            raise invalid("One of the following params should be provided for this request: payment_intent or "
                          "charge.")
        left = charge["amount"] - charge["amount_refunded"]
        amount = as_int(params, "amount")
        amount = left if amount is None else amount
        if left <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        if not 0 < amount <= left:
            raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})", "amount")
        refund = objects.refund(charge_obj=charge, amount=amount, reason=params.get("reason"),
                                metadata=as_metadata(params.get("metadata")))
        self.refunds[refund["id"]] = refund
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
        self.emit("refund.created", refund, key)
        event = objects.event(type_="charge.refunded", obj=charge, idempotency_key=key, previous_attributes=previous)
        self.deliverer.enqueue(event)
        return refund

    def dispute_charge(self, charge_id: str, reason: str) -> dict[str, Any]:
        """Test helper: the cardholder disputes the charge with their bank (a chargeback)."""
        charge = self.charge(charge_id)
        dispute = objects.dispute(charge_obj=charge, reason=reason)
        self.disputes[dispute["id"]] = dispute
        charge["disputed"] = True
        self.emit("charge.dispute.created", dispute)
        return dispute

    def set_behaviour(self, pm_id: str, behaviour: str) -> dict[str, Any]:
        """Test helper: a saved card now declines (closed, over its limit) or needs authentication."""
        pm = self.payment_method(pm_id)
        self.behaviour[pm_id] = behaviour
        self.saved_with_authentication.discard(pm_id)
        return pm


def _expiry(text: str) -> tuple[int, int] | None:
    """"12 / 34", "12/34", "1234", "12/2034" -> (12, 2034), if not in the past."""
    raw = cards.digits(text)
    if len(raw) == 4:
        month, year = int(raw[:2]), 2000 + int(raw[2:])
    elif len(raw) == 6:
        month, year = int(raw[:2]), int(raw[2:])
    else:
        return None
    if not 1 <= month <= 12:
        return None
    today = time.gmtime()
    if (year, month) < (today.tm_year, today.tm_mon):
        return None
    return month, year
