"""The web chat widget's edge: the script and its stylesheet, the demo page, session tokens and the WebSocket.

Rasa's socketio channel lets a client name any session and loses replies, so the gateway owns this edge:
  * POST /widget/session: the server creates the conversation (channel "web", a random external id) and returns a
    token signed with WIDGET_SECRET (HMAC-SHA256 over the id and the expiry). The client never names a
    conversation; it can only present a token.
  * WS /widget/ws?token=...: a bad or expired token is accepted and closed at once with 4401, nothing sent.
    Otherwise the server sends a fresh token, then the history from the database (so a reload or a reconnect
    resumes), then live events of the conversation from the hub (bot replies, the debtor's messages from another
    tab, later an agent's replies). Chat messages carry their database id, so the client de-duplicates by id.
  * {"type": "message", "text", "client_id", "title"?} from the client goes through the pipeline. The client
    resends what it has not seen echoed back (at least once); the client_id, stored with the message (same
    INSERT), makes the second delivery a no-op. The message is echoed once stored, and answered later: messages
    sent while the conversation's turn runs are folded into one turn (bot/gateway/pipeline.py).
  * POST /widget/session/end (the token as a Bearer credential): the person ended the chat ("End chat"). Tokens are
    stateless, so the end is recorded as an audit event on the conversation (sealed into its transcript, REC-1)
    and every later lookup of the session refuses it: a copied token can no longer read the history or send.
    Open sockets of the session, on any worker, hear it on the hub and are closed with 4410. The agent console
    hears it too: what that means for the conversation's handoff is bot/handoff.person_ended.
  * The language: the history frame carries the conversation's language (null while nothing has been said and
    nothing is known: the widget keeps the browser's), and after a turn that changed it (and after the first turn) a
    {"type": "language"} frame says the language the bot answered in, so the widget's own words follow the
    conversation (bot/language.py decides it).
    The widget's words are in bot/gateway/texts/<language>.json, inlined into /widget.js.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import Engine, func, select
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from bot import conversations, handoff, language, wording
from bot.agents import replies
from bot.compliance import redaction
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message, opaque_token
from bot.gateway import texts
from bot.gateway.conversation_lock import ConversationLocks, InProcessLocks
from bot.gateway.live import LiveHub, SubscriberLagged
from bot.messaging.events import message_event, shown_to_debtor

log = logging.getLogger(__name__)

router = APIRouter()

CHANNEL = "web"
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

TOKEN_VERSION = "v1"
CLOSE_UNAUTHORIZED = 4401  # the token is missing, forged or expired: get a new session
CLOSE_FORBIDDEN_ORIGIN = 4403  # the page embedding the widget is not in WIDGET_ORIGINS
CLOSE_RESYNC = 4408  # fell behind the live feed: reconnect and take the history again
CLOSE_ENDED = 4410  # the person ended this chat (here or in another tab): forget it, do not start a new one yet
CLOSE_TOO_BIG = 1009  # a frame over MAX_FRAME_BYTES (WebSocket's "message too big")
MAX_TEXT = 5000  # as the REST channel
MAX_TITLE = 200
MAX_IN_FLIGHT = 10  # messages of one conversation waiting for the bot; beyond this the client retries later
HISTORY_LIMIT = 200
# One frame: a message of MAX_TEXT characters and a title, JSON-escaped (up to 6 bytes a character), with room.
MAX_FRAME_BYTES = 64 * 1024
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TEXTS_SLOT = "/*@texts*/{}"  # where /widget.js gets its words (bot/gateway/texts)


# --- tokens -----------------------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signature(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def sign_token(secret: str, external_id: str, expires_at: int) -> str:
    """`v1.<external id>.<expiry, unix seconds>.<HMAC-SHA256 of the first three parts>`."""
    body = f"{TOKEN_VERSION}.{external_id}.{expires_at}"
    return f"{body}.{_signature(secret, body)}"


def verify_token(secret: str, token: str | None, now: float | None = None) -> str | None:
    """The external id the token was issued for, or None if it is malformed, forged or expired."""
    if not token or len(token) > 512:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION or not parts[2].isdigit():
        return None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_signature(secret, body), parts[3]):
        return None
    if int(parts[2]) <= (time.time() if now is None else now):
        return None
    return parts[1] or None


def new_external_id() -> str:
    """160 random bits in base32 letters: unguessable, and no long digit runs for the card scan (PCI-3)."""
    return "w" + opaque_token(32)


# --- frames -----------------------------------------------------------------------------------------------------

TOO_BIG = object()  # parse_frame's answer for a frame over MAX_FRAME_BYTES
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs the halves it can; these are the rest


def parse_frame(frame: dict[str, Any]) -> Any:
    """A received text or binary frame's JSON value; None if it is not JSON (invalid UTF-8 is replaced, a nesting
    deeper than the decoder's recursion limit is not JSON either), TOO_BIG over MAX_FRAME_BYTES (a text frame:
    characters, a backstop to uvicorn's byte limit)."""
    text, data = frame.get("text"), frame.get("bytes")
    if len(text if text is not None else data or b"") > MAX_FRAME_BYTES:
        return TOO_BIG
    raw = text if text is not None else (data or b"").decode("utf-8", "replace")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        # A lone surrogate ("\ud800", half an emoji a browser cut) cannot be stored as UTF-8: the message would
        # fail after it was accepted and the widget resend it forever. It becomes U+FFFD, as invalid UTF-8 does.
        value = {k: _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in value.items()}
    return value


def stored_client_id(client_id: str) -> str:
    """PCI-3: the client id as it is stored. The widget's own ids hold no digits, but another client's may look like a
    card number or an SSN (a random UUID does, 1 time in 200): such an id is stored as its digest, never as sent."""
    if not redaction.redact(client_id).kinds:
        return client_id
    digest = base64.b32encode(hashlib.sha256(client_id.encode()).digest()).decode().lower().rstrip("=")
    return f"sealed-{digest[:26]}"


# --- the channel ------------------------------------------------------------------------------------------------

@dataclass
class _Connection:
    websocket: WebSocket
    lock: asyncio.Lock

    async def send(self, frame: dict[str, Any]) -> bool:
        """Send one frame; False once the socket is gone (the caller stops)."""
        async with self.lock:
            if self.websocket.application_state != WebSocketState.CONNECTED:
                return False
            try:
                await self.websocket.send_text(json.dumps(frame))
                return True
            except (WebSocketDisconnect, RuntimeError, OSError):
                return False

    async def close(self, code: int) -> None:
        async with self.lock:
            with suppress(RuntimeError, OSError):
                await self.websocket.close(code=code)


class WebChannel:
    """One per app: the per-conversation order of processing, the in-memory dedupe, the hub."""

    def __init__(self, engine: Engine, settings: Settings, hub: LiveHub,
                 locks: ConversationLocks | None = None) -> None:
        self.engine, self.settings, self.hub = engine, settings, hub
        # Without a configured key, tokens are good for this process only (tests, throwaway runs).
        self.secret = settings.widget_secret or secrets.token_urlsafe(32)
        self.ttl = max(60, settings.widget_token_ttl_minutes * 60)
        # One conversation's messages are taken one at a time (two tabs, resends), across gateway workers too: the
        # dedupe below is check-then-store-with-the-tag, safe only under this lock (bot/gateway/conversation_lock.py).
        # It is not held while the message is answered, so messages sent meanwhile are stored and folded.
        self.locks: ConversationLocks = locks or InProcessLocks()
        # This worker publishes one conversation's answers one message at a time, in the order they came.
        self._sending = InProcessLocks()
        # Messages of a conversation stored and not yet answered here: "typing" goes off when none is left.
        self._answering: dict[str, int] = {}
        # Backpressure for one socket's burst; per worker, as a socket lives on one worker.
        self._in_flight: dict[str, int] = {}
        # Recently handled client ids per conversation: the fast path of dedupe, the database is the sure one. A
        # cache of facts already in the database (an id is added only once its message is tagged there), so a
        # worker that lacks an entry just asks the database: it is never wrong with several workers.
        self._seen: OrderedDict[str, OrderedDict[str, dict[str, Any]]] = OrderedDict()
        # Conversations this worker has answered (bounded): the first answer here always says the language.
        self._told_language: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self.pipeline: Any = None  # app.state.pipeline, made by the app's lifespan
        self.limiter: Any = None  # app.state.rate_limiter: each message counts against its conversation's limit

    # tokens and sessions

    def issue_token(self, external_id: str) -> dict[str, Any]:
        expires_at = int(time.time()) + self.ttl
        return {"token": sign_token(self.secret, external_id, expires_at), "expires_at": expires_at}

    def create_session(self, browser_language: str | None = None) -> dict[str, Any]:
        """A new conversation; `browser_language` (the widget's navigator.language, when we write in it) is where it
        starts, until the person's own words say otherwise (bot/language.suggest)."""
        external_id = new_external_id()
        with session_scope(self.engine) as session:
            conversation = conversations.get_or_create(session, CHANNEL, external_id)
            language.suggest(session, conversation, browser_language)
        return self.issue_token(external_id)

    def end_session(self, token: str | None) -> str | None:
        """Revoke the session this token belongs to; the conversation id, or None if the token is no longer good.
        The conversation and its record stay (REC-1): only the way in is shut."""
        external_id = verify_token(self.secret, token)
        if external_id is None:
            return None
        with session_scope(self.engine) as session:
            conversation_id = self._live_conversation_id(session, external_id)
            if conversation_id is not None:
                handoff.person_ended(session, conversation_id)
            return conversation_id

    def origin_allowed(self, origin: str | None) -> bool:
        allowed = self.settings.widget_origins
        # No Origin header: not a browser page (a script or a test); tokens still gate everything.
        return "*" in allowed or origin is None or origin.rstrip("/") in allowed

    # the socket

    async def serve(self, websocket: WebSocket) -> None:
        # Accept before refusing: a close before the handshake reaches the browser as a bare 1006, and the client
        # must be able to tell "get a new session" (4401) from a network drop (reconnect with the same token).
        await websocket.accept()
        if not self.origin_allowed(websocket.headers.get("origin")):
            await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        external_id = verify_token(self.secret, websocket.query_params.get("token"))
        conversation_id = await run_in_threadpool(self._conversation_id, external_id) if external_id else None
        if external_id is None or conversation_id is None:
            await websocket.close(code=CLOSE_UNAUTHORIZED)
            return

        connection = _Connection(websocket, asyncio.Lock())
        async with self.hub.subscribe(conversation_id) as events:
            # Subscribed before reading the history, so nothing published in between is missed.
            await connection.send({"type": "session", **self.issue_token(external_id),
                                   "name": self.settings.business_name})
            history = await run_in_threadpool(self._history, conversation_id)
            speaks = await run_in_threadpool(self._language, conversation_id, bool(history))
            await connection.send({"type": "history", "messages": history, "language": speaks})
            # Something published while the history was read may come again live: the client de-duplicates by id.
            helpers = [asyncio.create_task(self._forward(events, connection)),
                       asyncio.create_task(self._renew(connection, external_id))]
            try:
                await self._read(connection, conversation_id, external_id)
            finally:
                for task in helpers:
                    task.cancel()
                for task in helpers:
                    with suppress(asyncio.CancelledError):
                        await task

    async def _read(self, connection: _Connection, conversation_id: str, external_id: str) -> None:
        while True:
            frame = await connection.websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            data = parse_frame(frame)
            if data is TOO_BIG:
                # A chat message is at most MAX_TEXT characters: far more is not a widget. 1009, as uvicorn's
                # ws_max_size (serve.py) would answer it, before the bytes are even buffered.
                await connection.close(CLOSE_TOO_BIG)
                return
            if not isinstance(data, dict):
                await self._refuse(connection, conversation_id, "bad_frame", "not_an_object")
                continue
            kind = data.get("type")
            if kind == "ping":
                await connection.send({"type": "pong"})
            elif kind == "message":
                await self._accept_message(connection, conversation_id, external_id, data)
            else:
                await self._refuse(connection, conversation_id, "bad_frame", "unknown_frame")

    async def _accept_message(self, connection: _Connection, conversation_id: str, external_id: str,
                              data: dict[str, Any]) -> None:
        text, client_id, title = data.get("text"), data.get("client_id"), data.get("title")
        if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
            await self._refuse(connection, conversation_id, "bad_message", "client_id_required")
            return
        if not isinstance(text, str) or len(text) > MAX_TEXT or (title is not None and (
                not isinstance(title, str) or len(title) > MAX_TITLE)):
            await self._refuse(connection, conversation_id, "bad_message", "too_long", {"client_id": client_id},
                               n=MAX_TEXT)
            return
        if self._in_flight.get(conversation_id, 0) >= MAX_IN_FLIGHT:
            await self._refuse(connection, conversation_id, "busy", "busy", {"client_id": client_id})
            return
        refusal = await self.limiter.conversation(CHANNEL, external_id) if self.limiter is not None else None
        if refusal is not None:  # the widget sends it again after retry_after seconds
            await self._refuse(connection, conversation_id, "rate_limited", "too_many_messages",
                               {"client_id": client_id, "retry_after": refusal.retry_after}, n=refusal.retry_after)
            return
        self._in_flight[conversation_id] = self._in_flight.get(conversation_id, 0) + 1
        # Its own task: a socket that drops mid-answer must not cancel the answer (another tab, or this one
        # after reconnecting, still gets it).
        task = asyncio.create_task(self._process(conversation_id, external_id, text, client_id, title or None))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refuse(self, connection: _Connection, conversation_id: str, code: str, key: str,
                      extra: dict[str, Any] | None = None, **values: object) -> None:
        """An error frame: the widget acts on `code` and shows its own words; `text` is for any other reader, in the
        conversation's language (bot/language.current)."""
        speaks = await run_in_threadpool(self._language, conversation_id, True)
        await connection.send({"type": "error", "code": code, **(extra or {}),
                               "text": texts.say("errors", key, speaks, **values)})

    async def _process(self, conversation_id: str, external_id: str, text: str, client_id: str,
                       title: str | None) -> None:
        answering = False
        key = stored_client_id(client_id)  # what is stored and looked up; the socket hears the id it sent
        try:
            async with self.locks.hold(f"web:{conversation_id}"):
                if await run_in_threadpool(self._conversation_id, external_id) is None:
                    return  # ended while this waited: the socket is being closed (4410), nothing more is taken
                duplicate = self._seen.get(conversation_id, {}).get(key) or await run_in_threadpool(
                    self._stored, conversation_id, key)
                if duplicate is not None:
                    # Already taken: echo the stored message so the client marks it delivered; nothing reruns.
                    await self.hub.publish(conversation_id, {**duplicate, "client_id": client_id})
                    return
                before = await run_in_threadpool(self._last_id, conversation_id)
                self._answering[conversation_id] = self._answering.get(conversation_id, 0) + 1
                answering = True
                await self.hub.publish(conversation_id, {"type": "typing", "on": True})
                pending = None
                try:
                    if self.pipeline is None:
                        raise RuntimeError("the pipeline is not running")
                    pending = await self.pipeline.accept(CHANNEL, external_id, text, tag=self._tag(key, title))
                    echo = await run_in_threadpool(self._event, pending.inbound_id)
                    # Echoed under the lock, so the tabs see the messages in the order they were stored.
                    await self.hub.publish(conversation_id, {**echo, "client_id": client_id})
                    self._remember(conversation_id, key, echo)
                except Exception:
                    log.exception("web message of %s failed", conversation_id)
            # The lock is free: the next message is stored (and folded) while this one is answered.
            result = None
            try:
                if pending is None:
                    raise RuntimeError("not taken")
                result = await pending
                events = [p.event for p in result.sent]
            except Exception:
                if pending is not None:
                    log.exception("web message of %s failed", conversation_id)
                events = None
            # Nothing awaited between the answer and the lock: the answers' order is kept.
            async with self._sending.hold(conversation_id):
                if events is None:  # whatever got stored (the message, perhaps replies) still goes out, by id
                    events = await run_in_threadpool(self._collect, conversation_id, before)
                # The widget is this channel's courier: its tabs hear the turn on the conversation's topic.
                for event in events:
                    await self.hub.publish(conversation_id, event)
                # The language the turn was answered in, for every tab's widget to relabel itself: when the message
                # or its turn changed it, and on this worker's first turn of the conversation; the turn's result
                # says which, so an unchanged language costs no database session. A turn that failed has none:
                # the language is read as it is now.
                if result is None:
                    speaks = await run_in_threadpool(self._language, conversation_id, True)
                    await self.hub.publish(conversation_id, {"type": "language", "language": speaks})
                elif self._first_turn(conversation_id) or result.language_changed:
                    await self.hub.publish(conversation_id, {"type": "language", "language": result.language})
                answering = False
                await self._answered(conversation_id)
        except Exception:
            # Nobody awaits this task, so a failure is logged here: most often the conversation's lock could not be
            # had (Redis down, or held past the wait) and nothing was stored; the widget resends what it has not seen
            # echoed.
            log.exception("web message of %s was not taken", conversation_id)
        finally:
            if answering:
                with suppress(Exception):
                    await self._answered(conversation_id)
            left = self._in_flight.get(conversation_id, 1) - 1
            if left > 0:
                self._in_flight[conversation_id] = left
            else:
                self._in_flight.pop(conversation_id, None)

    async def _answered(self, conversation_id: str) -> None:
        """One message fewer waiting for its answer; the typing dots go when none is left (a fold's earlier
        messages are answered with its last one)."""
        left = self._answering.get(conversation_id, 1) - 1
        if left > 0:
            self._answering[conversation_id] = left
            return
        self._answering.pop(conversation_id, None)
        await self.hub.publish(conversation_id, {"type": "typing", "on": False})

    def _first_turn(self, conversation_id: str) -> bool:
        """Is this this worker's first answer in the conversation? One forgotten (the oldest of 10,000) counts as
        first again: the language frame is then said once more, which is harmless."""
        first = conversation_id not in self._told_language
        self._told_language[conversation_id] = None
        self._told_language.move_to_end(conversation_id)
        while len(self._told_language) > 10_000:
            self._told_language.popitem(last=False)
        return first

    def _remember(self, conversation_id: str, client_id: str, stored: dict[str, Any]) -> None:
        seen = self._seen.setdefault(conversation_id, OrderedDict())
        self._seen.move_to_end(conversation_id)
        seen[client_id] = stored
        while len(seen) > 200:
            seen.popitem(last=False)
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)

    async def _forward(self, events: Any, connection: _Connection) -> None:
        try:
            async for event in events:
                if event.get("type") == "ended":
                    # Ended in another tab or by a copy of the token: this socket may not read or send any more.
                    async with connection.lock:
                        with suppress(RuntimeError, OSError):
                            await connection.websocket.close(code=CLOSE_ENDED)
                    return
                if not await connection.send(event):
                    return
        except SubscriberLagged:
            with suppress(RuntimeError, OSError):
                await connection.websocket.close(code=CLOSE_RESYNC)

    async def _renew(self, connection: _Connection, external_id: str) -> None:
        # A widget that stays connected keeps its session: the token lives TTL after it was last connected.
        while True:
            await asyncio.sleep(self.ttl / 2)
            if not await connection.send({"type": "session", **self.issue_token(external_id),
                                          "name": self.settings.business_name}):
                return

    # database work (run in the thread pool)

    def _conversation_id(self, external_id: str) -> str | None:
        with session_scope(self.engine) as session:
            return self._live_conversation_id(session, external_id)

    @staticmethod
    def _live_conversation_id(session: Any, external_id: str) -> str | None:
        """The web conversation of this session, unless the person ended it."""
        return session.scalar(select(Conversation.id).where(Conversation.channel == CHANNEL,
                                                            Conversation.external_id == external_id,
                                                            ~conversations.ended()))

    def _history(self, conversation_id: str) -> list[dict[str, Any]]:
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc()).limit(HISTORY_LIMIT * 2)
            ).all()
            events = [message_event(m) for m in reversed(rows) if shown_to_debtor(m)][-HISTORY_LIMIT:]
        # Only the newest message's buttons are still a live choice.
        for event in events[:-1]:
            event.pop("buttons", None)
        return events

    def _language(self, conversation_id: str, spoken: bool) -> str | None:
        """What the conversation speaks. Before anything was said (`spoken` false) only a language actually known
        (asked for, or remembered for the address or the debtor); None leaves the widget in the browser's."""
        with session_scope(self.engine) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            if spoken or conversation.language:
                return language.current(session, conversation)
            return language.known(session, conversation)

    def _last_id(self, conversation_id: str) -> int:
        with session_scope(self.engine) as session:
            return session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id)) or 0

    def _stored(self, conversation_id: str, client_id: str) -> dict[str, Any] | None:
        """The debtor's message already stored under this client id, as an event."""
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id, Message.direction == "in",
                                      Message.payload.is_not(None))
                .order_by(Message.id.desc()).limit(500)
            )
            for message in rows:
                if (message.payload or {}).get("client_id") == client_id:
                    return message_event(message)
        return None

    @staticmethod
    def _tag(client_id: str, title: str | None) -> dict[str, Any]:
        """What the debtor's message is stored with: its client id (the dedupe key, kept with the message so it
        survives restarts) and the button title they chose (redacted like the text: PCI-2)."""
        return {"client_id": client_id, **({"title": redaction.redact(title).text} if title else {})}

    def _event(self, inbound_id: int) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            return message_event(session.get(Message, inbound_id))

    def _collect(self, conversation_id: str, after_id: int) -> list[dict[str, Any]]:
        """The messages stored since `after_id`, as events."""
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id, Message.id > after_id)
                .order_by(Message.id)
            ).all()
            return [message_event(m) for m in rows if shown_to_debtor(m)]


def channel_for(app: Any) -> WebChannel:
    web = getattr(app.state, "web_channel", None)
    if web is None:
        web = app.state.web_channel = WebChannel(app.state.engine, app.state.settings, app.state.live,
                                                 getattr(app.state, "conversation_locks", None))
    web.pipeline = getattr(app.state, "pipeline", None)
    web.limiter = getattr(app.state, "rate_limiter", None)
    return web


# --- routes -----------------------------------------------------------------------------------------------------

def _cors(request: Request, response: Response) -> Response:
    """The widget runs on the creditor's pages, another origin: let allowed pages call the session endpoint."""
    origin = request.headers.get("origin")
    if origin and channel_for(request.app).origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@router.post("/widget/session")
async def widget_session(request: Request) -> Response:
    web = channel_for(request.app)
    if not web.origin_allowed(request.headers.get("origin")):
        return _refused(request, 403, "not_embeddable")  # its body unread: the browser's Accept-Language it is
    # The server alone picks the conversation; the body may only say the browser's language (anything else in it,
    # or a body that is not JSON, is ignored: the widget then starts in English).
    issued = await run_in_threadpool(web.create_session, _browser_language(await request.body()))
    return _cors(request, JSONResponse(issued, headers={"Cache-Control": "no-store"}))


def _refused(request: Request, status: int, key: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A refused widget request: no conversation to ask (none yet, or its token is not valid), so the browser's."""
    speaks = texts.preferred(request.headers.get("accept-language"))
    return JSONResponse({"detail": texts.say("errors", key, speaks)}, status_code=status,
                        headers={**(headers or {}), "Content-Language": speaks})


def _browser_language(body: bytes) -> str | None:
    if not body or len(body) > 256:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    chosen = data.get("language") if isinstance(data, dict) else None
    return chosen if chosen in wording.LANGUAGES else None


def _preflight(request: Request, allow_headers: str) -> Response:
    """CORS preflight for a widget POST from an embedding site."""
    response = _cors(request, Response(status_code=204))
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = allow_headers
    response.headers["Access-Control-Max-Age"] = "600"
    return response


@router.options("/widget/session")
async def widget_session_preflight(request: Request) -> Response:
    return _preflight(request, "content-type")


def _bearer(request: Request) -> str | None:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip() or None


@router.post("/widget/session/end")
async def widget_session_end(request: Request) -> Response:
    """"End chat": the token stops working everywhere, at once. Nothing of the token is echoed or logged."""
    web = channel_for(request.app)
    if not web.origin_allowed(request.headers.get("origin")):
        return _refused(request, 403, "not_embeddable")
    conversation_id = await run_in_threadpool(web.end_session, _bearer(request))
    if conversation_id is None:
        return _cors(request, _refused(request, 401, "session_not_valid", headers={"WWW-Authenticate": "Bearer"}))
    await web.hub.publish(conversation_id, {"type": "ended"})
    await replies.notify(web.hub, conversation_id)  # the console's view of it, and the queue, now say so
    return _cors(request, JSONResponse({"ended": True}, headers={"Cache-Control": "no-store"}))


@router.options("/widget/session/end")
async def widget_session_end_preflight(request: Request) -> Response:
    return _preflight(request, "authorization")


@router.websocket("/widget/ws")
async def widget_ws(websocket: WebSocket) -> None:
    await channel_for(websocket.app).serve(websocket)


# No build step: the files are served as they are. Short cache, so a fix reaches embedded pages soon.
_ASSET_HEADERS = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


@lru_cache(maxsize=1)
def widget_script() -> str:
    """widget.js with its words in every language put in (one file, one request, no build step)."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    # "</" escaped: the texts can never close a <script> that inlines the file.
    words = json.dumps(texts.widget_texts(), ensure_ascii=False).replace("</", "<\\/")
    if TEXTS_SLOT not in source:
        raise RuntimeError("widget.js lost its texts slot")
    return source.replace(TEXTS_SLOT, words, 1)


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> Response:
    return Response(widget_script(), media_type="application/javascript; charset=utf-8", headers=_ASSET_HEADERS)


@router.get("/widget.css", include_in_schema=False)
async def widget_css() -> FileResponse:
    return FileResponse(STATIC / "widget.css", media_type="text/css; charset=utf-8", headers=_ASSET_HEADERS)


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
async def demo_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """The demo creditor's page, in the browser's language (Accept-Language) or the one `?lang=` asks for."""
    widget_src = str(request.url_for("widget_js"))
    shown = texts.preferred(request.headers.get("accept-language"), lang)
    words = texts.section("demo", shown)
    embed_title = Markup("<code>data-title=\"{}\"</code>").format(words["embed_title_example"])
    response = templates.TemplateResponse(request, "demo.html", {
        "widget_src": widget_src, "t": words, "lang": shown, "embed_title": embed_title,
        "other": wording.SPANISH if shown == wording.ENGLISH else wording.ENGLISH})
    response.headers["Content-Language"] = shown
    response.headers["Vary"] = "Accept-Language"
    return response
