"""The action server (`python -m actions`: the newest rasa-sdk with Settle's additions)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import httpx

from actions import ops
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]



def _wait_until_healthy(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "the action server did not start"
        time.sleep(0.3)

def test_a_failed_action_answers_with_its_name_and_a_call_without_a_domain_is_served(tmp_path):
    """PCI-3: rasa-sdk's own 500 body echoes the whole call, the tracker with the debtor's words, and Rasa logs
    an action server's error body. Mutation tried: install_error_answer not called -> the card number is in the
    body and this fails."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    server = subprocess.Popen([sys.executable, "-m", "actions", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_healthy(port, server)
        # A tracker that is not an object makes the action fail inside rasa-sdk.
        answer = httpx.post(f"http://127.0.0.1:{port}/webhook", timeout=10,
                            json={"next_action": "action_request_verification", "tracker": "card 4242 4242 4242 4242",
                                  "domain": {}, "version": "3.6.21"})
        assert answer.status_code == 500
        assert answer.json() == {"error": "action failed", "action_name": "action_request_verification"}
        # Rasa 3.6 with enable_selective_domain sends most calls without a domain; rasa-sdk 3.21 alone answers those
        # 449 ("missing domain"), which Rasa takes as a failed action. Mutation tried: build_app with rasa-sdk's
        # own ActionExecutor -> 449 here (and every integration conversation falls back).
        tracker = {"sender_id": "no-domain", "slots": {}, "latest_message": {"text": "hi"}, "events": [],
                   "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None}
        no_domain = httpx.post(f"http://127.0.0.1:{port}/webhook", timeout=30,
                               json={"next_action": "action_ask_id_locator", "tracker": tracker, "version": "3.6.21"})
        assert no_domain.status_code != 449 and "domain" not in no_domain.text.lower(), no_domain.text
        listed = httpx.get(f"http://127.0.0.1:{port}/actions", timeout=10).json()
        assert {"name": "action_request_verification"} in listed  # the package's actions are registered
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "4242 4242 4242 4242" not in output


CARD = "4111 1111 1111 1111"
SSN = "123-45-6789"
BIRTHDAY = "March 14 1979"  # an identity answer


def test_the_action_server_logs_json_lines_naming_conversation_and_action_and_redacted(tmp_path):
    """README "Operations" (Logs), PCI-2: the action server logs as the gateway does (bot/logging_setup.py): one
    JSON object a line, each line of an action call with its conversation id (the tracker's sender_id), action name
    and request id, card numbers, SSNs and dates of birth redacted. rasa-sdk's own refusal repeats the action name
    the call gave, in its log line and its 404 body (which Rasa logs): a name carrying all three is sent here.
    Mutations tried: redact_text returning its text unchanged -> the card number was in rasa-sdk's log line: failed;
    configure_logging replaced by rasa-sdk's colored logging -> lines not JSON: failed; install_log_context not
    installed -> no conversation_id: failed; redact_refusal removed -> the card number was in the 404 body: failed."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("LOG_FORMAT", "LOG_LEVEL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'a.db'}"
    server = subprocess.Popen([sys.executable, "-m", "actions", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tracker = {"sender_id": "conv_logs_1", "slots": {}, "latest_message": {"text": "hi"}, "events": [],
               "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None}
    try:
        _wait_until_healthy(port, server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:  # one connection: one task
            ran = client.post("/webhook", json={"next_action": "action_ask_id_locator", "tracker": tracker,
                                                "version": "3.6.21"})
            odd_name = f"action_check card {CARD} ssn {SSN} born {BIRTHDAY}"
            refused = client.post("/webhook", json={"next_action": odd_name,
                                                    "tracker": {**tracker, "sender_id": "conv_logs_2"},
                                                    "version": "3.6.21"})
            client.get("/health")
            scraped = client.get("/metrics").text
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=30)
    assert ran.status_code in (200, 500) and refused.status_code == 404
    # A made-up action name is timed as "unregistered": whatever callers send, the series are as many as the actions.
    # Mutation tried: the caller's (redacted) name as the label -> a series named "action_check card ...": failed.
    labels = set(re.findall(r'^settle_action_seconds_count\{action="([^"]*)"\} 1', scraped, re.M))
    assert labels == {"action_ask_id_locator", "unregistered"}, scraped[:2000]
    for secret in (CARD, CARD.replace(" ", ""), SSN, BIRTHDAY):
        assert secret not in stdout + stderr
        assert secret not in refused.text
    lines = [json.loads(line) for line in (stdout + stderr).splitlines() if line.strip()]  # every line is JSON
    started = next(i for i, line in enumerate(lines) if "is up and running" in line["message"])
    calls = lines[started + 1:]
    assert calls and all({"timestamp", "level", "logger", "message", "request_id", "conversation_id", "action"}
                         <= line.keys() for line in calls), calls
    by_request: dict[str, set[tuple[str, str]]] = {}
    for line in calls:
        by_request.setdefault(line["request_id"], set()).add((line["conversation_id"], line["action"]))
    [first], [second] = sorted(by_request.values())  # each call's lines name one conversation and one action
    assert first == ("conv_logs_1", "action_ask_id_locator")
    assert second[0] == "conv_logs_2" and second[1].startswith("action_check card [REDACTED] ssn [REDACTED] born ")
    answered = [line["message"] for line in calls if line["logger"] == "actions.ops"]
    assert len(answered) == 2 and " answered 404 in " in answered[1]  # one line per call, whatever else logs
    assert any(line["logger"] == "rasa_sdk.endpoint" and "[REDACTED]" in line["message"] for line in calls)


def test_a_deflated_call_is_inflated_and_parsed_once_for_every_reader_of_the_request(monkeypatch):
    """The log context, the timing, the journal and the error answer all read the call: it is inflated and parsed
    once per request, and each gets the same parsed body. Mutation tried: action_call without keeping the body
    on request.ctx (inflated three times: failed)."""
    call = {"next_action": "action_ask_id_locator", "tracker": {"sender_id": "conv_once"}}
    request = SimpleNamespace(headers={"Content-Encoding": "deflate"}, body=zlib.compress(json.dumps(call).encode()),
                              ctx=SimpleNamespace())
    inflated = []
    inflate = zlib.decompress
    monkeypatch.setattr(zlib, "decompress", lambda data: inflated.append(data) or inflate(data))
    first = ops.action_call(request)
    assert first == call and ops.action_call(request) is first and ops.action_call(request) is first
    assert len(inflated) == 1
    broken = SimpleNamespace(headers={"Content-Encoding": "deflate"}, body=b"not deflated", ctx=SimpleNamespace())
    assert ops.action_call(broken) is None and ops.action_label(ops.action_call(broken)) == "unknown"
