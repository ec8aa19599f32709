"""The action server's operations endpoints, beside rasa-sdk's own GET /health (liveness: the process answers):

- ``GET /readyz``: the app database answers (bot/health.py); 503 naming it when not.
- ``GET /metrics``: Prometheus text (bot/metrics.py): ``settle_action_seconds{action}``,
  ``settle_action_failures_total{action}`` and whatever this process counted (``settle_messages_blocked_total`` when
  an action's message was blocked). One Sanic worker: no multiprocess mode needed."""

from __future__ import annotations

import json
import time
import zlib

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.context import engine
from bot import health, metrics


def _action_name(request: Request) -> str:
    try:
        body = zlib.decompress(request.body) if request.headers.get("Content-Encoding") == "deflate" else request.body
        return str(json.loads(body).get("next_action") or "unknown")[:80]
    except (ValueError, zlib.error, AttributeError):
        return "unknown"


def install_ops(app: Sanic) -> None:
    """Add /readyz and /metrics, and time every action call. Installed before the journal (actions/__main__.py), so a
    replayed answer is timed too."""

    @app.middleware("request")
    async def start_clock(request: Request) -> None:
        if request.method == "POST" and request.path == "/webhook":
            request.ctx.action = (_action_name(request), time.monotonic())

    @app.middleware("response")
    async def stop_clock(request: Request, answer: HTTPResponse) -> None:
        started = getattr(request.ctx, "action", None)
        if started is None:
            return
        name, at = started
        metrics.ACTION_SECONDS.labels(action=name).observe(time.monotonic() - at)
        if answer.status >= 400:
            metrics.ACTION_FAILURES.labels(action=name).inc()

    @app.get("/readyz")
    async def readyz(_: Request) -> HTTPResponse:
        readiness = await health.run_checks({"database": health.database_check(engine())})
        return response.json(readiness.as_json(), status=200 if readiness.ok else 503)

    @app.get("/metrics")
    async def metrics_endpoint(_: Request) -> HTTPResponse:
        return response.raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
