"""rasa_extensions/lock_store.py against the real Redis: two lock stores (two Rasa instances) on one conversation.

Runs in the Rasa environment (the store imports Rasa), through tests/rasa_env/lock_contention.py."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.config import PROJECT_ROOT

REDIS_URL = os.environ.get("SETTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


@pytest.fixture(scope="module")
def contention() -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}; run scripts/envs.sh")
    done = subprocess.run([str(RASA_PYTHON), "tests/rasa_env/lock_contention.py", REDIS_URL], cwd=PROJECT_ROOT,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_lock_stores_never_let_two_holders_into_one_conversation(contention):
    """60 turns split between two stores, each a read-modify-write with a pause: none lost, never two inside."""
    assert contention["value"] == 60
    assert contention["max_inside"] == 1


def test_a_holder_past_its_lease_keeps_the_lock_because_it_is_renewed(contention):
    """Lease 2 s, held 3 s: the waiter on the other store gets in only after the holder leaves."""
    assert contention["order"] == ["long in", "long out", "waiter in"]


def test_a_dead_holder_blocks_the_conversation_for_one_lease_only(contention):
    """A lock left by a killed instance (never released, never renewed) lapses after its lease (2 s here)."""
    assert 1.5 < contention["after_dead_holder_seconds"] < 4.0


def test_a_waiter_that_cannot_get_the_lock_fails_with_rasas_lock_error(contention):
    assert contention["timed_out"] is True
    assert contention["keys_left"] == 0  # released locks leave nothing behind


def test_releasing_while_a_renewal_is_under_way_never_stalls_later_lock_calls(contention):
    """320 holds on 40 conversations with a lease renewed every 0.05 s: each lock, hold and release is quick."""
    assert contention["slowest_release_under_renewal"] < 1.0
