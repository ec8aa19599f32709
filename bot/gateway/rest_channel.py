"""The REST channel, in Rasa's exact shape: POST /webhooks/rest/webhook with {"sender", "message"} in and a
list of {"recipient_id", "text", ...} out. For tests and integrations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot import conversations
from bot.db import session_scope
from bot.db.models import Conversation, Message
from bot.gateway.rasa_client import RasaUnavailable

router = APIRouter()

CHANNEL = "rest"
EMPTY_MESSAGE_REPLY = (
    "Sorry, I didn't catch that. You can say 'balance', 'payment plan', 'pay now' or 'talk to a person'."
)
UNAVAILABLE_REPLY = (
    "Sorry, I'm having trouble right now. Your message is saved. "
    "Please try again in a few minutes, or say 'talk to a person'."
)


class RestMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=5000)
    metadata: dict[str, Any] | None = None


def _store_inbound(engine: Any, sender: str, text: str) -> tuple[str, int]:
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, CHANNEL, sender)
        message = conversations.record_message(
            session, conversation, direction="in", sender_role="debtor", text=text, status="received"
        )
        return conversation.id, message.id


def _store_replies(engine: Any, conversation_id: str, inbound_id: int, replies: list[dict[str, Any]],
                   inbound_status: str) -> None:
    with session_scope(engine) as session:
        conversation = session.get(Conversation, conversation_id)
        inbound = session.get(Message, inbound_id)
        inbound.status = inbound_status
        for reply in replies:
            extra = {k: v for k, v in reply.items() if k not in ("recipient_id", "text")}
            conversations.record_message(
                session, conversation, direction="out", sender_role="bot", text=reply.get("text", ""),
                payload=extra or None, status="sent",
            )


@router.post("/webhooks/rest/webhook")
async def rest_webhook(body: RestMessage, request: Request) -> JSONResponse:
    state = request.app.state
    conversation_id, inbound_id = await run_in_threadpool(_store_inbound, state.engine, body.sender, body.message)
    if not body.message.strip():
        replies = [{"text": EMPTY_MESSAGE_REPLY}]
        status = "processed"
    else:
        try:
            replies = await state.rasa.send(conversation_id, body.message, {"channel": CHANNEL})
            status = "processed"
        except RasaUnavailable:
            # The message is already stored; it is marked so that nothing is silently lost.
            replies = [{"text": UNAVAILABLE_REPLY}]
            status = "unprocessed"
    # Rasa's shape, addressed back to the caller's own sender id (ours stays internal).
    outgoing = [{"recipient_id": body.sender, **{k: v for k, v in r.items() if k != "recipient_id"}}
                for r in replies]
    await run_in_threadpool(_store_replies, state.engine, conversation_id, inbound_id, outgoing, status)
    return JSONResponse(outgoing)
