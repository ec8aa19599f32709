"""The Stripe stand-in (stripe_standin/), driven by the real stripe SDK: Stripe's object shapes (checked against
Stripe's own fixtures, ../shared/stripe/fixtures3.json, for every object and field Settle reads), Stripe's error
format, idempotency keys like Stripe's, signed webhooks, and the test knobs the payment tests rely on."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from stripe_standin import create_app
from stripe_standin.testing import ServerThread

# ../shared beside the checkout; a git worktree sits deeper (/work/wt/<name>), so the nearest ancestor that has it.
FIXTURES = next((p / "shared" / "stripe" / "fixtures3.json" for p in Path(__file__).resolve().parents
                 if (p / "shared" / "stripe" / "fixtures3.json").is_file()),
                Path(__file__).resolve().parents[2] / "shared" / "stripe" / "fixtures3.json")
SECRET = "whsec_standin_test"

# Every field Settle reads (bot/payments/, tests), per object, with its type where Stripe's example is null.
READ: dict[str, dict[str, type | None]] = {
    "checkout.session": {"id": None, "object": None, "url": str, "status": None, "payment_status": None,
                         "payment_intent": str, "mode": None, "metadata": None, "custom_fields": None,
                         "custom_text": None, "amount_total": int, "currency": str, "customer": str,
                         "consent_collection": None, "expires_at": None, "success_url": None, "cancel_url": None},
    "payment_intent": {"id": None, "object": None, "status": None, "amount": None, "amount_received": None,
                       "currency": None, "latest_charge": str, "customer": str, "payment_method": str,
                       "setup_future_usage": str, "metadata": None, "last_payment_error": None},
    "charge": {"id": None, "object": None, "payment_intent": str, "amount": None, "amount_refunded": None,
               "refunded": None, "metadata": None, "payment_method_details": None, "disputed": None,
               "status": None},
    "payment_method": {"id": None, "object": None, "customer": str, "card": None, "type": None},
    "customer": {"id": None, "object": None, "metadata": None},
    "refund": {"id": None, "object": None, "amount": None, "charge": None, "payment_intent": str, "status": None},
    "dispute": {"id": None, "object": None, "amount": None, "charge": None, "payment_intent": str,
                "reason": None, "status": None},
    "setup_intent": {"id": None, "object": None, "customer": str, "payment_method": str, "metadata": None,
                     "status": None},
    "event": {"id": None, "object": None, "type": None, "created": None, "data": None, "livemode": None,
              "api_version": str},
}
# Nested fields Settle reads: (object, path) -> the type.
READ_NESTED = {
    ("charge", ("payment_method_details", "card", "last4")): str,
    ("charge", ("payment_method_details", "card", "brand")): str,
    ("payment_method", ("card", "last4")): str,
    ("payment_method", ("card", "brand")): str,
    ("checkout.session", ("custom_text", "submit")): dict,
}


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}[type(value)]


def check_shape(kind: str, ours: dict[str, Any], fixture: dict[str, Any]) -> list[str]:
    """Stripe's example object for `kind` against ours: every field there, and for what Settle reads, the same
    type (or the declared one where the example is null), recursively for nested objects."""
    problems = [f"{kind}: missing field {key!r}" for key in fixture if key not in ours]
    for key, declared in READ[kind].items():
        if key not in ours:
            problems.append(f"{kind}: missing read field {key!r}")
            continue
        theirs, mine = fixture.get(key), ours[key]
        if mine is None:
            continue  # nullable in Stripe's API; the flows below make sure the read ones get filled
        expected = _json_type(theirs) if theirs is not None else _json_type(declared()) if declared else None
        if expected is not None and _json_type(mine) != expected:
            problems.append(f"{kind}.{key}: {_json_type(mine)}, Stripe has {expected}")
        if isinstance(theirs, dict) and isinstance(mine, dict) and key != "metadata":
            problems += [f"{kind}.{key}: missing {k!r}" for k in theirs if k not in mine]
    return problems


@pytest.fixture(scope="module")
def fixtures() -> dict[str, dict[str, Any]]:
    return json.loads(FIXTURES.read_text())["resources"]


class Receiver:
    """A webhook endpoint that verifies signatures with the SDK and keeps what arrived."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.bad = 0
        self.fail_next = 0
        self.lock = threading.Lock()

        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            try:
                stripe.Webhook.construct_event(body, request.headers.get("stripe-signature"), SECRET)
            except stripe.SignatureVerificationError:
                self.bad += 1
                return JSONResponse({}, status_code=400)
            with self.lock:
                if self.fail_next:
                    self.fail_next -= 1
                    return JSONResponse({}, status_code=500)
                self.events.append(json.loads(body))
            return JSONResponse({"ok": True})

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"]),
                                     Route("/healthz", lambda r: JSONResponse({}))])


@pytest.fixture
def standin() -> Iterator[tuple[ServerThread, stripe.StripeClient, Receiver]]:
    receiver = Receiver()
    hook = ServerThread(receiver.app).start()
    server = ServerThread(create_app(webhook_url=f"{hook.url}/hook", webhook_secret=SECRET)).start()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url},
                                 http_client=stripe.RequestsClient(timeout=2), max_network_retries=0)
    yield server, client, receiver
    server.stop()
    hook.stop()


def knob(server: ServerThread, method: str, path: str, body: dict | None = None) -> Any:
    return httpx.request(method, f"{server.url}/_standin/{path}", json=body, timeout=30).json()


def session_params(**extra: Any) -> dict[str, Any]:
    return {"mode": "payment", "success_url": "https://example.com/ok?s={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://example.com/back", "metadata": {"pay_link_id": "pl_1"},
            "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 2500,
                                                          "product_data": {"name": "Settle Services payment"}}}],
            **extra}


def paid_plan_session(server: ServerThread, client: stripe.StripeClient) -> Any:
    customer = client.v1.customers.create(params={"metadata": {"debtor_id": "dbt_1"}})
    field = {"key": "autopay", "type": "dropdown", "label": {"type": "custom", "custom": "Later payments"},
             "dropdown": {"options": [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}]}}
    created = client.v1.checkout.sessions.create(params=session_params(
        customer=customer.id, custom_fields=[field], custom_text={"submit": {"message": "I authorise..."}},
        payment_intent_data={"setup_future_usage": "off_session", "metadata": {"pay_link_id": "pl_1"}},
        consent_collection={"payment_method_reuse_agreement": {"position": "hidden"}}))
    assert knob(server, "POST", f"checkout/{created.id}/pay", {"card": "4242424242424242",
                                                                "fields": {"autopay": "yes"}})["kind"] == "succeeded"
    return client.v1.checkout.sessions.retrieve(created.id)


def test_objects_have_stripes_fields_and_types_for_everything_settle_reads(standin, fixtures):
    """The conformance check against ../shared/stripe/fixtures3.json."""
    server, client, receiver = standin
    session = paid_plan_session(server, client)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    customer = client.v1.customers.retrieve(session.customer)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    dispute = knob(server, "POST", f"charges/{charge.id}/dispute", {"reason": "fraudulent"})
    setup = client.v1.checkout.sessions.create(params={"mode": "setup", "customer": customer.id,
                                                       "success_url": "https://example.com/ok",
                                                       "setup_intent_data": {"metadata": {"plan_id": "pln_1"}}})
    knob(server, "POST", f"checkout/{setup.id}/pay", {"card": "4242424242424242"})
    setup_intent = client.v1.setup_intents.retrieve(client.v1.checkout.sessions.retrieve(setup.id).setup_intent)
    assert knob(server, "GET", "webhooks/idle")["idle"]
    event = receiver.events[-1]
    objects = {"checkout.session": session.to_dict(), "payment_intent": intent.to_dict(),
               "charge": charge.to_dict(), "payment_method": method.to_dict(), "customer": customer.to_dict(),
               "refund": refund.to_dict(), "dispute": dispute, "setup_intent": setup_intent.to_dict(),
               "event": event}
    problems = [p for kind, ours in objects.items() for p in check_shape(kind, ours, fixtures[kind])]
    for (kind, path), expected in READ_NESTED.items():
        value: Any = objects[kind]
        for step in path:
            value = value[step]
        if not isinstance(value, expected):
            problems.append(f"{kind}.{'.'.join(path)} is {type(value).__name__}")
    assert problems == []
    # The read fields the flows fill are filled (not merely nullable).
    assert session.payment_intent and session.customer and session.amount_total == 2500
    assert session.custom_fields[0].dropdown.value == "yes"
    assert intent.latest_charge and intent.payment_method and intent.setup_future_usage == "off_session"
    assert charge.payment_method_details.card.last4 == "4242" and method.customer == customer.id


def test_errors_come_in_stripes_format_and_raise_the_sdks_exceptions(standin):
    server, client, receiver = standin
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.checkout.sessions.create(params=session_params(line_items=[{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": 10, "product_data": {"name": "x"}}}]))
    assert small.value.code == "amount_too_small"
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_live_x", base_addresses={"api": server.url}).v1.customers.create()


def test_the_same_idempotency_key_gets_the_same_answer_and_other_parameters_an_error(standin):
    server, client, receiver = standin
    first = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-1"})
    again = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-1"})
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params=session_params(metadata={"pay_link_id": "pl_2"}),
                                           options={"idempotency_key": "k-1"})
    calls = [r for r in knob(server, "GET", "requests")["requests"] if r["path"] == "/v1/checkout/sessions"]
    assert [(c["status"], c["replayed"]) for c in calls] == [(200, False), (200, True), (400, False)]


def test_off_session_charges_decline_and_need_authentication_like_stripes_test_cards(standin):
    server, client, receiver = standin
    session = paid_plan_session(server, client)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    params = {"amount": 1500, "currency": "usd", "customer": session.customer,
              "payment_method": intent.payment_method, "off_session": True, "confirm": True}
    assert client.v1.payment_intents.create(params=params).status == "succeeded"
    knob(server, "POST", f"payment_methods/{intent.payment_method}/behaviour", {"behaviour": "decline"})
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params=params)
    assert declined.value.code == "card_declined" and declined.value.http_status == 402
    assert declined.value.error.payment_intent.status == "requires_payment_method"
    knob(server, "POST", f"payment_methods/{intent.payment_method}/behaviour", {"behaviour": "authenticate_always"})
    with pytest.raises(stripe.CardError) as auth:
        client.v1.payment_intents.create(params=params)
    assert auth.value.code == "authentication_required"


def test_webhooks_are_signed_retried_redelivered_and_can_come_out_of_order(standin):
    server, client, receiver = standin
    receiver.fail_next = 1  # the endpoint fails once: Stripe (and the stand-in) try again
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    assert knob(server, "GET", "webhooks/idle")["idle"]
    assert [e["data"]["object"]["id"] for e in receiver.events] == [customer.id] and receiver.bad == 0
    [event] = knob(server, "GET", "events")["events"]
    assert [d["status"] for d in event["deliveries"]] == [500, 200]

    knob(server, "POST", "webhooks/redeliver", {"event_id": event["id"], "times": 3, "concurrent": True})
    knob(server, "GET", "webhooks/idle")
    assert [e["id"] for e in receiver.events].count(event["id"]) == 4

    knob(server, "POST", "webhooks/hold")
    made = [client.v1.customers.create(params={"name": f"n{i}"}).id for i in range(3)]
    released = knob(server, "POST", "webhooks/release", {"order": "reverse"})["released"]
    knob(server, "GET", "webhooks/idle")
    assert len(released) == 3 and [e["data"]["object"]["id"] for e in receiver.events[-3:]] == made[::-1]


def test_faults_fail_or_hang_the_next_calls(standin):
    server, client, receiver = standin
    knob(server, "POST", "faults", {"path": "/v1/customers", "mode": "error", "status": 500, "times": 1})
    with pytest.raises(stripe.APIError) as failed:
        client.v1.customers.create()
    assert failed.value.http_status == 500
    client.v1.customers.create()  # only the next call
    knob(server, "POST", "faults", {"path": "/v1/customers", "mode": "hang", "seconds": 3, "when": "after"})
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create(options={"idempotency_key": "hung"})
    retried = client.v1.customers.create(options={"idempotency_key": "hung"})
    created = [r for r in knob(server, "GET", "requests")["requests"] if r["idempotency_key"] == "hung"]
    assert [r["replayed"] for r in created] == [False, True] and retried.id.startswith("cus_")


def test_the_hosted_page_takes_a_test_card_and_never_echoes_or_keeps_it(standin):
    server, client, receiver = standin
    session = client.v1.checkout.sessions.create(params=session_params())
    page = httpx.get(session.url, timeout=10)
    assert page.status_code == 200 and "$25.00" in page.text and 'name="card_number"' in page.text
    declined = httpx.post(session.url, data={"card_number": "4000 0000 0000 0002", "exp": "12 / 34", "cvc": "123"},
                          timeout=10)
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    card_input = re.search(r'<input[^>]*name="card_number"[^>]*>', declined.text).group(0)
    assert "value=" not in card_input  # the number typed is not sent back (the page lists the test cards itself)
    live_card = httpx.post(session.url, data={"card_number": "4111 1111 1111 1111", "exp": "12 / 34", "cvc": "123"},
                           timeout=10)
    assert "non test (live) card" in live_card.text
    paid = httpx.post(session.url, data={"card_number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123"},
                      timeout=10, follow_redirects=False)
    assert paid.status_code == 303 and paid.headers["location"] == f"https://example.com/ok?s={session.id}"
    dump = json.dumps([knob(server, "GET", "events"), knob(server, "GET", "requests"),
                       client.v1.checkout.sessions.retrieve(session.id).to_dict()])
    for number in ("4242424242424242", "4000000000000002", "4111111111111111"):  # PCI-3: brand and last four only
        assert number not in dump and " ".join(number[i:i + 4] for i in range(0, 16, 4)) not in dump



def test_the_hosted_page_speaks_the_sessions_locale_or_with_auto_the_browsers(standin):
    """Stripe Checkout's `locale` (issue 23): kept on the session as given, the page in it; "auto" or none: the
    browser's language; a locale Stripe does not know is refused at creation (400 on `locale`, nothing made).
    Mutations tried: page.language() ignoring the session's locale (the Spanish session's page came in English for
    an English browser); the locale check removed from create_session ("xx" was accepted)."""
    _, client, _ = standin
    spanish = client.v1.checkout.sessions.create(params=session_params(locale="es"))
    assert spanish.locale == "es" and client.v1.checkout.sessions.retrieve(spanish.id).locale == "es"
    page = httpx.get(spanish.url, headers={"Accept-Language": "en-US"}, timeout=10)
    assert '<html lang="es">' in page.text and "Número de tarjeta" in page.text and "Pagar $25.00" in page.text
    assert "Card number" not in page.text
    declined = httpx.post(spanish.url, data={"card_number": "4000 0000 0000 0002", "exp": "12 / 34", "cvc": "123"},
                          headers={"Accept-Language": "en-US"}, timeout=10)
    assert declined.status_code == 402 and "Su tarjeta fue rechazada." in declined.text
    bad_expiry = httpx.post(spanish.url, data={"card_number": "4242 4242 4242 4242", "exp": "01 / 20", "cvc": "123"},
                            timeout=10)
    assert "La fecha de vencimiento de su tarjeta" in bad_expiry.text

    latin = client.v1.checkout.sessions.create(params=session_params(locale="es-419"))
    assert "Número de tarjeta" in httpx.get(latin.url, timeout=10).text

    english = client.v1.checkout.sessions.create(params=session_params(locale="en"))
    assert "Card number" in httpx.get(english.url, headers={"Accept-Language": "es-US,es"}, timeout=10).text

    auto = client.v1.checkout.sessions.create(params=session_params(locale="auto"))
    unset = client.v1.checkout.sessions.create(params=session_params())
    assert unset.locale is None
    for session in (auto, unset):
        assert "Número de tarjeta" in httpx.get(session.url, headers={"Accept-Language": "es-MX,es;q=0.9"},
                                                timeout=10).text
        assert "Card number" in httpx.get(session.url, headers={"Accept-Language": "fr-FR"}, timeout=10).text
        assert "Card number" in httpx.get(session.url, timeout=10).text

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params=session_params(locale="xx"))
    assert refused.value.param == "locale" and refused.value.http_status == 400


# --- the state file: a restart forgets nothing (issue 21) ------------------------------------------------------


def _start(state_path: Path | None, port: int | None = None,
           hook: ServerThread | None = None) -> tuple[ServerThread, stripe.StripeClient]:
    server = ServerThread(create_app(webhook_url=f"{hook.url}/hook" if hook else None, webhook_secret=SECRET,
                                     state_path=state_path), port=port).start()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url},
                                 http_client=stripe.RequestsClient(timeout=5), max_network_retries=0)
    return server, client


def test_PCI_3_the_state_file_keeps_no_idempotency_key_as_sent(tmp_path):
    """A client's idempotency key is kept only as a digest: a CI run once failed the PCI-3 scan because an SDK
    UUID key, kept as sent, held a Luhn-valid digit run. Mutation tried: the key kept after the API key's digest,
    as before -> the card-shaped key below was in the file."""
    from tests.sensitive_scan import scan_sqlite

    state = tmp_path / "var" / "stripe-standin.db"
    server, client = _start(state)
    try:
        first = client.v1.customers.create(options={"idempotency_key": "4242-4242-4242-4242"})
    finally:
        server.stop()
    assert scan_sqlite(state) == []
    server, client = _start(state, port=server.port)
    try:  # the digest still finds the result after a restart
        assert client.v1.customers.create(options={"idempotency_key": "4242-4242-4242-4242"}).id == first.id
    finally:
        server.stop()


def test_a_restarted_stand_in_has_every_object_and_idempotent_result_from_its_state_file(tmp_path):
    receiver = Receiver()
    hook = ServerThread(receiver.app).start()
    state = tmp_path / "var" / "stripe-standin.db"
    server, client = _start(state, hook=hook)
    try:
        session = paid_plan_session(server, client)
        intent = client.v1.payment_intents.retrieve(session.payment_intent)
        refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500},
                                          options={"idempotency_key": "refund-1"})
        dispute = knob(server, "POST", f"charges/{intent.latest_charge}/dispute", {"reason": "fraudulent"})
        assert knob(server, "GET", "webhooks/idle")["idle"]
        before = {"session": session.to_dict(), "intent": intent.to_dict(), "refund": refund.to_dict(),
                  "charge": client.v1.charges.retrieve(intent.latest_charge).to_dict(),
                  "method": client.v1.payment_methods.retrieve(intent.payment_method).to_dict(),
                  "customer": client.v1.customers.retrieve(session.customer).to_dict()}
    finally:
        server.stop()
    assert state.stat().st_mode & 0o777 == 0o600 and state.parent.stat().st_mode & 0o777 == 0o700
    raw = state.read_bytes()
    assert b"4242424242424242" not in raw and b"4242 4242 4242 4242" not in raw  # PCI-3: last four only

    server, client = _start(state, port=server.port, hook=hook)
    try:
        after = {"session": client.v1.checkout.sessions.retrieve(session.id).to_dict(),
                 "intent": client.v1.payment_intents.retrieve(intent.id).to_dict(),
                 "refund": client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500},
                                                    options={"idempotency_key": "refund-1"}).to_dict(),
                 "charge": client.v1.charges.retrieve(intent.latest_charge).to_dict(),
                 "method": client.v1.payment_methods.retrieve(intent.payment_method).to_dict(),
                 "customer": client.v1.customers.retrieve(session.customer).to_dict()}
        assert after == before
        assert after["charge"]["disputed"] and after["charge"]["amount_refunded"] == 500 and dispute["id"]
        [replay] = [r for r in knob(server, "GET", "requests")["requests"] if r["idempotency_key"] == "refund-1"]
        assert replay["replayed"]  # the same key after the restart: Stripe's first answer, no second refund
        # The saved card is still the customer's: the next plan payment is charged off-session.
        charged = client.v1.payment_intents.create(params={
            "amount": 2500, "currency": "usd", "customer": session.customer, "payment_method": intent.payment_method,
            "off_session": True, "confirm": True})
        assert charged.status == "succeeded"
        assert knob(server, "GET", "events")["events"][0]["type"] == "payment_intent.created"  # events: new only
    finally:
        server.stop()

    elsewhere, other = _start(tmp_path / "other.db")  # another file, or none: another, empty test account
    memory, fresh = _start(None)
    try:
        for client_ in (other, fresh):
            with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
                client_.v1.customers.retrieve(session.customer)
    finally:
        elsewhere.stop()
        memory.stop()
        hook.stop()


def test_a_file_that_is_not_a_stand_in_state_file_is_refused_at_start(tmp_path):
    from stripe_standin import store

    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all " * 100)
    with pytest.raises(store.StoreError, match="not a Stripe stand-in state file"):
        create_app(state_path=junk)
    newer = tmp_path / "newer.db"
    store.Store(newer).close()
    import sqlite3

    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    with pytest.raises(store.StoreError, match="format 99"):
        create_app(state_path=newer)


def test_make_run_gives_the_stand_in_process_its_state_file_and_it_survives_a_restart(tmp_path, monkeypatch):
    import signal
    import subprocess
    import time

    from bot.cli.run import standin_state_path
    from bot.config import PROJECT_ROOT
    from bot.stack import Stack, StackConfig
    from stripe_standin.testing import free_port

    assert standin_state_path() == PROJECT_ROOT / "var" / "stripe-standin.db"
    monkeypatch.setenv("STRIPE_STANDIN_STATE", str(tmp_path / "elsewhere.db"))
    assert standin_state_path() == tmp_path / "elsewhere.db"
    state = tmp_path / "stripe-standin.db"
    base = {"database_url": "sqlite://", "tracker_store_url": "sqlite://", "model": tmp_path / "m",
            "log_dir": tmp_path / "log", "stripe_standin": True, "stripe_port": free_port()}
    assert "--state" not in Stack(StackConfig(**base))._commands()["stripe"][0]  # tests, bench: memory only
    argv, health = Stack(StackConfig(**base, stripe_state=state))._commands()["stripe"]
    assert argv[argv.index("--state") + 1] == str(state)

    def run() -> subprocess.Popen:
        process = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(health, timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.1)
        process.kill()
        raise AssertionError(process.stderr.read().decode())

    url = health.removesuffix("/healthz")
    client = stripe.StripeClient("sk_test_settle_standin", base_addresses={"api": url}, max_network_retries=0)
    process = run()
    try:
        customer = client.v1.customers.create(params={"metadata": {"debtor_id": "dbt_1"}})
    finally:
        process.send_signal(signal.SIGTERM)  # `make run` stopped with Ctrl-C
        process.wait(timeout=30)
    process = run()
    try:
        assert client.v1.customers.retrieve(customer.id).metadata["debtor_id"] == "dbt_1"
        second = client.v1.customers.create(params={"metadata": {"debtor_id": "dbt_2"}})
    finally:
        process.send_signal(signal.SIGKILL)  # a crash: what was answered before it is kept all the same
        process.wait(timeout=30)
    process = run()
    try:
        assert [client.v1.customers.retrieve(c.id).id for c in (customer, second)] == [customer.id, second.id]
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- the hosted page as a payer first sees it ---------------------------------------------------------------------


def _input(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


def test_the_page_fills_in_only_the_email_stripe_already_has_and_never_the_name(standin):
    server, client, receiver = standin
    plain = httpx.get(client.v1.checkout.sessions.create(params=session_params()).url, timeout=10).text
    assert 'value=""' in _input(plain, "email") and "readonly" not in _input(plain, "email")
    customer = client.v1.customers.create(params={"email": "robin@example.com", "metadata": {"debtor_id": "d"}})
    field = {"key": "autopay", "type": "dropdown", "label": {"type": "custom", "custom": "Later payments"},
             "dropdown": {"options": [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}]}}
    known = client.v1.checkout.sessions.create(params=session_params(customer=customer.id, custom_fields=[field]))
    html = httpx.get(known.url, timeout=10).text
    email = _input(html, "email")
    assert 'value="robin@example.com"' in email and "readonly" in email  # Checkout: prefilled, not editable
    assert 'value=""' in _input(html, "name") and "field_autopay" not in _input(html, "name")
    given = client.v1.checkout.sessions.create(params=session_params(customer_email="sam@example.com"))
    assert 'value="sam@example.com"' in _input(httpx.get(given.url, timeout=10).text, "email")
    paid = httpx.post(known.url, data={"email": "other@example.com", "card_number": "4242 4242 4242 4242",
                                       "exp": "12 / 34", "cvc": "123", "field_autopay": "no"},
                      timeout=10, follow_redirects=False)
    assert paid.status_code == 303
    assert client.v1.checkout.sessions.retrieve(known.id).customer_details.email == "robin@example.com"
    with pytest.raises(stripe.InvalidRequestError) as unlabelled:  # Stripe requires the label a person reads
        client.v1.checkout.sessions.create(params=session_params(custom_fields=[{**field, "label": {}}]))
    assert unlabelled.value.param == "custom_fields[0][label][custom]"
