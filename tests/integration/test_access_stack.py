"""Rasa behind its token, on the real stack (issue 18, README "Security").

The gateway is the only way into a conversation: Rasa's own `rest` channel is not enabled, Settle's channel inside
Rasa answers 401 to a caller without Rasa's API token, and the token is not on Rasa's command line, which every
local user can read (/proc/<pid>/cmdline, `ps`). The embedded test stack's REST channel answers its loopback
clients, as the demo does."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration.chat import Chat, letters


def _process_tree(pid: int) -> list[int]:
    """The process and its descendants (the Rasa command may be a wrapper that starts the real server)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo += [int(child) for child in task.read_text().split()]
    return found


def test_rasa_token_is_not_on_any_command_line(running_stack):
    """Mutation tried: bot/stack.py putting `--auth-token={token}` back on Rasa's argv -> the token is in the Rasa
    process's cmdline and this test fails."""
    token = running_stack.config.rasa_token
    rasa = running_stack.processes["rasa"]
    pids = _process_tree(rasa.pid)
    assert pids
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert token.encode() not in cmdline, f"the Rasa API token is on process {pid}'s command line"
    for name, process in running_stack.processes.items():
        assert token.encode() not in Path(f"/proc/{process.pid}/cmdline").read_bytes(), name
    # ...and Rasa did get it: its HTTP API refuses a wrong token and takes the right one.
    status = f"{running_stack.config.rasa_url}/status"
    assert httpx.get(status, params={"token": "wrong"}, timeout=10).status_code == 401
    assert httpx.get(status, params={"token": token}, timeout=10).status_code == 200


def test_a_local_process_without_the_token_cannot_drive_rasa(running_stack):
    """Settle's channel answers 401 without Rasa's token (no header, a wrong one) and runs no turn; Rasa's own
    `rest` channel is not there at all. Mutation tried: settle_channel.receive without its `refused` check -> the
    tokenless call gets 200 with replies, this test fails."""
    rasa = running_stack.config.rasa_url
    sender = f"bypass-{letters()}"
    body = {"sender": sender, "message": "what do I owe?", "metadata": {}}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.post(f"{rasa}/webhooks/settle/webhook", json=body, headers=headers, timeout=30)
        assert response.status_code == 401, response.text
    assert httpx.post(f"{rasa}/webhooks/rest/webhook", json=body, timeout=30).status_code == 404
    # Nothing reached the tracker: the conversation does not exist for Rasa.
    token = running_stack.config.rasa_token
    tracker = httpx.get(f"{rasa}/conversations/{sender}/tracker", params={"token": token}, timeout=30).json()
    assert not [e for e in tracker.get("events") or [] if e.get("event") == "user"]
    # The gateway, which has the token, still gets through.
    chat = Chat(running_stack, prefix="withtoken")
    assert chat.say("hi")


def test_the_embedded_stack_runs_in_embedded_mode(running_stack):
    assert running_stack._env()["SETTLE_MODE"] == "embedded"
