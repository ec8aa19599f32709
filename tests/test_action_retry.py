"""An action call whose connection is lost is sent again (rasa_extensions/action_retry.py), and the action
journal (actions/journal.py) makes the second run harmless. The Rasa side runs in the Rasa environment, against
Rasa's own RemoteAction and a loopback action server that drops connections (tests/rasa_env/action_retry_check.py).

Mutations tried: `action_retry.apply` not called by the check (plain Rasa) -> the dropped call fails the action
(RasaException) and the turn would lose its replies, test_a_call_whose_connection_is_lost_is_sent_again fails;
ClientOSError left out of the retried errors -> the same test fails ("reset_once": a reset while Rasa writes the
body, "Can not write request body", is a ClientOSError);
`ActionJournal.begin` not checking whether the first run's task is gone -> the journal test waits its 30 s and
fails on the timeout."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest

from actions import journal as journal_module
from actions.journal import ActionJournal, call_key
from bot.config import PROJECT_ROOT
from bot.training import rasa_environment, rasa_executable

RASA_PYTHON = rasa_executable().parent / "python"


def _check(mode: str) -> dict:
    env = {**os.environ, **rasa_environment(), "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([str(RASA_PYTHON), str(PROJECT_ROOT / "tests" / "rasa_env" / "action_retry_check.py"),
                             mode], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def with_retry() -> dict:
    return _check("retry")


@pytest.mark.integration
def test_plain_rasa_loses_the_turn_when_the_connection_drops():
    """The failure being fixed, as Rasa 3.6.21 has it: one attempt, the action fails."""
    plain = _check("plain")
    assert plain["dropped_once"] == {"error": "RasaException", "requests": 1}


@pytest.mark.integration
def test_a_call_whose_connection_is_lost_is_sent_again(with_retry: dict):
    assert with_retry["dropped_once"] == {"replies": ["answered"], "requests": 2}
    assert with_retry["reset_once"] == {"replies": ["answered"], "requests": 2}


@pytest.mark.integration
def test_the_retry_is_bounded_and_an_answered_error_is_not_retried(with_retry: dict):
    assert with_retry["always_dropped"] == {"error": "RasaException", "requests": 3}
    assert with_retry["error_status"] == {"error": "RasaException", "requests": 1}


def _action_call() -> dict:
    return {"next_action": "action_verify", "sender_id": "c1", "tracker": {
        "sender_id": "c1", "latest_message": {"message_id": "7"},
        "events": [{"event": "user", "message_id": "7", "text": "1234", "timestamp": 1.0}]}}


async def test_a_retried_call_whose_first_run_was_cancelled_runs_at_once(monkeypatch):
    """The action server cancels a request's handler when its connection is lost (Sanic), so the journal's
    'finish' never runs for it. The retry (same body, same key) must not wait for that run: it is gone."""
    monkeypatch.setattr(journal_module, "WAIT_SECONDS", 5.0)
    journal = ActionJournal()
    key = call_key(_action_call())
    assert key is not None and key == call_key(json.loads(json.dumps(_action_call())))

    async def first_run() -> None:
        assert await journal.begin(key) is None
        await asyncio.sleep(10)  # the action runs... and the connection is lost: the handler is cancelled
        journal.finish(key, {"events": []})

    task = asyncio.create_task(first_run())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(journal.begin(key), 2.0) is None  # runs now, without waiting for the dead run
    assert asyncio.get_running_loop().time() - started < 1.0
    journal.finish(key, {"events": [], "responses": [{"text": "ok"}]})
    assert await journal.begin(key) == {"events": [], "responses": [{"text": "ok"}]}  # and is replayed after


async def test_a_retry_arriving_while_the_first_run_still_runs_gets_its_answer():
    journal = ActionJournal()
    key = call_key(_action_call())
    assert await journal.begin(key) is None
    twin = asyncio.create_task(journal.begin(key))
    await asyncio.sleep(0.01)
    assert not twin.done()
    journal.finish(key, {"events": [], "responses": [{"text": "once"}]})
    assert await twin == {"events": [], "responses": [{"text": "once"}]}
