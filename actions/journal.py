"""Each action of a turn runs once, even when Rasa dies mid-turn and the turn is run again on another instance.

The gap it closes: a Rasa instance calls the action server (which verifies an identity, records a dispute, makes a
pay link: writes to the app database), then dies before saving the tracker. The gateway retries the turn on the
next instance with the same message id (bot/gateway/rasa_client.py); that instance finds no trace of the turn in
the tracker store, so it runs it from the start and calls the same action again. Without this journal the side
effect happens twice (two failed verification tries counted for one answer, ID-3; two disputes; two links).

The journal remembers the answer of each action call by what makes it the same call: the conversation, the id of
the user message the turn is for, the action's name, and what the turn did before the call. The re-run turn
predicts the same actions from the same tracker, so its calls have the same keys, and each gets the answer the
first run got (the events and the messages, neither ever delivered: the instance that received them died) and
nothing runs twice. A call that is still running when its twin arrives is waited for.

In memory, in the action server's process: it outlives any Rasa instance, which is what it must survive, and a
retried turn comes within the gateway's retry budget (seconds), so entries live a few minutes. Calls without a
message id (Rasa's own API, external events) are not journaled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from typing import Any

ENTRY_SECONDS = 300.0
MAX_ENTRIES = 5000
WAIT_SECONDS = 30.0  # for a twin still running; beyond that it is assumed stuck


def call_key(action_call: dict[str, Any]) -> str | None:
    """What identifies one action call of one turn: the conversation, the user message the turn is for, the action,
    and everything the turn did before the call (the events since that message, without their timestamps), so two
    different calls of one turn (a form validates at activation and again in the same turn) never share a key,
    and the re-run of a turn, predicting the same actions from the same tracker, meets the same keys. None when
    the call cannot be identified (no action, no message id)."""
    action = action_call.get("next_action")
    tracker = action_call.get("tracker") or {}
    message_id = (tracker.get("latest_message") or {}).get("message_id")
    sender = tracker.get("sender_id") or action_call.get("sender_id")
    if not action or not message_id or not sender:
        return None
    events = tracker.get("events") or []
    start = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "user" and event.get("message_id") == message_id:
            start = index
            break
    if start is None:
        return None
    turn = [{k: v for k, v in event.items() if k != "timestamp"} for event in events[start:]]
    digest = hashlib.sha256(json.dumps(turn, sort_keys=True, default=str).encode()).hexdigest()
    return f"{sender}\x1f{message_id}\x1f{action}\x1f{digest}"


class ActionJournal:
    """Answers of recent action calls by key, and the calls in progress (one event loop: the action server's)."""

    def __init__(self, entry_seconds: float = ENTRY_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.entry_seconds, self.max_entries = entry_seconds, max_entries
        self._done: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._running: dict[str, asyncio.Future[dict[str, Any] | None]] = {}

    async def begin(self, key: str) -> dict[str, Any] | None:
        """The answer of an earlier run of this call (waiting for it if it is running now), or None: then the
        caller runs it and must call `finish` (with its answer, or None if it failed)."""
        self._expire()
        while True:
            if key in self._done:
                return self._done[key][1]
            running = self._running.get(key)
            if running is None:
                break
            try:
                answer = await asyncio.wait_for(asyncio.shield(running), WAIT_SECONDS)
            except asyncio.TimeoutError:
                break  # the first run hangs (its caller is long gone): this one runs
            if answer is not None:
                return answer
            # The first run failed: nothing happened that needs protecting; this one runs (and is tracked).
        future = self._running[key] = asyncio.get_running_loop().create_future()
        owner = asyncio.current_task()
        if owner is not None:
            # The action server (Sanic) cancels a request's handler when its connection is lost, and then `finish`
            # never comes: a retry of that call (Rasa sends it again, rasa_extensions/action_retry.py) must not
            # wait for a run that is gone. When the task ends without finishing, the call counts as failed.
            owner.add_done_callback(lambda _task: self._abandoned(key, future))
        return None

    def _abandoned(self, key: str, future: asyncio.Future[dict[str, Any] | None]) -> None:
        if self._running.get(key) is future and not future.done():
            self.finish(key, None)

    def finish(self, key: str, answer: dict[str, Any] | None) -> None:
        running = self._running.pop(key, None)
        if answer is not None:
            self._done[key] = (time.monotonic(), answer)
            self._done.move_to_end(key)
            while len(self._done) > self.max_entries:
                self._done.popitem(last=False)
        if running is not None and not running.done():
            running.set_result(answer)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.entry_seconds
        while self._done:
            key, (at, _) = next(iter(self._done.items()))
            if at >= cutoff:
                break
            del self._done[key]
