"""One conversation's messages are taken one at a time, whichever gateway worker receives them.

The web and SMS channels de-duplicate a resent message (the widget's client_id, Twilio's MessageSid) by looking
it up in the database, and store the message with it (Pipeline.accept's tag, in the same INSERT): check, then
store-with-the-tag. That is only safe if no second copy can run the same sequence at the same time. The lock is
released once the message is stored; its answer is awaited outside it, so messages arriving meanwhile are stored
and folded into one Rasa turn (bot/gateway/pipeline.py). In one process an asyncio.Lock per
conversation ensures it; with several workers (two tabs on two workers, a Twilio retry landing on the other
worker, a widget that reconnects elsewhere) the lock must be shared, so with REDIS_URL it is a Redis lease
(rasa_extensions/redis_lease.py: SET NX PX with a token, renewed while held, compare-and-delete release).
"""

from __future__ import annotations

import asyncio
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

from rasa_extensions.redis_lease import Lease  # pure redis-py, shared with Rasa's lock store

# How long a worker that dies while holding a conversation blocks it, and how long a message waits its turn.
LEASE_SECONDS = 10.0
WAIT_SECONDS = 120.0


class ConversationLocks(ABC):
    @abstractmethod
    def hold(self, key: str) -> Any:
        """An async context manager: the body runs while no other holder of `key` runs."""

    async def close(self) -> None:  # noqa: B027 - optional hook: the Redis locks close their connection here
        """Release resources at shutdown."""


class InProcessLocks(ConversationLocks):
    """One gateway process: an asyncio.Lock per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield


class RedisLocks(ConversationLocks):
    """Across gateway workers: a Redis lease per key. In-process waiters queue on a local lock first, so one
    worker polls Redis once per conversation rather than once per waiting message."""

    def __init__(self, url: str, prefix: str = "settle:gateway-lock:") -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=5)
        self._prefix = prefix
        self._local = InProcessLocks()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            lease = Lease(self._redis, self._prefix + key, LEASE_SECONDS)
            await lease.acquire(timeout=WAIT_SECONDS)
            try:
                yield
            finally:
                await lease.release()

    async def close(self) -> None:
        await self._redis.aclose()


def for_settings(redis_url: str) -> ConversationLocks:
    return RedisLocks(redis_url) if redis_url else InProcessLocks()
