"""Live fan-out and the channels' per-conversation lock across gateway workers, against the real Redis: two hubs
(two workers) on one Redis, publish on one and receive on the other; two lock sets contending for one key."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest

from bot.gateway.conversation_lock import RedisLocks
from bot.gateway.live import RedisHub, SubscriberLagged

REDIS_URL = os.environ.get("SETTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def hubs():
    prefix = f"test-{secrets.token_hex(4)}:"  # this test's own channels
    pair = (RedisHub(REDIS_URL, prefix=prefix), RedisHub(REDIS_URL, prefix=prefix))
    yield pair
    for hub in pair:
        await hub.close()


async def _next(subscription, timeout: float = 3.0) -> dict:
    iterator = subscription.__aiter__()
    return await asyncio.wait_for(iterator.__anext__(), timeout)


async def test_an_event_published_on_one_worker_reaches_a_subscriber_on_another(hubs):
    """The widget's socket is on worker B; the reply was stored by worker A: B's widget still gets it, in order."""
    a, b = hubs
    async with b.subscribe("conv-1") as events:
        # subscribe() returns once Redis confirmed it: publishing right away is not lost.
        await a.publish("conv-1", {"type": "message", "id": 1, "text": "hello"})
        await a.publish("conv-1", {"type": "typing", "on": False})
        assert await _next(events) == {"type": "message", "id": 1, "text": "hello"}
        assert await _next(events) == {"type": "typing", "on": False}


async def test_topics_are_separate_and_every_subscriber_of_a_topic_gets_each_event(hubs):
    a, b = hubs
    async with b.subscribe("conv-1") as first, b.subscribe("conv-1") as second, a.subscribe("conv-2") as other:
        await a.publish("conv-1", {"n": 1})
        await b.publish("conv-2", {"n": 2})
        assert await _next(first) == {"n": 1} and await _next(second) == {"n": 1}
        assert await _next(other) == {"n": 2}
        with pytest.raises(asyncio.TimeoutError):
            await _next(first, timeout=0.3)  # conv-2's event is not conv-1's


async def test_after_the_last_subscriber_leaves_the_topic_is_unsubscribed(hubs):
    a, b = hubs
    async with b.subscribe("conv-3"):
        pass
    await asyncio.sleep(0.1)
    assert not any(b"conv-3" in c for c in b._pubsub.channels)  # Redis stops sending it to this worker
    async with b.subscribe("conv-3") as again:  # and a new subscriber gets events again
        await a.publish("conv-3", {"n": 3})
        assert await _next(again) == {"n": 3}


async def test_a_subscriber_that_falls_behind_is_told_to_resync():
    """Bounded queues as in one process: a stuck socket gets SubscriberLagged, never unbounded memory."""
    prefix = f"test-{secrets.token_hex(4)}:"
    a, b = RedisHub(REDIS_URL, prefix=prefix), RedisHub(REDIS_URL, max_events_per_subscriber=2, prefix=prefix)
    try:
        async with b.subscribe("conv-4") as events:
            for n in range(5):
                await a.publish("conv-4", {"n": n})
            await asyncio.sleep(0.3)
            with pytest.raises(SubscriberLagged):
                async for _ in events:
                    pass
    finally:
        await a.close()
        await b.close()


async def test_publishing_without_redis_does_not_fail_the_caller():
    """The message is stored either way; live updates are a courtesy the reader rebuilds from the database."""
    hub = RedisHub("redis://127.0.0.1:1/0")
    try:
        await hub.publish("conv-5", {"n": 1})
    finally:
        await hub.close()


async def test_two_workers_locks_serialise_one_conversation():
    """The web/SMS check-then-tag dedupe is safe across workers only if one conversation is handled by one worker
    at a time: two RedisLocks (two workers) never let two holders of one key in at once."""
    prefix = f"test-{secrets.token_hex(4)}:"
    workers = [RedisLocks(REDIS_URL, prefix=prefix), RedisLocks(REDIS_URL, prefix=prefix)]
    state = {"inside": 0, "most": 0, "done": 0}

    async def handle(locks: RedisLocks) -> None:
        async with locks.hold("web:conv-6"):
            state["inside"] += 1
            state["most"] = max(state["most"], state["inside"])
            await asyncio.sleep(0.01)
            state["inside"] -= 1
            state["done"] += 1

    try:
        await asyncio.gather(*(handle(workers[i % 2]) for i in range(20)))
    finally:
        for locks in workers:
            await locks.close()
    assert state == {"inside": 0, "most": 1, "done": 20}


async def test_subscribing_without_redis_fails_cleanly_and_leaves_nothing_behind():
    """A widget whose worker cannot reach Redis is refused (it reconnects later); no half-made subscription stays."""
    hub = RedisHub("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(Exception):  # noqa: B017 - redis-py's ConnectionError, whatever its module
            async with hub.subscribe("conv-7"):
                pass
        assert hub._subscribers == {} and hub._confirmed == {}
    finally:
        await hub.close()
