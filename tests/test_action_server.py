"""The action server (`python -m actions`: the newest rasa-sdk with Settle's additions)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_a_failed_action_answers_with_its_name_and_a_call_without_a_domain_is_served(tmp_path):
    """PCI-3: rasa-sdk's own 500 body echoes the whole call, the tracker with the debtor's words, and Rasa logs
    an action server's error body. Mutation tried: install_error_answer not called -> the card number is in the
    body and this fails."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    server = subprocess.Popen([sys.executable, "-m", "actions", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the action server did not start"
            time.sleep(0.3)
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
    assert "4242" not in output
