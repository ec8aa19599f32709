"""The SMS channel: Twilio's webhooks, and the one function every inbound text goes through (the demo phone calls
it too).

POST /webhooks/twilio/webhook (Rasa's path, so a Twilio number set up for Rasa carries over):
  1. X-Twilio-Signature is checked with Twilio's RequestValidator against PUBLIC_BASE_URL + path and the form
     fields; anything else gets 403 and an "sms_signature_rejected" audit event. Without Twilio keys there is
     nothing to check against, so every request is refused (the demo phone needs no webhook).
  2. A replayed MessageSid changes nothing: the SID is kept on the stored inbound Message (payload["twilio"])
     and looked up in that number's conversation; SIDs being processed right now are held in memory.
  3. A number texting faster than RATE_LIMIT_PER_CONVERSATION is not refused (Twilio never sends an inbound text
     again after a 4xx): its texts are taken like any other and an "sms_rate_limited" audit event names each one
     over the limit. The per-IP limit counts only requests whose signature is refused (429 over it).
  4. Twilio gets an empty <Response/> at once; the text goes through the pipeline ("sms", From, Body: stored
     first, then STOP/HELP/START, Rasa and the outbound gate) in a background task, and the replies go out
     through the REST API from a worker thread (bot/sms.py: split, retried, with a status callback).
POST /webhooks/twilio/status: Twilio's delivery reports, signature-checked the same way, recorded on the stored
  reply (payload["sms"]).

Texts from one number are taken one at a time, in order (a lock per number, held while the SID is checked and the
text stored with it), and answered like any channel's: texts that arrive while the number's Rasa turn runs are
folded into one turn (bot/gateway/pipeline.py). The answers go out in the order they were given."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request, Response
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator, get_signature_algorithm

from bot import audit, language, sms, wording
from bot.agents import queue as agent_queue
from bot.compliance import redaction
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message
from bot.gateway.conversation_lock import ConversationLocks, InProcessLocks
from bot.gateway.pipeline import Pipeline, TurnResult
from bot.gateway.rate_limit import IP, Refusal, too_many
from bot.messaging import outbox
from bot.messaging.delivery import Couriers
from bot.messaging.outbox import Draft, Posted

log = logging.getLogger("settle.sms")
router = APIRouter()

CHANNEL = sms.CHANNEL
WEBHOOK_PATH = "/webhooks/twilio/webhook"
STATUS_PATH = sms.STATUS_PATH
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio caps an inbound text at 1600 characters; anything longer is processed in part and kept whole.
MAX_PROCESSED_CHARS = 1600
# PCI-1: a picture could be a card or an ID; say we can't read it and what to do instead.
MEDIA_REPLY = wording.say("media_reply")  # the English; said in the conversation's language
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164


def truncate_for_processing(text: str, limit: int = MAX_PROCESSED_CHARS) -> str:
    """The first `limit` characters, cut at a space when there is one, and never ending in a partial digit
    run (PCI-2: half a card number would slip past the card scan and be stored)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return re.sub(r"[\d\s./-]+$", "", cut).rstrip()


@dataclass(frozen=True)
class Inbound:
    """One text as Twilio (or the demo phone) hands it over."""

    from_number: str
    body: str
    message_sid: str | None = None
    num_media: int = 0
    media_types: tuple[str, ...] = ()


class SmsChannel:
    """Per app: the pipeline, the Twilio sender (None: local outbox) and the per-number locks."""

    def __init__(self, engine: Engine, pipeline: Pipeline, settings: Settings,
                 sender: sms.TwilioSender | None, locks: ConversationLocks | None = None) -> None:
        self.engine, self.pipeline, self.settings, self.sender = engine, pipeline, settings, sender
        self.max_segments = settings.sms_max_segments
        # The outbox's SMS courier; without keys there is none and the stored replies are the local outbox.
        self.text_links = sms.text_links(settings)  # a long reply's link to its whole text (sms.as_sent)
        self.courier = sms.SmsCourier(engine, sender, self.max_segments, self.text_links) \
            if sender is not None else None
        self.couriers = Couriers({CHANNEL: self.courier})
        # One number's texts taken one at a time, across gateway workers too: the SID check and the store of the
        # text with its SID are a check-then-tag, safe only under this lock (bot/gateway/conversation_lock.py). It
        # is not held while the text is answered, so texts arriving meanwhile are stored and folded.
        self.locks: ConversationLocks = locks or InProcessLocks()
        # This worker's answers to one number go to Twilio one text's answers at a time, in the order the answers
        # came (waiters on an asyncio.Lock are served first come, first served).
        self._sending = InProcessLocks()
        # This worker's SIDs being processed: a fast refusal of a replay racing its original on the same worker
        # (on another worker the lock and the stored SID catch it).
        self._in_flight: set[str] = set()

    # --- signatures ----------------------------------------------------------------------------------------

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: ours as Twilio sees it (PUBLIC_BASE_URL), not as the proxy hands it to us."""
        if not self.settings.public_base_url:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{self.settings.public_base_url.rstrip('/')}{request.url.path}{query}"

    def signature_valid(self, request: Request, form: Any) -> bool:
        token = self.settings.twilio_auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        if not token or not signature:
            return False
        algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        return RequestValidator(token).validate(self.signed_url(request), form, signature, algorithm)

    def reject(self, request: Request, form: Mapping[str, Any]) -> None:
        reason = "twilio not configured" if not self.settings.twilio_auth_token else (
            "no signature" if not request.headers.get("X-Twilio-Signature") else "signature mismatch")
        with session_scope(self.engine) as session:
            audit.record(session, "sms_signature_rejected", actor="unknown", detail={
                "path": request.url.path, "reason": reason,
                "client": request.client.host if request.client else None,
                "message_sid": str(form.get("MessageSid") or "")[:64] or None,
            })
        log.warning("refused a Twilio webhook on %s: %s", request.url.path, reason)

    # --- replays ---------------------------------------------------------------------------------------------

    def claim(self, message_sid: str) -> bool:
        """False if this SID is being processed right now (a replay racing the original)."""
        if message_sid in self._in_flight:
            return False
        self._in_flight.add(message_sid)
        return True

    def release(self, message_sid: str) -> None:
        self._in_flight.discard(message_sid)

    def seen(self, from_number: str, message_sid: str) -> bool:
        """Already stored: an inbound message of this number's conversation carries the SID."""
        with session_scope(self.engine) as session:
            conversation_id = session.scalar(select(Conversation.id).where(
                Conversation.channel == CHANNEL, Conversation.external_id == from_number))
            if conversation_id is None:
                return False
            found = session.scalar(select(Message.id).where(
                Message.conversation_id == conversation_id, Message.direction == "in",
                Message.payload["twilio"]["message_sid"].as_string() == message_sid).limit(1))
            return found is not None

    # --- the one way in ----------------------------------------------------------------------------------------

    async def receive(self, inbound: Inbound) -> list[dict[str, Any]]:
        """Store and answer one text, then send the answers (Twilio) or leave them in the local outbox.
        Returns the replies as sent (with numbered choices), [] for a replay or a text folded into a later one's
        turn (that one's answer is the answer to both)."""
        body = inbound.body or ""
        text = truncate_for_processing(body)
        async with self.locks.hold(f"sms:{inbound.from_number}"):
            if inbound.message_sid and await run_in_threadpool(self.seen, inbound.from_number, inbound.message_sid):
                return []  # another gateway worker took it first
            pending = await self.pipeline.accept(CHANNEL, inbound.from_number, text,
                                                 tag={"twilio": self._twilio_tag(inbound, body != text)})
        result = await pending
        # Nothing awaited between the answer and the lock: the answers' order is kept.
        async with self._sending.hold(inbound.from_number):
            media = await run_in_threadpool(self._media_reply, inbound, result)
            sent = result.sent + [p for p in media if p.sent]
            await self.couriers.deliver(sent)
        return [{"text": await run_in_threadpool(sms.reply_body_of, self.engine, p, self.text_links,
                                                 self.max_segments),
                 "message_id": p.message_id} for p in sent]

    @staticmethod
    def _twilio_tag(inbound: Inbound, truncated: bool) -> dict[str, Any]:
        """What the stored text keeps of Twilio's webhook: the SID (the replay check), media, the whole text."""
        twilio: dict[str, Any] = {"message_sid": inbound.message_sid}
        if inbound.num_media:
            # Only how many and what kind: a picture's URL could lead to a photo of a card (PCI-3).
            twilio.update(num_media=inbound.num_media, media_types=list(inbound.media_types))
        if truncated:
            # PCI-2: the whole text is kept, redacted the same way as the part that was processed.
            twilio.update(truncated_for_processing=True,
                          full_text=redaction.redact(inbound.body).text, full_length=len(inbound.body))
        return twilio

    def _media_reply(self, inbound: Inbound, result: TurnResult) -> list[Posted]:
        """A picture sent alone is told pictures cannot be read."""
        if not inbound.num_media or (inbound.body or "").strip():
            return []
        with session_scope(self.engine) as session:
            conversation = session.get(Conversation, result.conversation_id)
            if agent_queue.owner(session, conversation.id) is not None:
                return []  # while a person owns the conversation the bot adds nothing of its own
            window = timedelta(minutes=self.settings.session_idle_minutes)
            text = wording.say("media_reply", language.current(session, conversation))
            return [outbox.post_reply(session, conversation, Draft(text), window=window)]

    async def process(self, inbound: Inbound) -> None:
        """The webhook's background task: never raises (the 200 is long gone), always releases the SID."""
        try:
            await self.receive(inbound)
        except Exception:
            log.exception("an inbound SMS (%s) failed after it was accepted", inbound.message_sid)
        finally:
            if inbound.message_sid:
                self.release(inbound.message_sid)


def get_channel(app: FastAPI) -> SmsChannel:
    """The app's SMS channel, made on first use (the pipeline only exists once the app has started)."""
    channel = getattr(app.state, "sms_channel", None)
    if channel is None:
        settings: Settings = app.state.settings
        channel = SmsChannel(app.state.engine, app.state.pipeline, settings, sms.sender_from_settings(settings),
                             getattr(app.state, "conversation_locks", None))
        app.state.sms_channel = channel
    return channel


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="application/xml")


def _int(value: Any) -> int:
    try:
        return max(0, int(str(value or "0").strip()))
    except ValueError:
        return 0


@router.post(WEBHOOK_PATH)
async def twilio_webhook(request: Request, background: BackgroundTasks) -> Response:
    channel = get_channel(request.app)
    limiter = request.app.state.rate_limiter
    form = await request.form()
    if not channel.signature_valid(request, form):
        # The per-IP limit is counted here, not in the middleware (app.py): only for what Twilio did not sign.
        over = await limiter.hit(IP, request.client.host if request.client else "unknown")
        if over is not None:  # a flood of junk: refused before it costs an audit row each
            return too_many(over)
        await run_in_threadpool(channel.reject, request, form)
        return Response("Forbidden", status_code=403, media_type="text/plain")
    from_number = str(form.get("From") or "").strip()
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not _PHONE.match(from_number) or not sid:
        return Response("From and MessageSid are required", status_code=400, media_type="text/plain")
    if not channel.claim(sid):
        return _twiml()
    if await run_in_threadpool(channel.seen, from_number, sid):
        channel.release(sid)
        await run_in_threadpool(_audit_replay, channel.engine, sid)
        return _twiml()
    # Per conversation (README "Security"), but never a refusal: Twilio does not send an inbound text again after a
    # 4xx (it logs error 11200), and the text may be a STOP or "my lawyer is ...". A number over the limit has its
    # texts stored and answered like the others, in turn (receive: one text of a number at a time, STOP/HELP
    # answered without Rasa), and the burst is audited so that a person can see it.
    limited = await limiter.conversation(CHANNEL, from_number)
    if limited is not None:
        await run_in_threadpool(_audit_over_limit, channel.engine, sid, limited)
    num_media = _int(form.get("NumMedia"))
    inbound = Inbound(from_number, str(form.get("Body") or ""), sid, num_media,
                      tuple(str(form.get(f"MediaContentType{i}") or "") for i in range(min(num_media, 10))))
    background.add_task(channel.process, inbound)  # runs after the response is sent
    return _twiml()


def _audit_over_limit(engine: Engine, sid: str, limited: Refusal) -> None:
    """A text taken in over the per-conversation limit; the SID names the stored message (payload["twilio"])."""
    with session_scope(engine) as session:
        audit.record(session, "sms_rate_limited", detail={"message_sid": sid[:64], "limit": limited.limit,
                                                          "retry_after": limited.retry_after})


def _audit_replay(engine: Engine, sid: str) -> None:
    with session_scope(engine) as session:
        audit.record(session, "sms_replay_ignored", detail={"message_sid": sid[:64]})


@router.post(STATUS_PATH)
async def twilio_status(request: Request) -> Response:
    channel = get_channel(request.app)
    form = await request.form()
    if not channel.signature_valid(request, form):
        await run_in_threadpool(channel.reject, request, form)
        return Response("Forbidden", status_code=403, media_type="text/plain")
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "").strip()
    to = str(form.get("To") or "").strip()
    if not sid or not status or not to:
        return Response("MessageSid, MessageStatus and To are required", status_code=400, media_type="text/plain")
    error_code = _int(form.get("ErrorCode")) or None
    found = await run_in_threadpool(sms.record_status, channel.engine, to, sid, status, error_code)
    if not found:
        log.info("status %s for an unknown message %s", status, sid)
    return Response(status_code=204)
