"""Pages a debtor keeps or checks, no login:

- /notices/<token>: the validation notice (DISC-5) as a printable page, from the signed link in its email
  (bot/mail/links.py: the token names one queued notice and this purpose). It shows the facts stored with the notice
  when it was sent (ScheduledMessage.document), rendered by the same fragment as the email. A bad token gets a 400
  page, an unknown notice a 404; neither says anything about anyone.
- /texts/<token>: the whole of a long text, from the link its short form carried over SMS (bot/sms.as_sent). The
  token (bot/mail/links.py, signed, unguessable) names one stored outbound message of an SMS conversation, and the
  page shows exactly the words that message holds, to whoever holds the phone it went to: nothing the text itself
  did not say. It works for bot/sms.TEXT_LINK_DAYS after the text was sent (410 after that), a bad token gets a
  400 page, anything else (an inbound message, a blocked reply, another channel's) the 404 page.
- /transcripts/check: paste or upload a copy of a conversation ("email me a copy", bot/records/transcript_copy.py)
  and see whether it matches the stored hash-chained record (REC-1) or was altered. It only ever answers
  intact / altered / not found: it shows nothing of the record itself."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bot import language, sms, wording
from bot.compliance import notice_document
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message, ScheduledMessage
from bot.gateway import texts
from bot.mail import compose, links
from bot.mail.transport import CHECK_PATH, notice_view
from bot.plans.terms import format_date
from bot.records import transcript_copy

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
# No script; the check form posts here only.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
MAX_UPLOAD = transcript_copy.MAX_COPY_CHARS


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["content-security-policy"] = PAGE_CSP
    response.headers["cache-control"] = "no-store"
    response.headers["referrer-policy"] = "no-referrer"  # the token is the key to the page
    return response


def _worded(request: Request, name: str, context: dict[str, Any], known: str | None = None,
            status_code: int = 200) -> HTMLResponse:
    """A debtor's page in Settle's words (bot/wording): `known` (a notice's language), else the browser's
    (Accept-Language), as the pay pages. The transcript check follows the browser: its language must not say
    anything about the record checked."""
    speaks = texts.page_language(known, request.headers.get("accept-language"))

    def w(key: str, **values: object) -> str:
        return wording.say(key, speaks, **values)

    response = _page(request, name, {**context, "lang": speaks, "w": w}, status_code=status_code)
    response.headers["content-language"] = speaks
    return response


def _notice(engine: Engine, notice_id: str) -> dict[str, Any] | None:
    with session_scope(engine) as session:
        message = session.get(ScheduledMessage, notice_id)
        if message is None or message.kind != notice_document.KIND or not message.document:
            return None
        return dict(message.document)


@router.get("/notices/{token}", response_class=HTMLResponse, include_in_schema=False)
async def notice_page(request: Request, token: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    notice_id = links.notice_of(settings.email_link_secret, token) if len(token) <= 600 else None
    if notice_id is None:
        return _worded(request, "notice.html", {"state": "invalid"}, status_code=400)
    document = await run_in_threadpool(_notice, request.app.state.engine, notice_id)
    if document is None:
        return _worded(request, "notice.html", {"state": "missing"}, status_code=404)
    view = notice_view(settings, document)
    # A Spanish speaker's notice carries the Spanish one after the English (DISC-5): the page speaks Spanish.
    known = wording.SPANISH if wording.SPANISH in document.get("languages", []) else wording.ENGLISH
    return _worded(request, "notice.html", {"state": "ok", "n": view, "body": compose.notice_html(view)}, known)


def _text(engine: Engine, message_id: int, now: datetime) -> dict[str, Any] | None:
    """The stored text a link names, with its language and whether the link still works; None if the id is not
    a sent reply in an SMS conversation."""
    with session_scope(engine) as session:
        message = session.get(Message, message_id)
        if message is None or message.direction != "out" or message.status != "sent":
            return None
        conversation = session.get(Conversation, message.conversation_id)
        if conversation is None or conversation.channel != sms.CHANNEL:
            return None
        sent_at = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=timezone.utc)
        speaks = language.current(session, conversation)
        return {"lines": message.text.splitlines(), "language": speaks, "sent_on": format_date(sent_at.date(), speaks),
                "expired": now - sent_at > timedelta(days=sms.TEXT_LINK_DAYS)}


@router.get(links.TEXT_PATH + "{token}", response_class=HTMLResponse, include_in_schema=False)
async def text_page(request: Request, token: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    message_id = links.text_of(settings.email_link_secret, token) if len(token) <= 200 else None
    if message_id is None:
        return _worded(request, "text.html", {"state": "invalid"}, status_code=400)
    found = await run_in_threadpool(_text, request.app.state.engine, message_id, datetime.now(timezone.utc))
    if found is None:
        return _worded(request, "text.html", {"state": "missing"}, status_code=404)
    if found["expired"]:  # nothing of the message, not even its date
        return _worded(request, "text.html", {"state": "expired", "days": sms.TEXT_LINK_DAYS}, found["language"],
                       status_code=410)
    return _worded(request, "text.html", {"state": "ok", "t": found}, found["language"])


@router.get(CHECK_PATH, response_class=HTMLResponse, include_in_schema=False)
async def check_form(request: Request) -> HTMLResponse:
    return _worded(request, "transcript_check.html", {"result": None, "error": None})


def _check(engine: Engine, pasted: str) -> transcript_copy.CopyCheck:
    with session_scope(engine) as session:
        return transcript_copy.check(session, pasted)


@router.post(CHECK_PATH, response_class=HTMLResponse, include_in_schema=False)
async def check_copy(request: Request) -> HTMLResponse:
    """The pasted text (field "copy") or the uploaded file (field "file": the saved email or a text file)."""
    form = await request.form(max_files=1, max_fields=4)
    pasted, upload = form.get("copy"), form.get("file")
    text = pasted if isinstance(pasted, str) else ""
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_UPLOAD * 4 + 1)
        if len(raw) > MAX_UPLOAD * 4:
            return _worded(request, "transcript_check.html", {"result": None, "error": "too_big"}, status_code=413)
        text = _file_text(raw)
    if len(text) > MAX_UPLOAD:
        return _worded(request, "transcript_check.html", {"result": None, "error": "too_big"}, status_code=413)
    try:
        result = await run_in_threadpool(_check, request.app.state.engine, text)
    except transcript_copy.NotACopy:
        return _worded(request, "transcript_check.html", {"result": None, "error": "not_a_copy", "copy": text[:2000]},
                     status_code=400)
    return _worded(request, "transcript_check.html", {"result": result, "error": None})


def _file_text(raw: bytes) -> str:
    """A saved email (.eml: its text part, decoded) or a plain text file."""
    if b"\nContent-Type:" in raw[:20000] or raw.lower().startswith((b"content-type:", b"mime-version:")):
        message = message_from_bytes(raw, policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        if part is not None:
            return str(part.get_content())
    return raw.decode("utf-8", "replace")
