"""Issue 18: nothing unauthenticated reaches a conversation (README "Security").

Who may call the REST channel in each mode, the rate limits (per IP, per conversation, per account for identity
checks) in memory and in Redis, and the Rasa token helpers. The real stack's side (Rasa's channel refusing a
caller without the token, the token absent from Rasa's command line) is tests/integration/test_access_stack.py.
Each test's docstring names the mutation it was seen to catch."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, Message, VerificationAttempt
from bot.gateway.app import create_app
from bot.identity import FAILED, THROTTLED, VERIFIED, AttemptLimit, Factors, IdentityService
from rasa_extensions import auth
from tests.conftest import add_debtor

WEBHOOK = "/webhooks/rest/webhook"
TOKEN = "rest-" + secrets.token_urlsafe(24)
REDIS_URL = os.environ.get("SETTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(url: str, **kwargs) -> Settings:
    # Rasa is down: a message that gets through is stored and answered with the "trouble" reply (200).
    return Settings(database_url=url, rasa_url=f"http://127.0.0.1:{_closed_port()}", **kwargs)


def _client(settings: Settings, host: str = "127.0.0.1") -> TestClient:
    return TestClient(create_app(settings), client=(host, 50000))


def _say(client: TestClient, sender: str = "me", token: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(WEBHOOK, json={"sender": sender, "message": "what do I owe?"}, headers=headers, **kwargs)


def _stored(engine) -> int:
    with session_scope(engine) as session:
        return len(session.scalars(select(Message.id)).all())


# --- the REST channel: who may call it -------------------------------------------------------------------------

def test_production_mode_without_a_token_has_no_rest_channel(sqlite_engine, sqlite_url):
    """Production (SETTLE_MODE unset: the dataclass default and from_env's) with no REST_API_TOKEN: 404 for everyone,
    loopback included, and nothing stored. Mutation tried: `require_access` without its first check -> 200 and a
    stored message, this test fails."""
    with _client(_settings(sqlite_url)) as client:
        assert _say(client).status_code == 404
        assert _say(client, token="anything").status_code == 404
    assert _stored(sqlite_engine) == 0


def test_settle_mode_from_the_environment_defaults_to_production(monkeypatch):
    """Unset or unknown SETTLE_MODE is production; only "embedded" turns the demo on. Mutation tried: `_mode`
    defaulting to EMBEDDED -> the first assertion fails."""
    from bot import config

    assert config._mode(None) == config._mode("") == config._mode("demo") == "production"
    assert config._mode(" Embedded ") == "embedded"
    monkeypatch.delenv("SETTLE_MODE", raising=False)
    monkeypatch.setenv("REST_API_TOKEN", "")
    assert not Settings.from_env().embedded


def test_production_mode_needs_the_bearer_token_on_every_call(sqlite_engine, sqlite_url):
    """With REST_API_TOKEN: no header, another token, another scheme -> 401 with WWW-Authenticate, nothing stored,
    even with a body that would not validate (auth runs first); the token -> 200. From any address: the token is
    the credential. Mutation tried: `bearer_ok` returning True for any Bearer header -> the wrong-token call gets
    200, this test fails."""
    with _client(_settings(sqlite_url, rest_api_token=TOKEN), host="203.0.113.7") as client:
        for response in (_say(client), _say(client, token=TOKEN[:-1]), _say(client, token=TOKEN + "x"),
                         client.post(WEBHOOK, json={"sender": "me", "message": "hi"},
                                     headers={"Authorization": f"Basic {TOKEN}"}),
                         client.post(WEBHOOK, json={"message": "no sender"})):
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert _stored(sqlite_engine) == 0
        ok = _say(client, token=TOKEN)
        assert ok.status_code == 200 and ok.json()[0]["recipient_id"] == "me"
    assert _stored(sqlite_engine) == 2  # the message and the "trouble" reply


def test_a_token_file_works_like_the_variable(monkeypatch, tmp_path):
    """REST_API_TOKEN_FILE (a secret store's mount) is read when REST_API_TOKEN is empty; RASA_TOKEN_FILE too."""
    (tmp_path / "rest").write_text(TOKEN + "\n")
    (tmp_path / "rasa").write_text("rasa-secret\n")
    monkeypatch.setenv("REST_API_TOKEN", "")
    monkeypatch.setenv("REST_API_TOKEN_FILE", str(tmp_path / "rest"))
    monkeypatch.setenv("RASA_TOKEN", "")
    monkeypatch.setenv("RASA_TOKEN_FILE", str(tmp_path / "rasa"))
    settings = Settings.from_env()
    assert (settings.rest_api_token, settings.rasa_token) == (TOKEN, "rasa-secret")
    assert auth.api_token() == "rasa-secret"  # what Rasa's side reads (rasa_extensions/auth.py)


def test_the_embedded_demo_answers_loopback_clients_only(sqlite_engine, sqlite_url):
    """Embedded mode: 127.0.0.1 and ::1 get in without a token, anything else gets 403 and nothing is stored.
    Mutation tried: dropping the loopback check -> the 203.0.113.7 call gets 200, this test fails."""
    settings = _settings(sqlite_url, mode="embedded")
    for host in ("203.0.113.7", "10.0.0.2", "testclient"):
        with _client(settings, host=host) as client:
            assert _say(client).status_code == 403
    assert _stored(sqlite_engine) == 0
    for host in ("127.0.0.1", "::1"):
        with _client(settings, host=host) as client:
            assert _say(client, sender=f"local-{host}").status_code == 200


def test_the_embedded_demo_with_a_token_needs_it_too(sqlite_url):
    with _client(_settings(sqlite_url, mode="embedded", rest_api_token=TOKEN)) as client:
        assert _say(client).status_code == 401
        assert _say(client, token=TOKEN).status_code == 200


# --- rate limits -----------------------------------------------------------------------------------------------

def test_every_route_is_limited_per_ip_with_429_and_retry_after(sqlite_url):
    """Per IP, on any route (here the widget's script and the demo page): the 4th request in the window gets 429
    with Retry-After and a JSON body, or HTML when the client asked for HTML; another IP is not affected. The
    probes are never limited (README "Operations": a liveness probe must not fail with the limiter). Mutation
    tried: PerIpLimit passing every request on (`if refusal is None or True`) -> no 429, this test fails; the
    probe paths not exempted -> /healthz got 429. Issue 23: the page and the JSON speak the browser's language
    (Accept-Language); mutation tried: PerIpLimit not passing it on (the Spanish browser read English, failed)."""
    app = create_app(_settings(sqlite_url, rate_limit_per_ip="3/minute"))
    other = TestClient(app, client=("198.51.100.2", 50000))  # the same app, another address
    with TestClient(app, client=("198.51.100.1", 50000)) as client:
        assert [client.get("/widget.js").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/widget.js")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["error"] == "rate_limited" and refused.json()["retry_after"] >= 1
        page = client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 429 and "Too many requests" in page.text
        assert page.headers["content-type"].startswith("text/html")
        spanish = client.get("/", headers={"Accept": "text/html", "Accept-Language": "es-MX,es;q=0.9"})
        assert spanish.status_code == 429 and '<html lang="es">' in spanish.text
        assert "Hay muchas solicitudes. Pruebe otra vez en" in spanish.text and "Too many" not in spanish.text
        assert "muchas solicitudes" in client.get("/widget.js", headers={"Accept-Language": "es"}).json()["detail"]
        assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
        assert other.get("/widget.js").status_code == 200


def test_a_conversation_is_limited_whatever_ip_it_comes_from(sqlite_engine, sqlite_url):
    """Per conversation (REST sender): the 3rd message of one sender in the window gets 429 with Retry-After and is
    not stored; another sender from the same client still gets through. Mutation tried: the REST channel not
    calling `rate_limiter.conversation` -> the 3rd message gets 200, this test fails."""
    settings = _settings(sqlite_url, rest_api_token=TOKEN, rate_limit_per_conversation="2/minute")
    with _client(settings, host="203.0.113.9") as client:
        assert [_say(client, "one", TOKEN).status_code for _ in range(2)] == [200, 200]
        before = _stored(sqlite_engine)
        refused = _say(client, "one", TOKEN)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert _stored(sqlite_engine) == before
        assert _say(client, "two", TOKEN).status_code == 200


def test_the_demo_phone_counts_against_the_numbers_conversation(sqlite_url):
    """The demo phone's send is a message of that number's SMS conversation: limited like one."""
    settings = _settings(sqlite_url, mode="embedded", rate_limit_per_conversation="1/minute")
    with _client(settings) as client:
        send = {"json": {"number": "+15555550101", "text": "hi"}, "headers": {"X-Demo-Phone": "1"}}
        assert client.post("/phone/api/send", **send).status_code == 200
        refused = client.post("/phone/api/send", **send)
        assert refused.status_code == 429 and "retry-after" in refused.headers


def test_limits_are_shared_through_redis_by_every_worker(sqlite_url):
    """With REDIS_URL two gateway workers (two apps) count together: 2 calls on each of two apps with a limit of 3
    per IP -> the 4th is refused. Mutation tried: RateLimiter ignoring redis_url (memory storage always) -> each
    app counts alone and the 4th call gets 200, this test fails."""
    ip = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"  # fresh: no earlier run's counts
    settings = _settings(sqlite_url, rate_limit_per_ip="3/minute", redis_url=REDIS_URL)
    with _client(settings, host=ip) as first, _client(settings, host=ip) as second:
        statuses = [first.get("/widget.js").status_code, second.get("/widget.js").status_code,
                    first.get("/widget.js").status_code, second.get("/widget.js").status_code]
    assert statuses == [200, 200, 200, 429]


# --- identity checks per account -------------------------------------------------------------------------------

def _factors(ref: str, ssn: str = "1234") -> Factors:
    return Factors(dob=date(1979, 3, 14), ssn_last4=ssn, account_ref=ref)


def test_identity_checks_are_limited_per_account_across_conversations(sqlite_engine):
    """Three checks of one account reference from three conversations (a caller making new sender ids), limit 3:
    the 4th, from a 4th conversation with the right details, is THROTTLED, nothing is looked up and no attempt is
    recorded; a reference that does not exist is throttled the same way (no oracle); another account is not
    affected. Mutation tried: `verify` not consulting `self.attempts` -> the 4th check verifies, this test fails."""
    from bot import conversations

    limit = AttemptLimit("3/hour")
    service = IdentityService(attempts=limit)
    with session_scope(sqlite_engine) as session:
        add_debtor(session, account_ref="SET-100001")
        add_debtor(session, account_ref="SET-100002", phone="+15555550102", ssn_last4="9999")
        convs = [conversations.get_or_create(session, "rest", f"caller-{i}").id for i in range(9)]
        results = [service.verify(session, convs[i], _factors("SET-100001", ssn="0000")).status for i in range(3)]
        assert results == [FAILED, FAILED, FAILED]
        rows = len(session.scalars(select(VerificationAttempt.id)).all())
        throttled = service.verify(session, convs[3], _factors("set-100001"))
        assert throttled.status == THROTTLED and throttled.retry_after >= 1 and throttled.debtor_id is None
        assert len(session.scalars(select(VerificationAttempt.id)).all()) == rows  # nothing counted or checked
        assert "identity_rate_limited" in session.scalars(select(AuditEvent.kind)).all()
        assert [service.verify(session, convs[i], _factors("SET-999999")).status for i in (4, 5, 6, 7)] == [
            FAILED, FAILED, FAILED, THROTTLED]
        assert service.verify(session, convs[8], _factors("SET-100002", ssn="9999")).status == VERIFIED


def test_attempt_keys_hold_no_locator_in_clear():
    keys = AttemptLimit.keys(Factors(account_ref="set-100001", phone="+15555550101", full_name="Jordan Rivera"))
    assert len(keys) == 3 and not any("100001" in k or "5555" in k or "jordan" in k.lower() for k in keys)
    assert AttemptLimit.keys(Factors(account_ref="SET-100001")) == AttemptLimit.keys(Factors(account_ref="set-100001"))


def test_the_action_tells_a_throttled_caller_to_wait_without_saying_whether_the_record_exists():
    from actions.verification import RETRY_MESSAGE, THROTTLED_MESSAGE

    assert "{minutes}" in THROTTLED_MESSAGE and THROTTLED_MESSAGE != RETRY_MESSAGE
    for word in ("account", "debt", "exist", "found", "locked"):
        assert word not in THROTTLED_MESSAGE.lower()


# --- Rasa's token (rasa_extensions/auth.py) --------------------------------------------------------------------

def test_the_rasa_token_is_added_inside_the_process_not_taken_from_argv():
    argv = ["rasa", "run", "--model", "m.tar.gz", "--enable-api"]
    assert auth.with_token(argv, "-starts-with-a-dash") == [*argv, "--auth-token=-starts-with-a-dash"]
    assert auth.with_token(argv, "") == argv
    assert auth.with_token(["rasa", "train"], "t") == ["rasa", "train"]
    named = [*argv, "--auth-token=given"]
    assert auth.with_token(named, "t") == named


def test_the_settle_channel_check_needs_the_token_and_fails_closed():
    """Mutation tried: `authorised` returning True when no token is configured -> the last assertion fails."""
    assert auth.authorised("Bearer s3cret", None, "s3cret")
    assert auth.authorised(None, "s3cret", "s3cret")
    assert not auth.authorised(None, None, "s3cret")
    assert not auth.authorised("Bearer s3cre", None, "s3cret")
    assert not auth.authorised("Basic s3cret", None, "s3cret")
    assert not auth.authorised("Bearer ", "", "")  # no token configured: nothing gets in


@pytest.mark.parametrize("mode,loopback_ok", [("embedded", True), ("production", False)])
def test_the_stack_sets_the_mode_and_passes_the_tokens_by_environment(mode, loopback_ok, tmp_path):
    """The Stack names the mode for its processes and gives Rasa its token through the environment only."""
    from bot.stack import Stack, StackConfig

    config = StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=tmp_path / "m",
                         log_dir=tmp_path, mode=mode, rest_api_token="rest-t")
    stack = Stack(config)
    env = stack._env()
    assert (env["SETTLE_MODE"], env["REST_API_TOKEN"], env["RASA_TOKEN"]) == (mode, "rest-t", config.rasa_token)
    for argv, _ in stack._commands().values():
        assert not any(config.rasa_token in arg for arg in argv)
    assert StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=tmp_path / "m",
                       log_dir=tmp_path).settle_mode == "embedded"
    assert StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=tmp_path / "m",
                       log_dir=tmp_path, redis_url="redis://x").settle_mode == "production"


def test_a_widget_conversation_is_limited_per_conversation(sqlite_url):
    """The widget's second message within a 1/minute limit gets a `rate_limited` error frame with retry_after (the
    widget resends after it) and is not stored. Mutation tried: WebChannel._accept_message without the limiter
    call -> the bot answers the second message, this test fails."""
    from tests.test_web_channel import SECRET, _connect, _opening, _say

    settings = _settings(sqlite_url, widget_secret=SECRET, rate_limit_per_conversation="1/minute")
    with _client(settings) as client:
        token = client.post("/widget/session").json()["token"]
        with _connect(client, token) as ws:
            _opening(ws, token)
            _say(ws, "hello", "c1")
            ws.send_json({"type": "message", "text": "again", "client_id": "c2"})
            frame = ws.receive_json()
            assert frame["type"] == "error" and frame["code"] == "rate_limited" and frame["client_id"] == "c2"
            assert frame["text"].startswith("Too many messages. Please wait")
            assert frame["retry_after"] >= 1
