"""The action server's journal (actions/journal.py): a turn re-run after a Rasa instance died mid-turn gets the
first run's answer for each action call instead of running its side effects again."""

from __future__ import annotations

import asyncio
import copy

from actions.journal import ActionJournal, call_key


def _call(action: str = "validate_verify_form", message_id: str | None = "41", **extra_slot) -> dict:
    events = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": "SET-1", "message_id": message_id, "timestamp": 2.0,
         "parse_data": {"intent": {"name": "inform_identity", "confidence": 0.9}}},
        {"event": "slot", "name": "id_locator", "value": "SET-1", "timestamp": 2.1},
        *[{"event": "slot", "name": k, "value": v, "timestamp": 2.2} for k, v in extra_slot.items()],
        {"event": "action", "name": "verify_form", "timestamp": 2.3},
    ]
    return {"next_action": action, "sender_id": "conv-1",
            "tracker": {"sender_id": "conv-1", "latest_message": {"message_id": message_id}, "events": events}}


def test_the_rerun_of_a_turn_meets_the_same_key_whatever_the_timestamps():
    """Another instance re-running the turn makes the same events at other times: same call."""
    first, rerun = _call(), _call()
    for event in rerun["tracker"]["events"]:
        event["timestamp"] += 100
    assert call_key(first) == call_key(rerun) is not None


def test_different_calls_of_one_turn_or_of_other_turns_have_different_keys():
    base = call_key(_call())
    assert call_key(_call(action="action_answer_request")) != base
    assert call_key(_call(message_id="42")) != base
    assert call_key(_call(id_dob="1985-11-02")) != base  # the same action later in the turn, after more happened
    other = _call()
    other["tracker"]["sender_id"] = other["sender_id"] = "conv-2"
    assert call_key(other) != base


def test_calls_without_a_message_id_are_not_journaled():
    """Rasa's own API and external events have no gateway message id: nothing to identify a re-run by."""
    assert call_key(_call(message_id=None)) is None
    assert call_key({"next_action": None, "tracker": {}}) is None


async def test_a_second_run_of_a_call_gets_the_first_answer():
    journal = ActionJournal()
    key = call_key(_call())
    assert await journal.begin(key) is None  # first run: the caller runs the action
    answer = {"events": [{"event": "slot", "name": "verified", "value": True}], "responses": []}
    journal.finish(key, copy.deepcopy(answer))
    assert await journal.begin(key) == answer


async def test_a_twin_arriving_while_the_first_runs_waits_for_its_answer():
    journal = ActionJournal()
    assert await journal.begin("k") is None
    twin = asyncio.create_task(journal.begin("k"))
    await asyncio.sleep(0.01)
    assert not twin.done()
    journal.finish("k", {"events": [], "responses": [{"text": "once"}]})
    assert await twin == {"events": [], "responses": [{"text": "once"}]}


async def test_a_failed_run_is_not_replayed():
    """A call that failed did nothing to protect: the next one runs it."""
    journal = ActionJournal()
    assert await journal.begin("k") is None
    journal.finish("k", None)
    assert await journal.begin("k") is None


async def test_entries_expire_and_the_journal_is_bounded():
    journal = ActionJournal(entry_seconds=0.05, max_entries=2)
    for key in ("a", "b", "c"):
        await journal.begin(key)
        journal.finish(key, {"events": []})
    assert await journal.begin("a") is None  # evicted: only the 2 newest are kept
    journal.finish("a", None)
    await asyncio.sleep(0.06)
    assert await journal.begin("c") is None  # expired
