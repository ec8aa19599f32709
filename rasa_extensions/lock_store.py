"""A Rasa lock store whose lock is atomic in Redis, for several Rasa instances on one tracker store.

Rasa's RedisLockStore issues tickets with a read-modify-write of one JSON value (GET, add a ticket, SET): two
instances that take a ticket at the same moment both read the same list, both write theirs, and one ticket is
lost, so both may believe they hold the conversation; both then run the turn and the SQL tracker store (which
appends "the events past the count already stored") interleaves their events. Conversations are pinned to one
instance (bot/gateway/rasa_router.py), so this needs two instances on one conversation, which is exactly what a
failover and the move back after recovery bring about for a moment. This store makes that moment safe: the lock
is a `Lease` (rasa_extensions/redis_lease.py), one `SET NX PX` with a random token, renewed while held and
released by a compare-and-delete script.

endpoints (see endpoints.production.yml):

    lock_store:
      type: rasa_extensions.lock_store.AtomicRedisLockStore
      url: ${REDIS_URL}          # redis://host:port/db
      lease_seconds: 10          # how long a killed holder blocks its conversations
      key_prefix: settle         # keys are "<prefix>:rasa-lock:<conversation id>"

Rasa takes the lock for each message (our channel, Agent.handle_message) and for the HTTP API's tracker
endpoints, always through `lock()`, which is all this store implements; the ticket methods of the base class are
never called with it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_extensions.redis_lease import Lease, LeaseTimeout

logger = logging.getLogger(__name__)

DEFAULT_URL = "redis://127.0.0.1:6379/0"


class AtomicRedisLockStore(LockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None, url: str | None = None,
                 lease_seconds: float | None = None, key_prefix: str | None = None,
                 client: Any = None) -> None:
        kwargs = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        url = url or (endpoint_config.url if endpoint_config is not None else None) or DEFAULT_URL
        self.lease_seconds = float(lease_seconds or kwargs.get("lease_seconds") or 10.0)
        prefix = key_prefix or kwargs.get("key_prefix") or "settle"
        self.key_prefix = f"{prefix}:rasa-lock:"
        self.red = client if client is not None else aioredis.from_url(url, socket_timeout=5)
        super().__init__()

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock for the body. A holder is renewed for up to `lock_lifetime` (Rasa's 60 s
        by default); a waiter gives up after `lock_lifetime` plus one lease, with Rasa's LockError (the caller
        answers 500, and the gateway tries again, with the same message id)."""
        lease = Lease(self.red, self.key_prefix + conversation_id, self.lease_seconds,
                      max_hold_seconds=lock_lifetime, poll_seconds=min(0.05, wait_time_in_seconds))
        try:
            await lease.acquire(timeout=lock_lifetime + self.lease_seconds)
        except LeaseTimeout as exc:
            raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.") from exc
        except Exception as exc:  # Redis down: say so the way Rasa's own stores do
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc
        try:
            yield TicketLock(conversation_id)
        finally:
            await lease.release()

    # Rasa's ticket API: never used with this store (everything goes through lock()); fail loudly if it is.

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raise NotImplementedError("AtomicRedisLockStore has no tickets; use lock()")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError("AtomicRedisLockStore has no tickets; use lock()")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("AtomicRedisLockStore has no tickets; use lock()")
