"""The action server's operations endpoints, beside rasa-sdk's own GET /health (liveness: the process answers):

- ``GET /readyz``: the app database answers (bot/health.py); 503 naming it when not.
- ``GET /metrics``: Prometheus text (bot/metrics.py): ``settle_action_seconds{action}``,
  ``settle_action_failures_total{action}`` and whatever this process counted (``settle_messages_blocked_total``
  when an action's message was blocked). ``action`` is a registered action's name, or "unregistered": a caller may
  send any name, and each new label value would be a series kept for the process's life. One Sanic worker: no
  multiprocess mode needed."""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Collection
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.context import engine
from bot import health, metrics
from bot.logging_setup import redact_text

logger = logging.getLogger(__name__)


def action_label(call: dict[str, Any] | None) -> str:
    """The call's action name for an answer, a metric or a log line: redacted before it is cut to length (a number
    cut in half would no longer be recognised as one), since a caller may send anything there."""
    name = call.get("next_action") if isinstance(call, dict) else None
    return redact_text(str(name or "unknown"))[:80]


UNREGISTERED = "unregistered"


def metric_label(call: dict[str, Any] | None, registered: Collection[str]) -> str:
    """The `action` label of a call's metrics: its name when this server has that action, else UNREGISTERED, so the
    series stay as many as the actions whatever callers send."""
    name = call.get("next_action") if isinstance(call, dict) else None
    return name if isinstance(name, str) and name in registered else UNREGISTERED


def action_call(request: Request) -> Any:
    """The call's body, parsed once per request and kept on it: the log context, the timing, the journal and the
    error answer all read it, and rasa-sdk's endpoint reads the same cached request.json (a deflated call it
    inflates again itself). None when a deflated body is not JSON; a plain one that is not JSON raises Sanic's
    BadRequest, as request.json does, which Sanic answers with its 400."""
    if not hasattr(request.ctx, "action_call"):
        try:
            if request.headers.get("Content-Encoding") == "deflate":  # Rasa may compress the call
                call = json.loads(zlib.decompress(request.body))
            else:
                call = request.json
        except (ValueError, zlib.error):
            call = None  # the endpoint itself answers
        request.ctx.action_call = call
    return request.ctx.action_call


def install_ops(app: Sanic, registered: Collection[str]) -> None:
    """Add /readyz and /metrics, and time every action call (labelled by `registered`, the executor's action names).
    Installed before the journal (actions/__main__.py), so a replayed answer is timed too."""
    registered = frozenset(registered)

    @app.middleware("request")
    async def start_clock(request: Request) -> None:
        if request.method == "POST" and request.path == "/webhook":
            call = action_call(request)
            request.ctx.action = (action_label(call), metric_label(call, registered), time.monotonic())

    @app.middleware("response")
    async def stop_clock(request: Request, answer: HTTPResponse) -> None:
        started = getattr(request.ctx, "action", None)
        if started is None:
            return
        name, label, at = started
        seconds = time.monotonic() - at
        metrics.ACTION_SECONDS.labels(action=label).observe(seconds)
        if answer.status >= 400:
            metrics.ACTION_FAILURES.labels(action=label).inc()
        # One line per call, as the gateway logs one per message: what ran and how it went, never what was said.
        logger.info("action %s answered %s in %d ms", name, answer.status, seconds * 1000)

    @app.get("/readyz")
    async def readyz(_: Request) -> HTTPResponse:
        readiness = await health.run_checks({"database": health.database_check(engine())})
        return response.json(readiness.as_json(), status=200 if readiness.ok else 503)

    @app.get("/metrics")
    async def metrics_endpoint(_: Request) -> HTTPResponse:
        return response.raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
