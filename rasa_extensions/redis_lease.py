"""An exclusive, self-renewing lease on one Redis key: the lock that keeps two processes out of one conversation.

Plain redis-py (no Rasa, no bot/): it runs inside Rasa (rasa_extensions/lock_store.py, redis 4.6) and in the
gateway (bot/gateway/conversation_lock.py, redis 8), and both have the same asyncio `Lock`.

redis-py's `Lock` is the atomic part: it takes the key with `SET key <random token> NX PX <lease>` (one command:
two contenders can never both get it), and extends and releases it with Lua scripts that first compare the
token, so a holder whose lease lapsed can never extend or delete a lock someone else now holds. What it leaves to
us, and this class adds, is keeping the lease alive while the work goes on: the lease is short (a holder that
dies, SIGKILL included, blocks the conversation for at most `lease_seconds`), and a task renews it every third of
that for as long as the holder runs, up to `max_hold_seconds` (a hung holder must not block a conversation
forever; Rasa's own lock gives up after its lock lifetime, 60 s, the same way).

Waiting is a poll (`poll_seconds`), not a queue: fairness between waiters is not needed, because a conversation
is pinned to one instance and two of them meet on it only briefly, around a failover.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)


class LeaseTimeout(Exception):
    """The lease could not be had in time: someone else holds it."""


class Lease:
    def __init__(self, client: Any, name: str, lease_seconds: float = 10.0, max_hold_seconds: float | None = None,
                 poll_seconds: float = 0.05) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.name = name
        self.lease_seconds = lease_seconds
        self.max_hold_seconds = max_hold_seconds
        # thread_local=False: the token belongs to this object, not to the thread (one event loop, many holders).
        self._lock = client.lock(name, timeout=lease_seconds, sleep=poll_seconds, thread_local=False)
        self._renewer: asyncio.Task[None] | None = None
        self._released = asyncio.Event()
        self.lost = False  # set when a renewal found the lease gone (it lapsed: the holder stalled too long)

    async def acquire(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the lease; LeaseTimeout if someone else keeps it."""
        if not await self._lock.acquire(blocking=True, blocking_timeout=timeout):
            raise LeaseTimeout(f"{self.name} is held by someone else")
        self._renewer = asyncio.get_running_loop().create_task(self._renew(time.monotonic()))

    async def release(self) -> None:
        if self._renewer is not None:
            # Told to stop, not cancelled: a task cancelled in the middle of a Redis command leaves its connection
            # with an answer nobody read, and the next command on that pooled connection waited for tens of seconds
            # (seen under load in the production benchmark). It stops at its next wake, or after the command under
            # way.
            self._released.set()
            await self._renewer
            self._renewer = None
        try:
            await self._lock.release()
        except LockError:
            # Not ours any more (it lapsed, and maybe someone else holds it now): nothing to release, and the
            # compare-and-delete made sure we did not delete their lock.
            log.warning("lease %s had already lapsed at release", self.name)
        except RedisError:
            # Redis is unreachable: the lease lapses by itself within lease_seconds.
            log.warning("could not release lease %s; it lapses by itself", self.name, exc_info=True)

    async def _renew(self, since: float) -> None:
        interval = self.lease_seconds / 3
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._released.wait(), interval)
            if self._released.is_set():
                return
            if self.max_hold_seconds is not None and time.monotonic() - since >= self.max_hold_seconds:
                log.warning("lease %s held for %.0f s: no longer renewed", self.name, self.max_hold_seconds)
                return
            try:
                await self._lock.reacquire()  # PEXPIRE to a full lease, only if the token is still ours
            except LockError:
                self.lost = True
                log.error("lease %s lapsed while held (the holder stalled longer than %.1f s)", self.name,
                          self.lease_seconds)
                return
            except RedisError:
                log.warning("could not renew lease %s; retrying", self.name, exc_info=True)
