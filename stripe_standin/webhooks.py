"""Signed webhook delivery, as Stripe does it: each event is POSTed as JSON with a `Stripe-Signature` header made
by the real SDK (stripe.WebhookSignature.generate_signature_header), retried with backoff until the endpoint
answers 2xx. Delivery is in creation order, one at a time, unless a test knob says otherwise:
  hold / release(order)   keep events back, then send them as_is, reversed or shuffled (out of order);
  redeliver(id, times)    send an event again, N times, one after another or all at once (concurrently)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import stripe

log = logging.getLogger("stripe_standin.webhooks")


@dataclass
class Delivery:
    event_id: str
    attempt: int
    status: int | None
    error: str | None
    at: float


@dataclass
class Deliverer:
    url: str | None = None
    secret: str | None = None
    max_attempts: int = 6
    first_backoff: float = 0.2
    timeout: float = 10.0
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    holding: bool = False
    _queue: asyncio.Queue[list[str]] | None = None
    _busy: int = 0
    _task: asyncio.Task[None] | None = None
    _client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._client = httpx.AsyncClient(timeout=self.timeout)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._client is not None:
            await self._client.aclose()

    # --- what the API does -------------------------------------------------------------------------------------

    def enqueue(self, event: dict[str, Any]) -> None:
        self.events[event["id"]] = event
        if self.holding:
            self.held.append(event["id"])
        elif self._queue is not None:
            self._queue.put_nowait([event["id"]])

    # --- knobs -------------------------------------------------------------------------------------------------

    def hold(self) -> None:
        self.holding = True

    def release(self, order: str = "as_is") -> list[str]:
        """Send what was held: as_is, reverse, or shuffle. Returns the order used."""
        held, self.held, self.holding = self.held, [], False
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            random.shuffle(held)
        for event_id in held:
            self._queue.put_nowait([event_id])
        return held

    def redeliver(self, event_id: str, times: int, concurrent: bool) -> None:
        if concurrent:
            self._queue.put_nowait([event_id] * times)  # one batch: sent all at once
        else:
            for _ in range(times):
                self._queue.put_nowait([event_id])

    async def idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued or being sent (tests use it before looking at the database)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and self._busy == 0:
                return True
            await asyncio.sleep(0.02)
        return False

    # --- the worker --------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            batch = await self._queue.get()
            self._busy += 1
            try:
                await asyncio.gather(*(self._deliver(self.events[event_id]) for event_id in batch))
            except Exception:  # a bug here must not stop every later delivery
                log.exception("webhook delivery failed")
            finally:
                self._busy -= 1

    async def _deliver(self, event: dict[str, Any]) -> None:
        if not self.url or not self.secret:
            return  # no endpoint configured: events are only kept (GET /_standin/events shows them)
        payload = json.dumps(event)
        backoff = self.first_backoff
        for attempt in range(1, self.max_attempts + 1):
            # Signed at each attempt, like Stripe: the timestamp is the attempt's, so tolerance checks hold.
            header = stripe.WebhookSignature.generate_signature_header(payload, self.secret)
            status: int | None = None
            error: str | None = None
            try:
                response = await self._client.post(self.url, content=payload, headers={
                    "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
                status = response.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            self.deliveries.append(Delivery(event["id"], attempt, status, error, time.time()))
            if status is not None and 200 <= status < 300:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
        log.warning("gave up delivering %s (%s) after %d attempts", event["id"], event["type"], self.max_attempts)
