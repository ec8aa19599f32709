"""The gateway's operations endpoints (README "Operations"), thin over bot/health.py and bot/metrics.py:

- ``GET /healthz``: liveness. The process answers; nothing else is asked (cheap, and a database outage must not
  make Kubernetes restart every gateway).
- ``GET /readyz``: readiness. 200 when the database answers, Redis answers PING (when REDIS_URL is set) and at least
  one Rasa instance answers /status with a model loaded; 503 otherwise. Either way the JSON body names each check.
- ``WebhookFailures``: the middleware that counts refused or failed inbound webhooks (Stripe, Twilio).
- ``GET /metrics``: Prometheus text (bot/metrics.py), plus what the database says at scrape time: handoffs
  waiting, saved messages waiting (bot/messaging/saved.py), and job runs by job and outcome. With METRICS_TOKEN set,
  only with ``Authorization: Bearer <token>``.

``RequestContext`` is the ASGI middleware that gives every request an id (the caller's X-Request-ID when it is a
plain token, else a new one), echoed in the response header and put on every JSON log line of the request
(bot/logging_setup.py); the pipeline adds the conversation id once it knows it."""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import health, jobs, metrics
from bot.agents import queue as agent_queue
from bot.db import session_scope
from bot.gateway.rasa_client import RasaClient
from bot.logging_setup import conversation_id_var, request_id_var
from bot.messaging import saved

log = logging.getLogger("settle.gateway")

HEALTHZ, READYZ, METRICS = "/healthz", "/readyz", "/metrics"
PATHS = frozenset({HEALTHZ, READYZ, METRICS})
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")  # what a caller's id may be; anything else is replaced

router = APIRouter()


class RequestContext:
    """Sets request_id_var (and clears conversation_id_var) for each HTTP request and WebSocket; adds X-Request-ID
    to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request_token, conversation_token = request_id_var.set(request_id), conversation_id_var.set(None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (REQUEST_ID_HEADER.encode(), request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            conversation_id_var.reset(conversation_token)
            request_id_var.reset(request_token)


# The webhooks other services call us on, by the name settle_webhook_failures_total gives them.
WEBHOOKS = {"/webhooks/stripe": "stripe", "/webhooks/twilio/webhook": "twilio",
            "/webhooks/twilio/status": "twilio_status"}


class WebhookFailures:
    """Counts every answer of 400 or more to an inbound webhook (a bad signature, a malformed call, a failure the
    sender will retry) in settle_webhook_failures_total{webhook, reason} (reason: the status code)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        webhook = WEBHOOKS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if webhook is None:
            await self.app(scope, receive, send)
            return

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                metrics.WEBHOOK_FAILURES.labels(webhook=webhook, reason=str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, send_counted)


class DatabaseCollector:
    """Metrics read from the database when scraped, the same whichever worker or replica answers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope(self.engine) as session:
                waiting = agent_queue.waiting_count(session)
                saved_waiting = saved.waiting_count(session)
                runs = jobs.run_counts(session)
        except SQLAlchemyError as exc:  # the database is down: /readyz says so; /metrics still answers
            log.warning("metrics: database unreachable (%s)", exc.__class__.__name__)
            return
        yield GaugeMetricFamily("settle_handoffs_waiting", "Handoffs waiting for a person", value=waiting)
        # Messages stored while no Rasa answered, not yet answered (bot/messaging/saved.py): above 0 for more than a
        # few minutes, Rasa is down or the answer-saved job is not running.
        yield GaugeMetricFamily("settle_saved_messages_waiting", "Inbound messages saved while no Rasa answered, "
                                "waiting for their answer", value=saved_waiting)
        total = CounterMetricFamily("settle_job_runs", "Runs of the scheduled jobs, by outcome",
                                    labels=["job", "outcome"])
        last = GaugeMetricFamily("settle_job_last_run_timestamp_seconds",
                                 "When the latest run of each job and outcome began", labels=["job", "outcome"])
        for run in runs:
            total.add_metric([run.job, run.outcome], run.runs)
            last.add_metric([run.job, run.outcome], run.last_started_at.timestamp())
        yield total
        yield last


@router.get(HEALTHZ)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(READYZ)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks: dict[str, health.Check] = {"database": health.database_check(state.engine)}
    if state.settings.redis_url:
        checks["redis"] = health.redis_check(state.settings.redis_url)
    checks["rasa"] = _rasa_check(state.pipeline.rasa)
    readiness = await health.run_checks(checks)
    if not readiness.ok:
        log.warning("not ready: %s", ", ".join(readiness.failing))
    return JSONResponse(readiness.as_json(), status_code=200 if readiness.ok else 503)


def _rasa_check(rasa: RasaClient) -> health.Check:
    async def check() -> str:
        ready = await rasa.ready_instances()
        total = len(rasa.router.urls)
        if not ready:
            raise health.CheckFailed(f"none of {total} Rasa instances has a model loaded")
        return f"{len(ready)} of {total} instances with a model"

    return check


@router.get(METRICS)
async def metrics_endpoint(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await run_in_threadpool(metrics.exposition, [DatabaseCollector(request.app.state.engine)])
    return Response(body, media_type=metrics.CONTENT_TYPE)
