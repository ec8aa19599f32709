"""Live fan-out of conversation events to whoever is watching a conversation right now: the debtor's widget
tabs, the agent console. Anything that stores a message the debtor should see (the web channel's replies, an
agent's reply, a bot-initiated notice) publishes it here under the conversation's id, which is the topic the
widget listens on; other listeners use topics of their own (the console's are in bot/agents/__init__.py).

`LiveHub` is the interface; `InProcessHub` serves one gateway process. With several gateway workers (REDIS_URL
set) `RedisHub` takes its place: publish = PUBLISH on a channel per topic, subscribe = SUBSCRIBE to it, so a
widget or a console on one worker hears what another worker stored. That is why events are plain JSON-ready
dicts and why a subscriber must cope with missing some: a widget that falls behind is disconnected and rebuilds
from the database on reconnect, so the hub never has to be reliable.

Event shapes (the web channel forwards them to the widget as they are):
  {"type": "message", "id": <Message.id>, "role": "debtor"|"bot"|"agent"|"system", "text": str,
   "buttons"?: [{"title", "payload"}], "client_id"?: str, "agent_name"?: str, "at": ISO 8601}
  {"type": "typing", "on": bool}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.messaging.events import Event

log = logging.getLogger(__name__)



class SubscriberLagged(Exception):
    """The subscriber did not keep up and events were dropped; it should resync from the database."""


class Subscription(ABC):
    """Events of one conversation, in publish order, from the moment of subscribing."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Event]: ...


class LiveHub(ABC):
    @abstractmethod
    async def publish(self, conversation_id: str, event: Event) -> None:
        """Deliver the event to every current subscriber of the conversation (none: dropped, by design)."""

    @abstractmethod
    def subscribe(self, conversation_id: str) -> Any:
        """An async context manager yielding a `Subscription`; leaving it unsubscribes."""

    async def close(self) -> None:  # noqa: B027 - optional hook: a Redis hub closes its connections here
        """Release resources at shutdown."""


class _QueueSubscription(Subscription):
    _LAGGED = object()

    def __init__(self, max_events: int) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_events)

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stuck socket must not grow memory without bound: drop its backlog and tell it to resync.
            self.lag()

    def lag(self) -> None:
        """Tell the subscriber it missed events (its queue overflowed, or the Redis connection dropped): it drops
        what it has not read and resyncs."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(self._LAGGED)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.queue.get()
            if event is self._LAGGED:
                raise SubscriberLagged()
            yield event


class InProcessHub(LiveHub):
    """One process, no I/O. Publish from the event loop's thread (sync code: `anyio.from_thread.run`)."""

    def __init__(self, max_events_per_subscriber: int = 500) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}
        self._max_events = max_events_per_subscriber

    async def publish(self, conversation_id: str, event: Event) -> None:
        for subscription in list(self._subscribers.get(conversation_id, ())):
            subscription.offer(event)

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[Subscription]:
        subscription = _QueueSubscription(self._max_events)
        self._subscribers.setdefault(conversation_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            watchers = self._subscribers.get(conversation_id)
            if watchers is not None:
                watchers.discard(subscription)
                if not watchers:
                    del self._subscribers[conversation_id]

    def watchers(self, conversation_id: str) -> int:
        """How many subscribers a conversation has here (e.g. is the debtor's widget open)."""
        return len(self._subscribers.get(conversation_id, ()))


class RedisHub(LiveHub):
    """Redis pub/sub across gateway workers (and the CLI's processes). One PUBLISH per event; one pub/sub
    connection per process, subscribed to each topic that has a local subscriber, and one reader task that hands
    each message to that topic's local subscribers (bounded queues, as InProcessHub).

    `subscribe` returns only once Redis has confirmed the SUBSCRIBE, so the widget's "subscribe, then read the
    history" still misses nothing. If the connection to Redis drops, every local subscriber is told it lagged (a
    widget reconnects and rebuilds from the database, a console re-reads) and the reader reconnects."""

    def __init__(self, url: str, max_events_per_subscriber: int = 500, prefix: str = "settle:live:") -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=5)
        self._prefix = prefix
        self._max_events = max_events_per_subscriber
        self._subscribers: dict[str, set[_QueueSubscription]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}  # channel -> its SUBSCRIBE confirmation
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._changes = asyncio.Lock()  # SUBSCRIBE/UNSUBSCRIBE decisions, one at a time

    async def publish(self, conversation_id: str, event: Event) -> None:
        try:
            await self._redis.publish(self._prefix + conversation_id, json.dumps(event, default=str))
        except RedisError:
            # Live updates are a courtesy: the message is stored, and every reader rebuilds from the database.
            log.warning("could not publish to %s", conversation_id, exc_info=True)

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[Subscription]:
        subscription = _QueueSubscription(self._max_events)
        channel = self._prefix + conversation_id
        async with self._changes:
            self._subscribers.setdefault(conversation_id, set()).add(subscription)
            try:
                if channel not in self._confirmed:
                    self._confirmed[channel] = asyncio.get_running_loop().create_future()
                    await self._ensure_reader()
                    await self._pubsub.subscribe(channel)
                confirmed = self._confirmed[channel]
            except BaseException:  # Redis unreachable: leave nothing half-subscribed behind
                await self._leave(conversation_id, channel, subscription)
                raise
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), 5.0)
            yield subscription
        finally:
            async with self._changes:
                await self._leave(conversation_id, channel, subscription)

    async def _leave(self, conversation_id: str, channel: str, subscription: _QueueSubscription) -> None:
        watchers = self._subscribers.get(conversation_id)
        if watchers is None:
            return
        watchers.discard(subscription)
        if not watchers:
            del self._subscribers[conversation_id]
            self._confirmed.pop(channel, None)
            if self._pubsub is not None:
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(channel)

    async def _ensure_reader(self) -> None:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while True:
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError):
                log.warning("lost the Redis pub/sub connection; subscribers resync", exc_info=True)
                for watchers in list(self._subscribers.values()):
                    for subscription in list(watchers):
                        subscription.lag()
                await asyncio.sleep(1.0)
                continue
            if message is None:
                continue
            channel = message.get("channel")
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            if message.get("type") == "subscribe":
                future = self._confirmed.get(channel)
                if future is not None and not future.done():
                    future.set_result(None)
            elif message.get("type") == "message":
                try:
                    event = json.loads(message["data"])
                except (TypeError, ValueError):
                    continue
                for subscription in list(self._subscribers.get(channel[len(self._prefix):], ())):
                    subscription.offer(event)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(Exception):
            if self._pubsub is not None:
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()


