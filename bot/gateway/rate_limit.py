"""Rate limits on the gateway's public edge, counted by the `limits` library (sliding window counters).

Two gateway limits (README "Security"; the third, identity checks per account, is bot/identity.py's):
  * per client IP, on every HTTP request and WebSocket connection, whatever the route (RATE_LIMIT_PER_IP); on a
    route named in `signed_paths` (Twilio's inbound webhook) the route counts it itself, and only for a request
    whose signature it refused: a signed inbound text refused with a 4xx is never sent again, so it is lost;
  * per conversation, on each message a channel takes in, keyed by the channel and its external id: the REST
    sender, the SMS number (Twilio or the demo phone), the widget's conversation (RATE_LIMIT_PER_CONVERSATION).
    The SMS webhook never refuses a signed text for it either: the text is stored and answered in turn, and
    the burst is audited (bot/gateway/sms_channel.py).
Counters live in this process's memory by default and in Redis with REDIS_URL, so several gateway workers share
them. Over a limit an HTTP request gets 429 with Retry-After (seconds) and a short body, JSON unless the client
asked for HTML; a widget message gets an error frame with `retry_after`.

The client IP is the socket peer, or the X-Forwarded-For address uvicorn's proxy-header support puts there when
the peer is a trusted proxy (FORWARDED_ALLOW_IPS, loopback by default). Nothing else is exempt: the benchmark,
which drives 100 conversations from 127.0.0.1, raises RATE_LIMIT_PER_IP for its own stack, out loud.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from html import escape

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import Settings
from bot.gateway import texts

log = logging.getLogger(__name__)

NAMESPACE = "settle-rl"
IP, CONVERSATION = "ip", "conversation"


@dataclass(frozen=True)
class Refusal:
    """A request over a limit: which limit, and how many seconds until it would be let through."""

    limit: str
    retry_after: int


class RateLimiter:
    def __init__(self, per_ip: str, per_conversation: str, redis_url: str = "") -> None:
        self.items: dict[str, RateLimitItem] = {IP: parse(per_ip), CONVERSATION: parse(per_conversation)}
        # redis-py's asyncio client (already a dependency) rather than coredis, the `limits` default for Redis.
        self.storage = (storage_from_string(f"async+{redis_url}", implementation="redispy") if redis_url
                        else storage_from_string("async+memory://"))
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)

    @classmethod
    def for_settings(cls, settings: Settings) -> RateLimiter:
        return cls(settings.rate_limit_per_ip, settings.rate_limit_per_conversation, settings.redis_url)

    async def hit(self, limit: str, *key: str) -> Refusal | None:
        """Count one request against `limit` for `key`; a Refusal when it is over, else None."""
        item = self.items[limit]
        if await self.strategy.hit(item, NAMESPACE, limit, *key):
            return None
        stats = await self.strategy.get_window_stats(item, NAMESPACE, limit, *key)
        return Refusal(limit, max(1, math.ceil(stats.reset_time - time.time())))

    async def conversation(self, channel: str, external_id: str) -> Refusal | None:
        return await self.hit(CONVERSATION, channel, external_id)


def too_many(refusal: Refusal, accept: str = "", accept_language: str | None = None) -> Response:
    """429 with Retry-After and a short body (HTML for a browser page, JSON otherwise), in the browser's language:
    refused before any route runs, it knows no conversation (bot/gateway/texts "errors")."""
    speaks = texts.preferred(accept_language)
    text = texts.say("errors", "too_many_requests", speaks, n=refusal.retry_after)
    headers = {"Retry-After": str(refusal.retry_after), "Content-Language": speaks}
    if "text/html" in accept:
        title = texts.say("errors", "too_many_requests_title", speaks)
        return HTMLResponse(f'<!doctype html><html lang="{speaks}"><meta charset="utf-8"><title>{escape(title)}'
                            f"</title><p>{escape(text)}</p></html>", status_code=429, headers=headers)
    return JSONResponse({"error": "rate_limited", "detail": text, "retry_after": refusal.retry_after},
                        status_code=429, headers=headers)


class PerIpLimit:
    """ASGI middleware: every HTTP request and WebSocket handshake counts against its client IP's limit, except on
    `signed_paths`, whose route counts the requests whose signature it refuses (see the module docstring)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, signed_paths: frozenset[str] = frozenset(),
                 exempt_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.limiter = limiter
        self.signed_paths = signed_paths
        # Probes and scrapes (/healthz, /readyz, /metrics): never refused, and never failed by a limiter whose Redis
        # is down, which would make every liveness probe fail and restart every gateway at once.
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or (
                scope["type"] == "http" and scope.get("path") in self.signed_paths | self.exempt_paths):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        refusal = await self.limiter.hit(IP, client[0] if client else "unknown")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        log.warning("rate limit: %s over the per-IP limit", client[0] if client else "unknown")
        if scope["type"] == "websocket":
            # Closing before accepting refuses the handshake (HTTP 403); the widget retries with backoff.
            await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})
            return
        headers = dict(scope.get("headers") or [])
        accept = headers.get(b"accept", b"").decode("latin-1")
        await too_many(refusal, accept, headers.get(b"accept-language", b"").decode("latin-1"))(scope, receive, send)
