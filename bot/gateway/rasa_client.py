"""Talks to the Rasa server's REST channel on loopback: one instance (the embedded default) or several, each
conversation pinned to one of them by a consistent-hash ring (bot/gateway/rasa_router.py).

A turn is sent with the id of the stored inbound message (`message_id`). Rasa keeps it on the user event, and our
channel inside Rasa (rasa_extensions/settle_channel.py) answers a message id it has already handled by replaying
the replies that followed it, without running the turn again. That is what makes a retry safe: when an instance
refuses the connection, drops it mid-turn (killed), answers 5xx or times out, the same turn goes to the next
instance on the ring with the same message id, within `retry_seconds` and at most twice per instance. Whether
the first instance had saved the turn or not, the debtor gets one answer, and the tracker holds the message once.

When every instance refuses the connection there is nothing to fail over to, and the caller hears so at once
(the pipeline then stores the message as "unprocessed" and says so): waiting for a Rasa to come back is not
worth keeping a debtor waiting half a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.gateway.rasa_router import RasaRouter
from bot.metrics import RASA_FAILURES, RASA_REQUEST_SECONDS

log = logging.getLogger(__name__)

# Our channel inside Rasa (rasa_extensions/settle_channel.py): Rasa's REST answer plus the NLU reading.
WEBHOOK = "/webhooks/settle/webhook"
# PCI-2: rewrite a message already handled, in Rasa's tracker store (a card number split over two messages).
REDACT = "/webhooks/settle/redact"
PROBE_TIMEOUT = 2.0
# Idle connections are closed before Rasa's server (Sanic: 5 s) closes its side, so a turn is never sent on a
# connection that is being closed, which would look like a Rasa that died.
KEEPALIVE_SECONDS = 3.0

# Which instance (its index in the configured list) answered the last turn of the current request: the REST
# channel shows it in a response header, so tests and operators can see where a conversation is pinned.
answered_by: ContextVar[int | None] = ContextVar("rasa_answered_by", default=None)


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""

    def __init__(self, message: str, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason  # the settle_rasa_failures_total label


@dataclass(frozen=True)
class RasaTurn:
    """Rasa's replies to one message, and what its NLU read the message as (stored with it, REC-1)."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    instance: int | None = None  # which of RASA_URLS answered: where the conversation is pinned
    active_loop: str | None = None  # the form still asking its questions after this turn, if any
    requested_slot: str | None = None  # the slot that form asks for next (ID-2: an identity question waits)


class _Refused(Exception):
    """The instance is not there (connection refused): mark it down and try the next."""


class _Failed(Exception):
    """This attempt failed in a way another attempt may not (reset, timeout, 5xx)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # the settle_rasa_failures_total label


class RasaClient:
    def __init__(self, base_url: str | Sequence[str], timeout: float = 30.0, token: str = "",
                 retry_seconds: float = 45.0, probe_interval: float = 1.0) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.router = RasaRouter(urls)
        self._token = token
        # Our channel inside Rasa answers only with the API token (rasa_extensions/settle_channel.py).
        self._auth = {"Authorization": f"Bearer {token}"} if token else None
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._probe_interval = probe_interval
        self._probe: asyncio.Task[None] | None = None
        # aiohttp, not httpx: with 20 turns in flight httpx spent 2 ms of CPU per request managing its pool, aiohttp
        # 0.15 ms (measured on this machine), and every turn makes one.
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop, as aiohttp requires.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=KEEPALIVE_SECONDS),
                timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._session

    # --- the calls ------------------------------------------------------------------------------------------

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        """One turn of the conversation. With a `message_id` a failed attempt is retried on the next instance
        (Rasa replays a turn it already handled); without one only a refused connection fails over, because a
        turn that may have run must not run twice."""
        body: dict[str, Any] = {"sender": conversation_id, "message": text, "metadata": metadata}
        if message_id is not None:
            body["message_id"] = message_id
        data = await self._call(conversation_id, "POST", WEBHOOK, body, retry=message_id is not None,
                                headers=self._auth)
        nlu = data.get("nlu") or {}
        return RasaTurn(list(data.get("messages") or []), nlu.get("intent"), nlu.get("confidence"),
                        answered_by.get(), data.get("active_loop") or None, data.get("requested_slot") or None)

    async def parse(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        """NLU only, no dialogue: what the message means, for conversations a person owns. Nothing is written,
        so any instance will do and every failure may be retried elsewhere."""
        return await self._call(conversation_id or text, "POST", "/model/parse", {"text": text}, retry=True,
                                params={"token": self._token} if self._token else None)

    async def redact_message(self, conversation_id: str, message_id: str, text: str,
                             slots: dict[str, str] | None = None, keep_current: bool = True) -> int:
        """PCI-2: the message stored as `message_id` turned out to hold the start of a card number (the next message
        finished it); Rasa replaces it with `text`, the redacted text, in its tracker store: the user event and what
        followed it (slots filled from it, replies). Returns how many events were rewritten (0 when Rasa never saw
        the message). Rewriting twice changes nothing, so every failure may be retried elsewhere; it goes to the
        instance the conversation is pinned to, which forgets the tracker it kept in memory.
        ID-2, with `slots` (slot name -> what it holds, "[date of birth]"): the message answered an identity question
        and `text` is what was stored instead; every value those slots held is masked too, but each one's current
        value, which the identity check may still need (rasa_extensions/event_redaction.py); with `keep_current`
        false no check will run on them, and those are masked too."""
        body: dict[str, Any] = {"sender": conversation_id, "message_id": message_id, "text": text}
        if slots:
            body["slots"] = slots
            body["keep_current"] = keep_current
        data = await self._call(conversation_id, "POST", REDACT, body, retry=True, headers=self._auth)
        return int(data.get("rewritten") or 0)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        if self._session is not None:
            await self._session.close()

    # --- failover -----------------------------------------------------------------------------------------------

    async def _call(self, key: str, method: str, path: str, body: dict[str, Any], retry: bool,
                    params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        self._ensure_probe()
        deadline = time.monotonic() + self._retry_seconds
        # Failures that reached an instance (dropped, 5xx, timeout): two per instance at most, so that a turn that
        # fails everywhere (a bug, the action server down) is given up quickly rather than run over and over.
        failures_left = 2 * len(self.router.urls)
        backoff = 0.2
        while True:
            refused_all, last = True, "no Rasa instance configured"
            for url in self.router.candidates(key):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or failures_left <= 0:
                    break
                try:
                    data = await self._attempt(url, method, path, body, params, min(self._timeout, remaining),
                                               headers)
                except _Refused as exc:
                    self.router.mark_down(url)
                    last = str(exc)
                    continue
                except _Failed as exc:
                    refused_all, last = False, str(exc)
                    failures_left -= 1
                    if not retry:
                        raise RasaUnavailable(last) from exc
                    log.warning("Rasa %s failed (%s); trying the next instance", url, exc)
                    continue
                answered_by.set(self.router.index(url))
                return data
            # Nobody is listening: nothing to wait for. Otherwise the failure may pass (a lock held by a killed
            # instance expires, an instance finishes loading): try again while the budget lasts.
            if refused_all or failures_left <= 0 or time.monotonic() + backoff >= deadline:
                raise RasaUnavailable(last)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _attempt(self, url: str, method: str, path: str, body: dict[str, Any],
                       params: dict[str, str] | None, timeout: float,
                       headers: dict[str, str] | None = None) -> dict[str, Any]:
        """One call to one instance, timed and, when it fails, counted by reason (settle_rasa_*, bot/metrics.py)."""
        started = time.monotonic()
        try:
            return await self._request(url, method, path, body, params, timeout, headers)
        except _Refused:
            RASA_FAILURES.labels(instance=url, reason="refused").inc()
            raise
        except (_Failed, RasaUnavailable) as exc:
            RASA_FAILURES.labels(instance=url, reason=getattr(exc, "reason", "error")).inc()
            raise
        finally:
            RASA_REQUEST_SECONDS.labels(instance=url).observe(time.monotonic() - started)

    async def _request(self, url: str, method: str, path: str, body: dict[str, Any],
                       params: dict[str, str] | None, timeout: float,
                       headers: dict[str, str] | None) -> dict[str, Any]:
        try:
            async with self._client().request(method, url + path, json=body, params=params, headers=headers,
                                              timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                status = response.status
                data = await response.json(content_type=None) if status == 200 else None
        except aiohttp.ClientConnectorError as exc:
            raise _Refused(f"{url}: {exc.os_error or 'connection refused'}") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
            # The connection was dropped mid-request: the process most likely died. Mark it down now rather than
            # send it the next turn too; the probe brings it back as soon as /status answers.
            self.router.mark_down(url)
            raise _Failed(f"{url}: connection lost ({exc.__class__.__name__})", "lost") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:  # timeouts, unreadable answers
            reason = "timeout" if isinstance(exc, asyncio.TimeoutError) else "bad_answer"
            raise _Failed(f"{url}: {exc.__class__.__name__}", reason) from exc
        if status == 503:  # our channel: no model loaded yet
            self.router.mark_down(url)
            raise _Failed(f"{url}: Rasa answered 503", "no_model")
        if status >= 500:
            raise _Failed(f"{url}: Rasa answered {status}", "server_error")
        if status != 200:
            # A 4xx is our request's fault: another instance would say the same.
            raise RasaUnavailable(f"Rasa answered {status}", "client_error")
        return dict(data)

    # --- health probe -------------------------------------------------------------------------------------------

    def _ensure_probe(self) -> None:
        """Start the probe on first use (it needs the running event loop). One instance has no failover target,
        so the embedded default runs no probe at all."""
        if self._probe is None and len(self.router.urls) > 1:
            self._probe = asyncio.get_running_loop().create_task(self._probe_loop())

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.gather(*(self.probe(url) for url in self.router.urls))
            await asyncio.sleep(self._probe_interval)

    async def ready_instances(self) -> list[str]:
        """The instances answering /status with a model loaded, asked now, all at once (the gateway's /readyz)."""
        answers = await asyncio.gather(*(self.probe(url) for url in self.router.urls))
        return [url for url, up in zip(self.router.urls, answers, strict=True) if up]

    async def probe(self, url: str) -> bool | None:
        """Ask one instance's /status. Up (True) only with a model loaded; down (False) when it refuses or has no
        model; a probe that times out (a busy instance) changes nothing (None)."""
        params = {"token": self._token} if self._token else None
        try:
            async with self._client().get(f"{url}/status", params=params,
                                          timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT)) as response:
                up = response.status == 200 and bool((await response.json(content_type=None)).get("model_id"))
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            up = False
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, AttributeError):
            return None
        was_up = self.router.is_up(url)
        (self.router.mark_up if up else self.router.mark_down)(url)
        if up != was_up:
            log.warning("Rasa %s is %s", url, "up again" if up else "down")
        return up
