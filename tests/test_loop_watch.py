"""rasa_extensions/loop_watch.py: a blocked event loop in the Rasa server is said in its log, with where it was
blocked, and when it runs again; a loop that keeps beating says nothing."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from rasa_extensions import loop_watch


def _blocking_call_in_a_turn() -> None:
    time.sleep(1.2)  # stands in for a synchronous computation on the loop


async def _serve(block: bool) -> None:
    loop_watch.watch(asyncio.get_running_loop(), stall_seconds=0.6)
    await asyncio.sleep(0.6)
    if block:
        _blocking_call_in_a_turn()
    await asyncio.sleep(1.2)  # the loop beats again: the watch says so
    loop_watch.unwatch(asyncio.get_running_loop())


def test_a_blocked_event_loop_is_logged_with_the_blocking_call_and_its_end(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="rasa_extensions.loop_watch"):
        asyncio.run(_serve(block=True))
    messages = [r.getMessage() for r in caplog.records]
    blocked = [m for m in messages if m.startswith("event loop blocked for")]
    assert len(blocked) == 1
    assert "_blocking_call_in_a_turn" in blocked[0] and "time.sleep(1.2)" in blocked[0]
    assert any(m.startswith("event loop ran again after standing still for") for m in messages)
    assert not any("whole process was paused" in m for m in messages)


def test_a_loop_that_keeps_beating_logs_nothing_and_stops_cleanly(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING):
        asyncio.run(_serve(block=False))
        time.sleep(2 * loop_watch.CHECK_SECONDS)  # the watch's thread, after the loop has gone
    assert [r.getMessage() for r in caplog.records] == []  # no stall, no "Task was destroyed but it is pending"


def test_a_loop_is_watched_once():
    async def twice() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        answers = loop_watch.watch(loop), loop_watch.watch(loop)
        loop_watch.unwatch(loop)
        return answers

    assert asyncio.run(twice()) == (True, False)


class _SlowToFinalize:
    """Stands in for an object whose finalizer blocks (the stalls seen under load: docs/performance.md)."""

    def __init__(self, seconds: float = 1.3) -> None:
        self.seconds = seconds
        self.me = self  # a reference cycle: only the garbage collector frees it

    def __del__(self) -> None:
        time.sleep(self.seconds)


def test_a_slow_garbage_collection_is_logged_with_its_duration(caplog: pytest.LogCaptureFixture):
    import gc

    try:
        loop_watch.time_collections()
        loop_watch.time_collections()  # once is enough
        assert gc.callbacks.count(loop_watch._time_collections) == 1
        with caplog.at_level(logging.WARNING, logger="rasa_extensions.loop_watch"):
            gc.collect(0)  # nothing slow: nothing said (a full collection of a long test run's heap can take 1 s)
            assert caplog.records == []
            _SlowToFinalize()
            gc.collect()
    finally:
        gc.callbacks.remove(loop_watch._time_collections)
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("a garbage collection (generation 2: ") and message.endswith(" s")
    assert float(message.rsplit(" took ", 1)[1][:-2]) >= 1.3  # at least the finalizer's sleep (more on a busy machine)


def test_a_slow_collection_is_logged_while_it_runs_with_the_finalizer_that_holds_it(
        caplog: pytest.LogCaptureFixture):
    """The stalls under load were collections held by a finalizer: the log must name it while it runs, since once
    the collection is over nothing shows where it was."""
    import gc

    async def serve() -> None:
        loop_watch.watch(asyncio.get_running_loop(), stall_seconds=5)  # only the collection is to be reported
        await asyncio.sleep(0.3)
        _SlowToFinalize(2.4)  # long enough for the watch to look several times
        gc.collect()  # on the loop's thread, as in a turn
        await asyncio.sleep(0.3)
        loop_watch.unwatch(asyncio.get_running_loop())

    gc.collect()  # the rest of a long test run's garbage first, so the collection watched holds the slow finalizer
    try:
        loop_watch.time_collections()
        with caplog.at_level(logging.WARNING, logger="rasa_extensions.loop_watch"):
            asyncio.run(serve())
    finally:
        gc.callbacks.remove(loop_watch._time_collections)
    messages = [r.getMessage() for r in caplog.records]
    running = [m for m in messages if m.startswith("a garbage collection has run for")]
    assert len(running) == 1  # once per collection, however long it runs
    collecting = running[0].split(" (collecting):\n", 1)[1].split("\nthread ", 1)[0]
    # The watch looks when the finalizer lets go of the GIL: on entering it or in its sleep, either names it.
    assert re.search(r'File ".*test_loop_watch\.py", line \d+, in __del__', collecting), collecting
    assert "thread loop-watch" not in running[0]  # the watch does not report itself
    assert any(m.startswith("a garbage collection (generation 2: ") for m in messages)  # and its end, as before
