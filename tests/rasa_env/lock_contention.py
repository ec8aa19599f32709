"""Run with the Rasa environment's Python (tests/test_lock_store.py does): two AtomicRedisLockStore instances,
as two Rasa instances would hold them, contend for one conversation against the real Redis at argv[1].

Each holder does a read-modify-write of a shared counter with a pause in the middle, the shape of a turn (read
the tracker, think, append events). Without mutual exclusion increments are lost; with it the count is exact and
no two holders are ever inside at once. Prints one JSON line with what it saw."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time

import redis.asyncio as aioredis
from rasa.core.lock_store import LockError

from rasa_extensions.lock_store import AtomicRedisLockStore


async def main(url: str) -> dict:
    prefix = "test" + secrets.token_hex(4)
    stores = [AtomicRedisLockStore(url=url, key_prefix=prefix, lease_seconds=2) for _ in range(2)]
    conversation = "conv-" + secrets.token_hex(4)
    counter = {"value": 0, "inside": 0, "max_inside": 0}

    async def turn(store: AtomicRedisLockStore) -> None:
        async with store.lock(conversation):
            counter["inside"] += 1
            counter["max_inside"] = max(counter["max_inside"], counter["inside"])
            value = counter["value"]
            await asyncio.sleep(0.005)
            counter["value"] = value + 1
            counter["inside"] -= 1

    started = time.monotonic()
    await asyncio.gather(*(turn(stores[i % 2]) for i in range(60)))
    contended = time.monotonic() - started

    # A holder that outlives its lease keeps the lock: it is renewed (lease 2 s, held 3 s).
    order: list[str] = []

    async def long_holder() -> None:
        async with stores[0].lock(conversation):
            order.append("long in")
            await asyncio.sleep(3.0)
            order.append("long out")

    async def waiter() -> None:
        await asyncio.sleep(0.2)
        async with stores[1].lock(conversation):
            order.append("waiter in")

    await asyncio.gather(long_holder(), waiter())

    # A holder that dies (its lease is never released nor renewed) blocks the conversation for one lease only.
    client = aioredis.from_url(url)
    await client.set(f"{prefix}:rasa-lock:{conversation}", "a-dead-holder's-token", px=2000)
    began = time.monotonic()
    async with stores[1].lock(conversation):
        after_dead = time.monotonic() - began

    # A waiter that cannot get the lock in time fails with Rasa's LockError.
    await client.set(f"{prefix}:rasa-lock:{conversation}", "held", px=10000)
    try:
        async with stores[1].lock(conversation, lock_lifetime=0.3):
            timed_out = False
    except LockError:
        timed_out = True
    await client.delete(f"{prefix}:rasa-lock:{conversation}")

    # A release while a renewal is under way: Redis is paused for writes (CLIENT PAUSE) so that the renewal's
    # PEXPIRE is still waiting for its answer when the holder leaves. Stopping the renewer by cancelling it then left
    # the pooled connection with an answer nobody read, and later lock calls on it stalled for seconds (seen under
    # load in the production benchmark); the calls after such a release must be quick.
    quick = AtomicRedisLockStore(url=url, key_prefix=prefix, lease_seconds=0.3)  # renewed every 0.1 s
    slowest = 0.0
    for round_ in range(5):
        async with quick.lock(f"{conversation}-paused"):
            await asyncio.sleep(0.05)
            await client.execute_command("CLIENT", "PAUSE", "150", "WRITE")
            await asyncio.sleep(0.1)  # the renewal (due at 0.1 s) is now waiting on the pause
        for _ in range(5):
            began = time.monotonic()
            async with quick.lock(f"{conversation}-after-{round_}"):
                pass
            slowest = max(slowest, time.monotonic() - began)
    left = await client.keys(f"{prefix}:*")
    await client.aclose() if hasattr(client, "aclose") else await client.close()
    return {"value": counter["value"], "max_inside": counter["max_inside"], "contended_seconds": contended,
            "order": order, "after_dead_holder_seconds": after_dead, "timed_out": timed_out,
            "keys_left": len(left), "slowest_release_under_renewal": slowest}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
