"""The stand-in's ASGI app: the subset of Stripe's API that Settle uses, the hosted checkout page, and test knobs.

API (form-encoded like Stripe, `Authorization: Bearer sk_test_...`, Stripe's JSON shapes and error format):
  POST /v1/customers, GET /v1/customers/{id}, GET /v1/customers/{id}/payment_methods
  GET /v1/payment_methods/{id}, POST /v1/payment_methods/{id}/detach
  POST /v1/checkout/sessions, GET /v1/checkout/sessions/{id}, POST /v1/checkout/sessions/{id}/expire
  POST /v1/payment_intents (off_session + confirm charge a saved card), GET /v1/payment_intents/{id}
  GET /v1/charges/{id}, POST /v1/refunds, GET /v1/setup_intents/{id}
Idempotency like Stripe's: a POST's Idempotency-Key with the same parameters gets the first response again
(`Idempotent-Replayed: true`); with other parameters, a 400 idempotency_error. Requests with one key run one at a
time. A result is kept once the request began executing; a parameter error is not kept.

Hosted page: GET/POST /checkout/{id}, POST /checkout/{id}/authenticate (the 3-D Secure test step).

State: in memory, and with `state_path` (`--state`; `make run` uses var/stripe-standin.db) also in a SQLite file
(store.py), saved after every request and loaded at start: customers, payment methods, sessions, intents, charges,
refunds, disputes, setup intents and idempotency results (for 24 hours, like Stripe's) outlive a restart, so the
customer and card ids Settle's database remembers stay good. Webhook events, the request log and faults do not.

Test knobs (not Stripe's; loopback tools for the test suite), JSON in and out:
  POST /_standin/faults {"method", "path" (prefix), "mode": "error"|"hang", "status": 500, "seconds", "times",
                         "when": "before"|"after"}: the next matching calls fail or hang. "before" fails before
                         anything happens; "after" does the work (and keeps it for the key), then fails or hangs,
                         like a timeout where Stripe did act. DELETE /_standin/faults clears them.
  GET /_standin/requests          every API call: method, path, idempotency key, status, replayed
  GET /_standin/events            every event and its delivery attempts
  POST /_standin/events           {"type", "object"}: send a hand-made event (signed like the others)
  POST /_standin/webhooks/hold    keep events back; POST /_standin/webhooks/release {"order": as_is|reverse|shuffle}
  POST /_standin/webhooks/redeliver {"event_id", "times", "concurrent"}
  POST /_standin/webhooks/endpoint {"url", "secret"}; GET /_standin/webhooks/idle waits until all are sent
  POST /_standin/checkout/{id}/pay {"card", "exp", "cvc", "consent", "fields": {key: value},
                                  "authenticate": "complete"|"fail"}:
                                  what a person does on the page, without a browser
  POST /_standin/payment_methods/{id}/behaviour {"behaviour": "succeed"|"decline:<code>"|"authenticate_always"}
  POST /_standin/charges/{id}/dispute {"reason"}: the cardholder's bank opens a chargeback
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from stripe_standin import forms, page
from stripe_standin.state import ApiError, State, as_bool, not_found
from stripe_standin.store import Store
from stripe_standin.webhooks import Deliverer

IDEMPOTENCY_SECONDS = 24 * 3600  # Stripe removes a key's result once it is at least 24 hours old

Handler = Callable[[State, dict[str, Any], re.Match[str], "Call"], dict[str, Any]]


@dataclass
class Call:
    key: str | None
    base_url: str


@dataclass
class Fault:
    method: str
    path: str
    mode: str  # error | hang
    status: int = 500
    seconds: float = 0.0
    times: int = 1
    when: str = "before"  # before | after


@dataclass
class _Saved:
    fingerprint: str
    method: str
    path: str
    status: int
    body: dict[str, Any]
    at: float = 0.0  # when it was kept (time.time())


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"^/v1/customers$"), lambda s, p, m, c: s.create_customer(p, c.key)),
    ("GET", re.compile(r"^/v1/customers/(?P<id>[^/]+)$"), lambda s, p, m, c: s.customer(m["id"])),
    ("GET", re.compile(r"^/v1/customers/(?P<id>[^/]+)/payment_methods$"),
     lambda s, p, m, c: s.customer_payment_methods(m["id"])),
    ("GET", re.compile(r"^/v1/payment_methods/(?P<id>[^/]+)$"), lambda s, p, m, c: s.payment_method(m["id"])),
    ("POST", re.compile(r"^/v1/payment_methods/(?P<id>[^/]+)/detach$"),
     lambda s, p, m, c: s.detach_payment_method(m["id"], c.key)),
    ("POST", re.compile(r"^/v1/checkout/sessions$"), lambda s, p, m, c: s.create_session(p, c.key, c.base_url)),
    ("GET", re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)$"), lambda s, p, m, c: s.session(m["id"])),
    ("POST", re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)/expire$"),
     lambda s, p, m, c: s.expire_session(m["id"], c.key)),
    ("POST", re.compile(r"^/v1/payment_intents$"), lambda s, p, m, c: s.create_intent(p, c.key)),
    ("GET", re.compile(r"^/v1/payment_intents/(?P<id>[^/]+)$"), lambda s, p, m, c: s.intent(m["id"])),
    ("GET", re.compile(r"^/v1/charges/(?P<id>[^/]+)$"), lambda s, p, m, c: s.charge(m["id"])),
    ("POST", re.compile(r"^/v1/refunds$"), lambda s, p, m, c: s.create_refund(p, c.key)),
    ("GET", re.compile(r"^/v1/setup_intents/(?P<id>[^/]+)$"), lambda s, p, m, c: _setup_intent(s, m["id"])),
]


def _setup_intent(state: State, setup_id: str) -> dict[str, Any]:
    if setup_id not in state.setup_intents:
        raise not_found("setup_intent", setup_id)
    return state.setup_intents[setup_id]


def _error(status: int, type_: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, **extra}}, status_code=status,
                        headers={"Request-Id": "req_standin"})


def _key_scope(api_key: str, idempotency_key: str) -> str:
    """Idempotency keys are per API key. The state file keeps a digest of both, never either: a client's key is
    whatever it sent (the Stripe SDK's are UUIDs, whose digit groups made a Luhn-valid "card number" for the PCI-3
    scan about once in a few thousand), and base32 has no long digit runs."""
    digest = hashlib.sha256(f"{api_key}\0{idempotency_key}".encode()).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")


class StandIn:
    """One stand-in server: its state, its faults, its idempotency records and its request log."""

    def __init__(self, *, webhook_url: str | None, webhook_secret: str | None, api_key: str | None = None,
                 public_url: str | None = None, state_path: str | Path | None = None) -> None:
        self.deliverer = Deliverer(url=webhook_url, secret=webhook_secret)
        self.state = State(self.deliverer)
        self.api_key = api_key
        self.public_url = public_url.rstrip("/") if public_url else None
        self.faults: list[Fault] = []
        self.saved: dict[str, _Saved] = {}
        self.key_locks: dict[str, asyncio.Lock] = {}
        self.requests: list[dict[str, Any]] = []
        self.store = Store(state_path) if state_path else None
        if self.store is not None:
            kept = self.store.load()
            self.state.restore(kept)
            oldest = time.time() - IDEMPOTENCY_SECONDS
            self.saved = {k: _Saved(**v) for k, v in kept.get("idempotency", {}).items() if v["at"] >= oldest}

    def persist(self) -> None:
        """With a state file: write what this request changed (nothing, if it changed nothing)."""
        if self.store is not None:
            self.store.save({**self.state.collections(), "idempotency": {k: asdict(v) for k, v in self.saved.items()}})

    # --- the API -----------------------------------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        method, path = request.method, request.url.path
        authorization = request.headers.get("authorization", "")
        key = authorization.removeprefix("Bearer ").strip()
        if not key.startswith("sk_test_") or (self.api_key and key != self.api_key):
            return _error(401, "invalid_request_error", "Invalid API Key provided: the stand-in takes test keys "
                                                        "(sk_test_...).")
        route = next(((h, m) for verb, pattern, h in ROUTES if verb == method and (m := pattern.match(path))), None)
        if route is None:
            return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")
        handler, match = route
        if method == "POST":
            params = forms.decode(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        else:
            params = forms.decode(request.query_params.multi_items())
        idempotency_key = request.headers.get("idempotency-key") if method == "POST" else None
        record: dict[str, Any] = {"method": method, "path": path, "idempotency_key": idempotency_key,
                                  "status": None, "replayed": False, "fault": None}
        self.requests.append(record)
        fault = self._take_fault(method, path)
        if fault is not None and fault.when == "before":
            record["fault"] = fault.mode
            if fault.mode == "hang":
                await asyncio.sleep(fault.seconds)
            else:
                record["status"] = fault.status
                return _error(fault.status, "api_error", "An unknown error occurred (stand-in fault).")
        call = Call(idempotency_key, self.public_url or str(request.base_url))
        headers = {"Request-Id": "req_standin"}
        if idempotency_key is None:
            status, body = self._run(handler, params, match, call)
        else:
            headers["Idempotency-Key"] = idempotency_key
            scope = _key_scope(key, idempotency_key)
            lock = self.key_locks.setdefault(scope, asyncio.Lock())
            async with lock:  # one request per key at a time; the later one sees the first one's result
                saved = self.saved.get(scope)
                fingerprint = forms.fingerprint(params)
                if saved is not None and (saved.fingerprint != fingerprint or saved.path != path):
                    record["status"] = 400
                    return _error(400, "idempotency_error", "Keys for idempotent requests can only be used with the "
                                  "same parameters they were first used with. Try using a key other than "
                                  f"'{idempotency_key}' if you meant to execute a different request.")
                if saved is not None:
                    status, body = saved.status, copy.deepcopy(saved.body)
                    record["replayed"] = True
                    headers["Idempotent-Replayed"] = "true"
                else:
                    status, body = self._run(handler, params, match, call)
                    if status < 400 or body.pop("_saved", True):
                        # A copy: a replay answers what the first call answered, not the object as it is now.
                        self.saved[scope] = _Saved(fingerprint, method, path, status, copy.deepcopy(body),
                                                   at=time.time())
        body.pop("_saved", None)
        response = JSONResponse(body, status_code=status, headers=headers)  # serialised now, as it is now
        record["status"] = status
        self.persist()  # before answering (and before an "after" fault): what was done is kept
        if fault is not None and fault.when == "after":
            record["fault"] = fault.mode
            if fault.mode == "hang":
                await asyncio.sleep(fault.seconds)  # the work is done and kept; the caller has likely given up
            else:
                record["status"] = fault.status
                return _error(fault.status, "api_error", "An unknown error occurred (stand-in fault).")
        return response

    def _run(self, handler: Handler, params: dict[str, Any], match: re.Match[str],
             call: Call) -> tuple[int, dict[str, Any]]:
        try:
            return 200, handler(self.state, params, match, call)
        except ApiError as exc:
            return exc.status, {**exc.body, "_saved": exc.saved}

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.startswith(fault.path) and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- the hosted page ---------------------------------------------------------------------------------------

    async def checkout_page(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        accept = request.headers.get("accept-language")
        if session_id not in self.state.sessions:
            return HTMLResponse(page.not_found(page.language(None, accept)), status_code=404)
        session = self.state.session(session_id)
        lang = page.language(session, accept)  # the session's locale, or with "auto" the browser's
        if session["status"] != "open":
            return HTMLResponse(page.closed(session, lang))
        private = self.state.session_private[session_id]
        if request.method == "GET":
            if private.get("pending_pm"):
                return HTMLResponse(page.challenge(session, lang))
            known = self.state.prefilled_email(session)
            return HTMLResponse(page.checkout_form(session, private["product"], email=known,
                                                   email_locked=known is not None, lang=lang))
        form = await request.form()
        outcome = self.state.pay_session(
            session_id, number=str(form.get("card_number", "")), exp=str(form.get("exp", "")),
            cvc=str(form.get("cvc", "")).strip(), name=str(form.get("name", "")).strip() or None,
            postal_code=str(form.get("postal", "")).strip() or None, email=str(form.get("email", "")).strip() or None,
            consent=form.get("consent") == "yes",
            fields={k.removeprefix("field_"): str(v) for k, v in form.items() if k.startswith("field_")})
        return self._after_attempt(session, private, outcome, lang)

    async def authenticate_page(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        accept = request.headers.get("accept-language")
        if session_id not in self.state.sessions:
            return HTMLResponse(page.not_found(page.language(None, accept)), status_code=404)
        form = await request.form()
        outcome = self.state.authenticate(session_id, form.get("result") == "complete")
        session = self.state.sessions[session_id]
        return self._after_attempt(session, self.state.session_private[session_id], outcome,
                                   page.language(session, accept))

    def _after_attempt(self, session: dict[str, Any], private: dict[str, Any], outcome: Any,
                       lang: str = "en") -> Response:
        if outcome.kind == "succeeded":
            return RedirectResponse(outcome.redirect, status_code=303)
        if outcome.kind == "requires_action":
            return HTMLResponse(page.challenge(session, lang))
        if session["status"] != "open":
            return HTMLResponse(page.closed(session, lang))
        known = self.state.prefilled_email(session)
        return HTMLResponse(page.checkout_form(session, private["product"], outcome.message,
                                               email=known or private.get("email"), name=private.get("name"),
                                               email_locked=known is not None, lang=lang),
                            status_code=402 if outcome.kind == "declined" else 400)

    # --- test knobs --------------------------------------------------------------------------------------------

    async def control(self, request: Request) -> Response:
        action = request.path_params["action"]
        body: dict[str, Any] = {}
        if request.method in ("POST", "PUT") and (await request.body()):
            body = await request.json()
        state, deliverer = self.state, self.deliverer
        try:
            if action == "faults" and request.method == "POST":
                self.faults.append(Fault(method=body.get("method", "POST").upper(), path=body["path"],
                                         mode=body.get("mode", "error"), status=int(body.get("status", 500)),
                                         seconds=float(body.get("seconds", 0)), times=int(body.get("times", 1)),
                                         when=body.get("when", "after" if body.get("mode") == "hang" else "before")))
                return JSONResponse({"faults": [asdict(f) for f in self.faults]})
            if action == "faults" and request.method == "DELETE":
                self.faults.clear()
                return JSONResponse({"faults": []})
            if action == "requests":
                return JSONResponse({"requests": self.requests})
            if action == "events" and request.method == "GET":
                return JSONResponse({"events": [
                    {"id": e["id"], "type": e["type"], "object_id": e["data"]["object"].get("id"),
                     "deliveries": [asdict(d) for d in deliverer.deliveries if d.event_id == e["id"]]}
                    for e in deliverer.events.values()]})
            if action == "events" and request.method == "POST":
                return JSONResponse(state.emit(body["type"], body["object"]))
            if action == "webhooks/hold":
                deliverer.hold()
                return JSONResponse({"holding": True})
            if action == "webhooks/release":
                return JSONResponse({"released": deliverer.release(body.get("order", "as_is"))})
            if action == "webhooks/redeliver":
                if body["event_id"] not in deliverer.events:
                    return _error(404, "invalid_request_error", "no such event")
                deliverer.redeliver(body["event_id"], int(body.get("times", 1)), bool(body.get("concurrent")))
                return JSONResponse({"queued": int(body.get("times", 1))})
            if action == "webhooks/endpoint":
                deliverer.url, deliverer.secret = body.get("url"), body.get("secret")
                return JSONResponse({"url": deliverer.url})
            if action == "webhooks/idle":
                idle = await deliverer.idle(float(request.query_params.get("timeout", "30")))
                return JSONResponse({"idle": idle}, status_code=200 if idle else 504)
            if action.startswith("checkout/") and action.endswith("/pay"):
                session_id = action.split("/")[1]
                outcome = state.pay_session(session_id, number=str(body.get("card", "")),
                                            exp=str(body.get("exp", "12 / 34")), cvc=str(body.get("cvc", "123")),
                                            name=body.get("name"), postal_code=body.get("postal"),
                                            email=body.get("email"), consent=as_bool(body.get("consent", False)),
                                            fields=body.get("fields") or {})
                if outcome.kind == "requires_action" and body.get("authenticate"):
                    outcome = state.authenticate(session_id, body["authenticate"] == "complete")
                return JSONResponse(asdict(outcome))
            if action.startswith("payment_methods/") and action.endswith("/behaviour"):
                return JSONResponse(state.set_behaviour(action.split("/")[1], body["behaviour"]))
            if action.startswith("charges/") and action.endswith("/dispute"):
                return JSONResponse(state.dispute_charge(action.split("/")[1], body.get("reason", "fraudulent")))
        except ApiError as exc:
            return JSONResponse(exc.body, status_code=exc.status)
        return _error(404, "invalid_request_error", f"no stand-in control {request.method} {action}")

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})


def create_app(*, webhook_url: str | None = None, webhook_secret: str | None = None, api_key: str | None = None,
               public_url: str | None = None, state_path: str | Path | None = None) -> Starlette:
    """The stand-in. `state_path`: the SQLite file its objects are kept in and loaded from (made if missing);
    None keeps them in memory only (a fresh test account each time, as the tests' in-process stand-ins use)."""
    standin = StandIn(webhook_url=webhook_url, webhook_secret=webhook_secret, api_key=api_key,
                      public_url=public_url, state_path=state_path)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await standin.deliverer.start()
        yield
        await standin.deliverer.stop()
        if standin.store is not None:
            standin.store.close()

    def persisting(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """The page and the knobs change objects too (a payment, an expiry seen on the way): kept before answering.
        The API saves inside `api`, before its "after" faults."""

        async def run(request: Request) -> Response:
            try:
                return await endpoint(request)
            finally:
                standin.persist()

        return run

    app = Starlette(lifespan=lifespan, routes=[
        Route("/healthz", standin.health),
        Route("/v1/{path:path}", standin.api, methods=["GET", "POST", "DELETE"]),
        Route("/checkout/{id}", persisting(standin.checkout_page), methods=["GET", "POST"]),
        Route("/checkout/{id}/authenticate", persisting(standin.authenticate_page), methods=["POST"]),
        Route("/_standin/{action:path}", persisting(standin.control), methods=["GET", "POST", "DELETE"]),
    ])
    app.state.standin = standin
    return app
