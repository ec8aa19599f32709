"""The REST channel, in Rasa's exact shape: POST /webhooks/rest/webhook with {"sender", "message"} in and a
list of {"recipient_id", "text", ...} out. For tests and integrations; the pipeline does the work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.gateway.rasa_client import answered_by

router = APIRouter()

CHANNEL = "rest"
RASA_INSTANCE_HEADER = "X-Settle-Rasa-Instance"


class RestMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=5000)
    metadata: dict[str, Any] | None = None


@router.post("/webhooks/rest/webhook")
async def rest_webhook(body: RestMessage, request: Request) -> JSONResponse:
    answered_by.set(None)
    replies = await request.app.state.pipeline.handle(CHANNEL, body.sender, body.message)
    # Which Rasa instance answered (its index in RASA_URLS), when one did: where the conversation is pinned.
    instance = answered_by.get()
    headers = {RASA_INSTANCE_HEADER: str(instance)} if instance is not None else None
    # Rasa's shape, addressed back to the caller's own sender id (ours stays internal).
    return JSONResponse([{"recipient_id": body.sender, **{k: v for k, v in r.items() if k != "recipient_id"}}
                         for r in replies], headers=headers)
