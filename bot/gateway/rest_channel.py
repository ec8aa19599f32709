"""The REST channel, in Rasa's exact shape: POST /webhooks/rest/webhook with {"sender", "message"} in and a
list of {"recipient_id", "text", ...} out. For tests and integrations; the pipeline does the work.

Whoever holds a sender id continues that conversation, verified state included, so the channel is an integration
API behind a credential (README "Security"):
  * production mode (SETTLE_MODE unset or "production"): off (404) unless REST_API_TOKEN is set, and then every
    call needs `Authorization: Bearer <token>` (401 without it or with another one);
  * embedded mode (the demo `make run` starts): open, but only to loopback clients (403 otherwise); with
    REST_API_TOKEN set the token is needed there too.
Each message also counts against its sender's per-conversation rate limit (bot/gateway/rate_limit.py)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from bot.compliance import redaction
from bot.config import Settings
from bot.gateway.rate_limit import too_many

router = APIRouter()

CHANNEL = "rest"
RASA_INSTANCE_HEADER = "X-Settle-Rasa-Instance"


class RestMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=5000)
    metadata: dict[str, Any] | None = None

    @field_validator("sender")
    @classmethod
    def _no_card_or_ssn(cls, sender: str) -> str:
        # The sender id is stored as the conversation's external id and echoed as recipient_id, unredacted (it
        # names a conversation; redacting it would merge different callers'): one holding a card number or an SSN
        # is refused with a 422 instead (issue 18).
        if redaction.redact(sender).kinds:
            raise ValueError("the sender id holds a card number or an SSN")
        return sender


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address at all (a test client's made-up name)
        return False


def bearer_ok(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # Constant-time over the bytes, so a wrong token's timing says nothing about how much of it was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def require_access(request: Request) -> None:
    """Runs before the body is read: a caller without access learns nothing, not even what a valid body is."""
    settings: Settings = request.app.state.settings
    if not settings.embedded and not settings.rest_api_token:
        raise HTTPException(status_code=404)  # off: as if there were no such route
    if settings.embedded and not is_loopback(request.client.host if request.client else None):
        raise HTTPException(status_code=403, detail="The demo's REST channel answers loopback clients only.")
    if settings.rest_api_token and not bearer_ok(request, settings.rest_api_token):
        raise HTTPException(status_code=401, detail="Send Authorization: Bearer <REST_API_TOKEN>.",
                            headers={"WWW-Authenticate": 'Bearer realm="settle"'})


@router.post("/webhooks/rest/webhook", dependencies=[Depends(require_access)])
async def rest_webhook(body: RestMessage, request: Request) -> Response:
    limited = await request.app.state.rate_limiter.conversation(CHANNEL, body.sender)
    if limited is not None:
        return too_many(limited, request.headers.get("accept", ""), request.headers.get("accept-language"))
    result = await request.app.state.pipeline.handle(CHANNEL, body.sender, body.message)
    # Which Rasa instance answered (its index in RASA_URLS), when one did: where the conversation is pinned.
    headers = {RASA_INSTANCE_HEADER: str(result.instance)} if result.instance is not None else None
    # Rasa's shape, addressed back to the caller's own sender id (ours stays internal). The REST channel has no
    # courier: what was sent is what this answer carries.
    return JSONResponse([{"recipient_id": body.sender, **p.as_reply()} for p in result.sent], headers=headers)
