"""The REST channel, in Rasa's exact shape: POST /webhooks/rest/webhook with {"sender", "message"} in and a
list of {"recipient_id", "text", ...} out. For tests and integrations; the pipeline does the work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

router = APIRouter()

CHANNEL = "rest"


class RestMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=5000)
    metadata: dict[str, Any] | None = None


@router.post("/webhooks/rest/webhook")
async def rest_webhook(body: RestMessage, request: Request) -> JSONResponse:
    replies = await request.app.state.pipeline.handle(CHANNEL, body.sender, body.message)
    # Rasa's shape, addressed back to the caller's own sender id (ours stays internal).
    return JSONResponse([{"recipient_id": body.sender, **{k: v for k, v in r.items() if k != "recipient_id"}}
                         for r in replies])
