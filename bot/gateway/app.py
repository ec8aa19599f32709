"""The gateway's ASGI app: `uvicorn --factory bot.gateway.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.config import Settings
from bot.db import get_engine
from bot.gateway import console, demo_phone, live, pay_routes, rest_channel, sms_channel, stripe_webhook, web_channel
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaClient


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rasa = RasaClient(settings.rasa_url, token=settings.rasa_token)
        # The hub lets the pipeline wake the agent console; an owned conversation skips Rasa (bot/agents/).
        app.state.pipeline = Pipeline(app.state.engine, rasa, settings, hub=app.state.live)
        yield
        await rasa.close()

    app = FastAPI(title="Settle gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = get_engine(settings.database_url)
    app.include_router(rest_channel.router)
    app.include_router(sms_channel.router)  # /webhooks/twilio/webhook and /webhooks/twilio/status
    app.include_router(demo_phone.router)  # /phone, only without Twilio keys
    # Live fan-out to open widgets (and later the agent console); Redis pub/sub replaces it across workers.
    app.state.live = live.InProcessHub()
    app.include_router(web_channel.router)  # /widget.js, /widget/session, /widget/ws and the demo page /
    app.include_router(console.router)  # the agent console: /agent (login, queue, conversations, live updates)
    app.include_router(console.compliance.router)  # the compliance console: /compliance (REC-2)
    app.include_router(pay_routes.router)  # /pay/<token> -> Stripe Checkout, and its return pages
    app.include_router(stripe_webhook.router)  # POST /webhooks/stripe (signed events)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
