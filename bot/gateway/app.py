"""The gateway's ASGI app: `uvicorn --factory bot.gateway.app:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.config import Settings
from bot.db import get_engine
from bot.gateway import (
    console,
    conversation_lock,
    couriers,
    demo_phone,
    document_routes,
    email_routes,
    hardening,
    live,
    ops_routes,
    pay_routes,
    rate_limit,
    rest_channel,
    saved_answers,
    sms_channel,
    stripe_webhook,
    web_channel,
)
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaClient
from bot.records.listeners import register_flush_listeners

log = logging.getLogger(__name__)
# ID-2: how often each gateway process has Rasa mask identity answers left waiting past the idle time. Each sweep is
# a query on conversations awaiting an answer; any process may do one, the database decides which does each.
FORGET_SWEEP_SECONDS = 300


async def _every(seconds: float, what: str, work: Callable[[], Awaitable[object]]) -> None:
    """Run `work` every `seconds` for the life of the process; a failed round is logged and the next one tries again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception:  # one failed round must not end the loop
            log.exception("%s failed", what)


def _background_work(app: FastAPI, settings: Settings) -> list[Coroutine[object, object, None]]:
    pipeline: Pipeline = app.state.pipeline
    work = [_every(FORGET_SWEEP_SECONDS, "ID-2: the sweep of identity answers left waiting",
                   pipeline.forget_abandoned_answers)]
    if settings.answer_saved_seconds > 0:
        # ANSWER_SAVED_SECONDS: saved messages are answered in this process, whose hub reaches the open widgets.
        worker = saved_answers.worker_name("gateway")
        work.append(_every(settings.answer_saved_seconds, "answering saved messages in the gateway",
                           lambda: saved_answers.answer_round(app.state.engine, pipeline, pipeline.rasa,
                                                              couriers.couriers_for(app), worker)))
    return work


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    register_flush_listeners()  # REC-1: every message this process stores is sealed in the transcript chain

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One Rasa, or several with each conversation pinned to one (bot/gateway/rasa_router.py).
        # A turn still running is waited for up to the whole budget: its instance holds the conversation's lock, so
        # another instance could only wait for it too, and a retry under load only adds to the load. Failover is
        # for instances that refuse, drop the connection (died) or answer 5xx.
        rasa = RasaClient(settings.rasa_instances, token=settings.rasa_token, timeout=settings.rasa_retry_seconds,
                          retry_seconds=settings.rasa_retry_seconds)
        # The hub lets the pipeline wake the agent console; an owned conversation skips Rasa (bot/agents/).
        app.state.pipeline = Pipeline(app.state.engine, rasa, settings, hub=app.state.live)
        tasks = [asyncio.create_task(work) for work in _background_work(app, settings)]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await rasa.close()
        await app.state.live.close()
        await app.state.conversation_locks.close()

    app = FastAPI(title="Settle gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    hardening.install(app)  # short errors that never echo input, security headers, a body size limit (issue 18)
    app.state.engine = get_engine(settings.database_url)
    # Rate limits (README "Security"): every request per client IP here, each message per conversation in the
    # channels; in memory, or in Redis with REDIS_URL so that every worker counts together.
    app.state.rate_limiter = rate_limit.RateLimiter.for_settings(settings)
    # Twilio's inbound webhook counts per IP only what fails its signature check: a signed text refused is lost.
    app.add_middleware(rate_limit.PerIpLimit, limiter=app.state.rate_limiter,
                       signed_paths=frozenset({sms_channel.WEBHOOK_PATH}), exempt_paths=ops_routes.PATHS)
    app.add_middleware(ops_routes.WebhookFailures)  # a refused webhook is counted, rate limited (429) ones too
    # Outermost: every log line of a request, the rate limiter's and hardening's included, has its request id.
    app.add_middleware(ops_routes.RequestContext)
    app.include_router(rest_channel.router)
    app.include_router(sms_channel.router)  # /webhooks/twilio/webhook and /webhooks/twilio/status
    app.include_router(demo_phone.router)  # /phone: embedded mode only, and never with Twilio keys
    # Live fan-out to open widgets and the consoles, and the per-conversation lock of the web and SMS channels: in
    # this process by default, in Redis with REDIS_URL (several gateway workers: each must see the others' work).
    app.state.live = live.RedisHub(settings.redis_url) if settings.redis_url else live.InProcessHub()
    app.state.conversation_locks = conversation_lock.for_settings(settings.redis_url)
    app.include_router(web_channel.router)  # /widget.js, /widget/session, /widget/ws and the demo page /
    app.include_router(console.router)  # the agent console: /agent (login, queue, conversations, live updates)
    app.include_router(console.compliance.router)  # the compliance console: /compliance (REC-2)
    app.include_router(console.operations.router)  # the operations console: /ops (portfolio, campaigns, KPIs)
    app.include_router(pay_routes.router)  # /pay/<token> -> Stripe Checkout, and its return pages
    app.include_router(stripe_webhook.router)  # POST /webhooks/stripe (signed events)
    app.include_router(email_routes.router)  # /email/opt-out/<token> (EMAIL-2); /mailbox: embedded mode only
    app.include_router(ops_routes.router)  # /healthz, /readyz, /metrics (README "Operations")
    app.include_router(document_routes.router)  # /notices/<token> (DISC-5), /transcripts/check (REC-1)
    app.add_exception_handler(StarletteHTTPException, console.routes.not_found)  # a console's 404 is a page
    return app
