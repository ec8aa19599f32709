"""Email's web pages: the opt-out link every email carries (EMAIL-2, 1006.6(e)), and the demo mailbox.

- /email/opt-out/<token>: GET shows what the link does and a button; only the POST opts out (a mail scanner or a
  link preview that fetches the URL changes nothing). The token is signed for one address and this one purpose
  (bot/mail/links.py); a bad one gets a 400 page. The POST also takes RFC 8058's one-click POST from mail clients.
  Email only: the phone keeps its own preference (OPT-3).
- POST /webhooks/email/mailgun: the mail provider's signed delivery events (bot/mail/webhooks.py): delivered,
  bounced (EMAIL-1), complained (an email opt-out, OPT-3). No key configured: 503; no signature: 401; a wrong or
  stale one: 403; not an event: 400; an event for an email Settle did not send: 200, ignored (no retries forever).
- POST /webhooks/email/mailgun/inbound: a reply to Settle's address, from Mailgun's inbound route (forward to this
  URL, ideally with "mime" so the whole message comes as body-mime) or from the embedded local mail server, signed
  the same way: it joins the sender's email conversation through the pipeline (stored first, then answered) and the
  answers go back by email in the thread (bot/mail/courier.py). A replayed Message-ID changes nothing.
- /mailbox: what the embedded local mail server received (bot/mail/server.py), newest first: each email's text
  part, and its HTML in a sandboxed iframe (no script, no same-origin). Only in the embedded demo (like /phone):
  in production it does not exist (404): it shows anyone's mail without a login."""

from __future__ import annotations

import json
import smtplib
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from bot import contact_preferences, language, wording
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, MailboxMessage, Message
from bot.gateway import texts
from bot.gateway.couriers import couriers_for
from bot.mail import inbound, links, webhooks
from bot.mail.smtp import parse_url
from bot.mail.transport import CHANNEL, normal_address

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

MAILBOX_LIMIT = 50
# No script anywhere; the mailbox's iframes are srcdoc (the email's HTML, sandboxed), its one form posts here.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["content-security-policy"] = PAGE_CSP
    response.headers["cache-control"] = "no-store"
    return response


def masked(address: str) -> str:
    """"jordan.rivera@example.com" -> "j***@example.com": enough to recognise, little to a shoulder-surfer."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _opted_out(engine: Engine, address: str) -> tuple[bool, str | None]:
    """Whether the address is opted out already, and its language when Settle knows it."""
    with session_scope(engine) as session:
        preference = contact_preferences.find(session, CHANNEL, address)
        done = preference is not None and preference.opted_out_at is not None
        return done, language.known_for_address(session, CHANNEL, address)


def _opt_out_page(request: Request, state: str, known: str | None = None, status_code: int = 200,
                  **context: Any) -> HTMLResponse:
    """The opt-out page, a debtor's: the words are Settle's (bot/wording), in the address's language when known,
    else the browser's (Accept-Language), as the pay pages do."""
    speaks = texts.page_language(known, request.headers.get("accept-language"))

    def w(key: str, **values: object) -> str:
        return wording.say(key, speaks, **values)

    response = _page(request, "email_opt_out.html", {"state": state, "lang": speaks, "w": w, **context},
                     status_code=status_code)
    response.headers["content-language"] = speaks
    return response


def _opt_out(engine: Engine, address: str) -> str | None:
    """Opt the address out (nothing new is recorded when it already was); its language when Settle knows it."""
    with session_scope(engine) as session:
        preference = contact_preferences.find(session, CHANNEL, address)
        if preference is None or preference.opted_out_at is None:
            contact_preferences.opt_out(session, CHANNEL, address, via="email-link")
        return language.known_for_address(session, CHANNEL, address)


def _address(request: Request, token: str) -> str | None:
    settings: Settings = request.app.state.settings
    address = links.address_of(settings.email_link_secret, token) if len(token) <= 600 else None
    return normal_address(address) if address else None


@router.get("/email/opt-out/{token}", response_class=HTMLResponse, include_in_schema=False)
async def opt_out_page(request: Request, token: str) -> HTMLResponse:
    address = _address(request, token)
    if address is None:
        return _opt_out_page(request, "invalid", status_code=400)
    done, known = await run_in_threadpool(_opted_out, request.app.state.engine, address)
    return _opt_out_page(request, "done" if done else "confirm", known, address=masked(address),
                         action=request.url.path)


@router.post("/email/opt-out/{token}", response_class=HTMLResponse, include_in_schema=False)
async def opt_out(request: Request, token: str) -> HTMLResponse:
    address = _address(request, token)
    if address is None:
        return _opt_out_page(request, "invalid", status_code=400)
    known = await run_in_threadpool(_opt_out, request.app.state.engine, address)
    return _opt_out_page(request, "done", known, address=masked(address))


# --- the provider's delivery events ------------------------------------------------------------------------------


def _require_provider(request: Request, provider: str) -> str:
    if provider != webhooks.PROVIDER:
        raise HTTPException(status_code=404)
    secret = request.app.state.settings.email_webhook_secret
    if not secret:
        raise HTTPException(status_code=503, detail="EMAIL_WEBHOOK_SECRET is not configured.")
    return str(secret)


def _check_signature(secret: str, signature: Any) -> None:
    if not signature:
        raise HTTPException(status_code=401, detail="The event is not signed.")
    if not webhooks.verify(secret, signature):
        raise HTTPException(status_code=403, detail="The signature does not match.")


def _apply_event(engine: Engine, event: webhooks.ProviderEvent) -> str:
    with session_scope(engine) as session:
        return webhooks.apply(session, event)


@router.post("/webhooks/email/{provider}", include_in_schema=False)
async def provider_event(request: Request, provider: str) -> dict[str, str]:
    secret = _require_provider(request, provider)
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(status_code=400, detail="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail="The body is not an event.")
    _check_signature(secret, body.get("signature"))
    try:
        event = webhooks.parse(body)
    except webhooks.Malformed as exc:
        raise HTTPException(status_code=400, detail=f"Not an event: {exc}.") from None
    return {"result": await run_in_threadpool(_apply_event, request.app.state.engine, event)}


def _reply_from_fields(form: Any) -> EmailMessage:
    """Mailgun's parsed fields as a message, when the route did not forward the MIME (body-mime)."""
    message = EmailMessage()
    for header, field in (("From", "from"), ("Subject", "subject"), ("Message-ID", "Message-Id"),
                          ("References", "References")):
        value = str(form.get(field) or "").replace("\r", " ").replace("\n", " ").strip()
        if value:
            message[header] = value
    plain, html = str(form.get("body-plain") or ""), str(form.get("body-html") or "")
    if plain or not html:
        message.set_content(plain)
    else:  # an HTML-only reply: inbound reads it as its text
        message.set_content(html, subtype="html")
    return message


def _seen(engine: Engine, sender: str, message_id: str) -> bool:
    """Already stored: an inbound message of this address's conversation carries the Message-ID."""
    with session_scope(engine) as session:
        conversation_id = session.scalar(select(Conversation.id).where(
            Conversation.channel == CHANNEL, Conversation.external_id == sender))
        return conversation_id is not None and session.scalar(select(Message.id).where(
            Message.conversation_id == conversation_id, Message.direction == "in",
            Message.payload["email"]["message_id"].as_string() == message_id).limit(1)) is not None


@router.post("/webhooks/email/{provider}/inbound", include_in_schema=False)
async def inbound_reply(request: Request, provider: str) -> dict[str, Any]:
    secret = _require_provider(request, provider)
    try:
        form = await request.form()
    except Exception:  # a body that is not a form at all
        raise HTTPException(status_code=400, detail="The body is not a form.") from None
    _check_signature(secret, {k: form.get(k) for k in ("timestamp", "token", "signature") if form.get(k)})
    mime = form.get("body-mime")
    raw = (mime if isinstance(mime, str) else "").encode()
    message = inbound.parse(raw) if raw else _reply_from_fields(form)
    reply = inbound.read(message, str(form.get("sender") or ""))
    if reply is None:
        raise HTTPException(status_code=400, detail="The reply names no sender address.")
    engine, pipeline = request.app.state.engine, request.app.state.pipeline
    async with request.app.state.conversation_locks.hold(f"{CHANNEL}:{reply.sender}"):
        if reply.message_id and await run_in_threadpool(_seen, engine, reply.sender, reply.message_id[:250]):
            return {"result": "ignored: already received"}  # the provider retried, or another worker took it
        pending = await pipeline.accept(CHANNEL, reply.sender, reply.text, tag=reply.tag())
    result = await pending
    await couriers_for(request.app).deliver(result.sent)
    return {"result": "stored", "replies": len(result.sent)}


# --- the demo mailbox ------------------------------------------------------------------------------------------


def mailbox_enabled(settings: Settings) -> bool:
    return settings.embedded and settings.demo_mailbox


def _require_mailbox(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not mailbox_enabled(settings):
        raise HTTPException(status_code=404)
    return settings


def _parts(raw: str) -> tuple[str, str | None, str, str]:
    """(text part, HTML part or None, From, To) of a kept message."""
    message = message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text is not None else "", html.get_content() if html is not None else None,
            str(message["From"] or ""), str(message["To"] or ""))


def mailbox(engine: Engine, settings: Settings) -> list[dict[str, Any]]:
    """The emails Settle sent, newest first (replies to Settle are its own inbound mail, not shown)."""
    own = normal_address(settings.email_from.rsplit("<", 1)[-1].rstrip(">"))
    with session_scope(engine) as session:
        rows = session.scalars(select(MailboxMessage).order_by(MailboxMessage.id.desc())
                               .limit(MAILBOX_LIMIT * 2)).all()
        shown = []
        for row in rows:
            if own in {normal_address(r) for r in row.rcpt_to}:
                continue
            text, html, sender, to = _parts(row.raw)
            shown.append({"id": row.id, "subject": row.subject or "(no subject)", "from": sender, "to": to,
                          "at": row.received_at, "text": text, "html": html,
                          "reply_to": normal_address(row.rcpt_to[0]) if row.rcpt_to else ""})
    return shown[:MAILBOX_LIMIT]


@router.get("/mailbox", response_class=HTMLResponse, include_in_schema=False)
async def mailbox_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """A demo page, so the interface's words (bot/gateway/texts "mailbox"): the browser's language or `?lang=`. The
    emails themselves are as sent."""
    settings = _require_mailbox(request)
    emails = await run_in_threadpool(mailbox, request.app.state.engine, settings)
    shown = texts.preferred(request.headers.get("accept-language"), lang)
    response = _page(request, "mailbox.html", {"emails": emails, "configured": bool(settings.smtp_url),
                                               "settle_address": settings.email_from,
                                               "replied": request.query_params.get("replied") == "1",
                                               "t": texts.section("mailbox", shown), "lang": shown})
    response.headers["content-language"] = shown
    return response


def _send_reply(settings: Settings, mailbox_id: int, engine: Engine) -> bool:
    """The demo's "Reply STOP": an email from the recipient to Settle's address, through the same SMTP server, so
    it reaches inbound.handle_reply the way a real reply would."""
    with session_scope(engine) as session:
        row = session.get(MailboxMessage, mailbox_id)
        if row is None or not row.rcpt_to:
            return False
        sender, subject = normal_address(row.rcpt_to[0]), row.subject or ""
    config = parse_url(settings.smtp_url, settings.smtp_timeout_seconds)
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = sender, settings.email_from, f"Re: {subject}"
    reply.set_content("STOP\n")
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        smtp.send_message(reply)
    return True


@router.post("/mailbox/reply-stop", include_in_schema=False)
async def mailbox_reply_stop(request: Request) -> RedirectResponse:
    settings = _require_mailbox(request)
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:  # another site's form may not opt anyone out
        raise HTTPException(status_code=403)
    if not settings.smtp_url or not parse_url(settings.smtp_url).loopback:
        raise HTTPException(status_code=409, detail="The demo mailbox replies only through the local mail server.")
    form = await request.form()
    raw_id = str(form.get("id", ""))
    # Digits only, and small: a huge number would overflow the database's integer.
    if not (raw_id.isascii() and raw_id.isdigit()) or not 0 < int(raw_id) < 2**31:
        raise HTTPException(status_code=400, detail="Pick an email to reply to.")
    mailbox_id = int(raw_id)
    if not await run_in_threadpool(_send_reply, settings, mailbox_id, request.app.state.engine):
        raise HTTPException(status_code=404)
    return RedirectResponse("/mailbox?replied=1", status_code=303)
