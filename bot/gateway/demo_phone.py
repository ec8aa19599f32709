"""A local demo phone at GET /phone: pick a number from the demo portfolio (or type one), text the bot, read the
thread. Only in the embedded demo (SETTLE_MODE=embedded, which `make run` sets) and only without Twilio keys,
where the texts the bot sends stay in the local outbox (the stored messages) and nothing leaves the machine;
DEMO_PHONE=0 turns it off there too. In production mode it does not exist (404), keys or not: it reads and
writes any number's thread without a login.

A text typed here goes through SmsChannel.receive(), the same function a signed Twilio webhook reaches, so it is
stored, gated and answered exactly like a real SMS, and counts as the debtor texting from that number (ID-5).
Anyone who can reach this page can text as any number, hence: never in production, never with Twilio
configured, each text counts against that number's per-conversation rate limit, and the POST needs a
JSON body and a custom header, so another site cannot send a text from a visitor's browser (no CORS preflight
would pass)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from bot import sms, wording
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Debtor, Message
from bot.gateway import texts
from bot.gateway.rate_limit import too_many
from bot.gateway.sms_channel import CHANNEL, Inbound, get_channel

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

THREAD_LIMIT = 200
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


def enabled(settings: Settings) -> bool:
    return settings.embedded and settings.demo_phone and not sms.twilio_configured(settings)


def _require_enabled(request: Request) -> None:
    if not enabled(request.app.state.settings):
        raise HTTPException(status_code=404)


def normalise_number(raw: str) -> str | None:
    """"+1 (555) 555-0101" -> "+15555550101"; ten digits are taken as a US number; None if it is not E.164."""
    digits = re.sub(r"[^\d+]", "", raw or "")
    if re.fullmatch(r"\d{10}", digits):
        digits = "+1" + digits
    elif re.fullmatch(r"1\d{10}", digits):
        digits = "+" + digits
    return digits if _PHONE.match(digits) else None


def demo_numbers(engine: Engine) -> list[str]:
    """The portfolio's phone numbers and any number that has texted (numbers only: no names on this page)."""
    with session_scope(engine) as session:
        numbers = set(session.scalars(select(Debtor.phone).where(Debtor.phone.is_not(None))))
        numbers |= set(session.scalars(select(Conversation.external_id).where(Conversation.channel == CHANNEL)))
    return sorted(n for n in numbers if n and _PHONE.match(n))


def thread(engine: Engine, number: str, text_links: sms.TextLinks | None = None,
           max_segments: int = sms.REPLY_SEGMENTS) -> list[dict[str, Any]]:
    """What the phone shows: the debtor's texts and the bot's texts as sent (numbered choices, a long one as its
    short form with the link: sms.reply_body), oldest first. Replies the outbound gate blocked never reached the
    phone, so they are not shown."""
    with session_scope(engine) as session:
        conversation = session.scalar(select(Conversation).where(
            Conversation.channel == CHANNEL, Conversation.external_id == number))
        if conversation is None:
            return []
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                               .order_by(Message.id.desc()).limit(THREAD_LIMIT)).all()
        bodies = {row.id: sms.reply_body(session, conversation, row.id, row.text, (row.payload or {}).get("buttons"),
                                         None, text_links, max_segments)
                  for row in rows if row.direction == "out" and row.status == "sent"}
    shown = []
    for row in reversed(rows):
        if row.direction == "out" and row.status != "sent":
            continue
        payload = row.payload or {}
        text = row.text if row.direction == "in" else bodies[row.id]
        shown.append({
            "id": row.id, "direction": row.direction, "role": row.sender_role, "text": text,
            "at": row.created_at.isoformat(),
            "delivery": (payload.get("sms") or {}).get("status") if row.direction == "out" else None,
            "media": (payload.get("twilio") or {}).get("num_media") or 0,
        })
    return shown


@router.get("/phone", response_class=HTMLResponse, include_in_schema=False)
async def phone_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """A demo page, so the interface's words (bot/gateway/texts "phone"): the browser's language or `?lang=`."""
    _require_enabled(request)
    numbers = await run_in_threadpool(demo_numbers, request.app.state.engine)
    shown = texts.preferred(request.headers.get("accept-language"), lang)
    response = templates.TemplateResponse(request, "phone.html", {
        "numbers": numbers, "t": texts.section("phone", shown), "lang": shown,
        "other": wording.SPANISH if shown == wording.ENGLISH else wording.ENGLISH})
    response.headers["Content-Language"] = shown
    response.headers["Vary"] = "Accept-Language"
    return response


def _bad_number(request: Request) -> JSONResponse:
    speaks = texts.preferred(request.headers.get("accept-language"))
    return JSONResponse({"error": texts.say("phone", "bad_number", speaks)}, status_code=400)


@router.get("/phone/api/thread", include_in_schema=False)
async def phone_thread(request: Request, number: str) -> JSONResponse:
    _require_enabled(request)
    normalised = normalise_number(number)
    if normalised is None:
        return _bad_number(request)
    channel = get_channel(request.app)
    messages = await run_in_threadpool(thread, request.app.state.engine, normalised, channel.text_links,
                                       channel.max_segments)
    return JSONResponse({"number": normalised, "messages": messages})


class PhoneText(BaseModel):
    number: str = Field(min_length=1, max_length=40)
    text: str = Field(default="", max_length=5000)


@router.post("/phone/api/send", include_in_schema=False)
async def phone_send(request: Request) -> JSONResponse:
    _require_enabled(request)
    if request.headers.get("x-demo-phone") != "1" or \
            not request.headers.get("content-type", "").startswith("application/json"):
        return JSONResponse({"error": "Send JSON with the X-Demo-Phone header."}, status_code=400)
    try:  # not JSON, not UTF-8, or not the shape: the caller's mistake (400), never a 500 or an echo of it
        body = PhoneText.model_validate_json(await request.body())
    except ValidationError:
        return JSONResponse({"error": "Send JSON like {\"number\": \"+15555550101\", \"text\": \"hi\"}."},
                            status_code=400)
    number = normalise_number(body.number)
    if number is None:
        return _bad_number(request)
    limited = await request.app.state.rate_limiter.conversation(CHANNEL, number)
    if limited is not None:
        return too_many(limited, accept_language=request.headers.get("accept-language"))
    replies = await get_channel(request.app).receive(Inbound(number, body.text))
    return JSONResponse({"number": number, "replies": [r["text"] for r in replies]})
