"""The gateway's ASGI app: `uvicorn --factory bot.gateway.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.config import Settings
from bot.db import get_engine
from bot.gateway import rest_channel
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaClient


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rasa = RasaClient(settings.rasa_url)
        app.state.pipeline = Pipeline(app.state.engine, rasa, settings)
        yield
        await rasa.close()

    app = FastAPI(title="Settle gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = get_engine(settings.database_url)
    app.include_router(rest_channel.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
