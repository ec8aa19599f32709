"""The agent console at /agent: server-rendered pages (Jinja2, autoescaped), plain JS, no build step.

Auth (REC-2): a stranger gets the login page and nothing else: every page and stream resolves the session cookie
first (bot/agents/auth.py: server-side sessions, Argon2 passwords), and every action checks the role and the
ownership again in bot/agents/ (the templates only hide buttons; they are not the check). Every POST needs the
session's CSRF token and, when the browser sends an Origin, our own origin; the login form uses a double-submit
token. Pages are never cached and never framed (Content-Security-Policy, X-Frame-Options).

Live updates: Server-Sent Events. A stream subscribes to the live hub's console topics (bot/agents/__init__.py)
and re-reads the database whenever something is published there, or every few seconds anyway, so updates made
by another process (the action server queueing a handoff, a webhook, another gateway worker) show up too. It
sends rendered HTML fragments; the page swaps them in."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot import agents, audit, conversations, feedback, wording
from bot import language as languages
from bot.agents import auth, canned, notes, notices, queue, replies, users
from bot.agents.auth import SignedIn
from bot.agents.hours import AgentHours
from bot.compliance import holds
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Account, AgentNote, Conversation, Handoff, Message, User
from bot.durations import human_age, human_ago
from bot.gateway.couriers import couriers_for
from bot.gateway.live import LiveHub, SubscriberLagged
from bot.messaging.outbox import Posted
from bot.payments import autopay
from bot.records.reading import reading_for

router = APIRouter(prefix="/agent", include_in_schema=False)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE.parent / "templates"))
STATIC = HERE / "static"
POLL_SECONDS = 5.0  # the database is re-read at least this often on a stream, whatever the hub says
KEEPALIVE_SECONDS = 15.0
FETCH_HEADER = "x-requested-with"  # the console's JS asks for JSON results instead of a redirect
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NOTICES = {  # what a redirect may tell the page (codes only: nothing the request wrote is echoed back)
    "claimed": "You own this conversation now. The bot stays quiet until you hand it back or resolve it.",
    "released": "Back in the queue. The bot answers while it waits.",
    "reassigned": "Reassigned.",
    "handed_back": "Handed back. The bot answers the debtor's next message.",
    "resolved": "Resolved.",
    "sent": "Sent.",
    "blocked": "Not sent: the outbound gate blocked it. The rules are shown on the message.",
    "deferred": "Queued, not sent yet: the debtor's session is over and it is outside their contact window or cap. "
                "It goes out when the rules allow.",
    "noted": "Note added.",
    "languages_saved": "Languages saved.",
    "autopay_stopped": "Automatic payments stopped on that plan (PLAN-2): nothing more is charged to the card. The "
                       "plan is still on: tell the debtor they pay each installment themselves ('pay now' in the "
                       "chat).",
}
# On a held account the advice above would be a payment ask (DSP-2, CEASE-*, VUL-2): say why not, per rule.
NOTICES.update({f"autopay_stopped_{rule}": "Automatic payments stopped on that plan (PLAN-2): nothing more is "
                f"charged to the card. The account is on hold ({rule}): don't ask the debtor for any payment."
                for rule in holds.HOLD_MESSAGES})


@dataclass(frozen=True)
class _Notice:
    """What a queue action's work returns when the notice depends on what it found (a NOTICES key)."""
    key: str


# --- plumbing -----------------------------------------------------------------------------------------------------

@dataclass
class _App:
    settings: Settings
    engine: Any
    hub: LiveHub | None
    zone: ZoneInfo

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=max(1, self.settings.agent_session_idle_minutes))


def _app(request: Request) -> _App:
    settings: Settings = request.app.state.settings
    return _App(settings, request.app.state.engine, getattr(request.app.state, "live", None),
                AgentHours.parse(settings.agent_hours).zone)


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    local = value.astimezone(zone)
    return f"{local:%b} {local.day}, {local:%H:%M}"


def _exactly(value: datetime | str | None, zone: ZoneInfo) -> str:
    """A time to the second for a record ("Dec 7, 2026, 14:05:09"), from a datetime or an ISO string; never the
    ISO form with its microseconds."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(zone)
    return f"{local:%b} {local.day}, {local.year}, {local:%H:%M:%S}"


def _base(app: _App) -> dict[str, Any]:
    """What every template needs, for whole pages and for the fragments a stream sends alike."""
    now = datetime.now(timezone.utc)
    return {"business_name": app.settings.business_name, "notices": NOTICES, "when": lambda v: _when(v, app.zone),
            "zone_label": AgentHours.parse(app.settings.agent_hours).zone_label,
            "exactly": lambda v: _exactly(v, app.zone), "in_utc": lambda v: _exactly(v, ZoneInfo("UTC")),
            "event_words": audit.describe, "channel_words": conversations.channel_label,
            # Waits and ages as people read them ("5 min", "2 h 10 min", "2 days"): bot/durations.py.
            "age": lambda v: human_age(v, now) if v else "", "ago": lambda v: human_ago(v, now) if v else ""}


def _fragment(app: _App, name: str, context: dict[str, Any]) -> str:
    return templates.get_template(f"console/{name}").render(**_base(app), **context)


def _render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, f"console/{name}", {**_base(_app(request)), **context},
                                          status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or _app(request).settings.public_base_url.startswith("https://")


def _resolve(app: _App, token: str | None) -> SignedIn | None:
    with session_scope(app.engine) as session:
        return auth.resolve(session, token, idle=app.idle)


async def _signed_in(request: Request) -> SignedIn | None:
    return await run_in_threadpool(_resolve, _app(request), request.cookies.get(auth.COOKIE))


def _same_origin(request: Request) -> bool:
    """A browser names the page a POST came from; it must be ours (a second wall behind the CSRF token)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser (or a very old one): the CSRF token still has to match
    ours = {f"{request.url.scheme}://{request.url.netloc}"}
    public = _app(request).settings.public_base_url
    if public:
        parts = urlsplit(public)
        ours.add(f"{parts.scheme}://{parts.netloc}")
    return origin.rstrip("/") in ours


def _wants_json(request: Request) -> bool:
    return request.headers.get(FETCH_HEADER, "").lower() == "fetch"


_COMPLIANCE_CONVERSATION = re.compile(r"^/compliance/c/([A-Za-z0-9_-]{1,60})(?:/|$)")


def _way_back(request: Request) -> tuple[str, str, str]:
    """(console, link, words): the console whose layout an error page wears, and the way back to where the person
    was in it (the conversation a reviewer was reading, the dashboard, the queue)."""
    path = request.url.path
    if path.startswith("/compliance"):
        found = _COMPLIANCE_CONVERSATION.match(path)
        if found:
            return "compliance", f"/compliance/c/{found.group(1)}", "Back to the conversation"
        return "compliance", "/compliance", "Back to the search"
    if path.startswith("/ops"):
        if path.startswith("/ops/dashboard"):
            return "ops", "/ops/dashboard", "Back to the dashboard"
        return "ops", "/ops", "Back to operations"
    return "agent", "/agent", "Back to the queue"


# A refusal of the console itself (the wrong role): back to the person's own start page (/agent sends an operator
# on to /ops), not to a page of the console that refused them.
HOME = ("agent", "/agent", "Back to your console")


def _refuse(request: Request, status: int, text: str, back: tuple[str, str, str] | None = None) -> Response:
    if _wants_json(request) or request.method == "GET" and "text/event-stream" in request.headers.get("accept", ""):
        return JSONResponse({"ok": False, "error": text}, status_code=status, headers=SECURITY_HEADERS)
    console, link, words = back or _way_back(request)
    return _render(request, "error.html", {"status": status, "text": text, "console": console, "back": link,
                                           "back_words": words}, status_code=status)


_CONSOLE_PATH = re.compile(r"^/(agent|ops|compliance)(/|$)")


async def not_found(request: Request, exc: Exception) -> Response:
    """A 404 or 405 under a console is a page in that console with the way back, not bare JSON; elsewhere (the API,
    the webhooks) FastAPI's answer as before."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    if isinstance(exc, HTTPException) and exc.status_code == 404 and _CONSOLE_PATH.match(request.url.path):
        return _refuse(request, 404, "There is no such page.")
    if isinstance(exc, HTTPException) and exc.status_code == 405 and _CONSOLE_PATH.match(request.url.path):
        # An address a form posts to, opened in the browser: a page with the way back, not {"detail": ...}.
        refused = _refuse(request, 405, "This address only takes a form's button, so there is nothing to show "
                                        "here: use the way back below.")
        refused.headers.update(exc.headers or {})  # Allow: what the address does take
        return refused
    return await http_exception_handler(request, exc)  # type: ignore[arg-type]


def _audit(app: _App, kind: str, **fields: Any) -> None:
    with session_scope(app.engine) as session:
        audit.record(session, kind, rule_id="REC-2", **fields)


def _route_template(request: Request) -> str:
    """The route ("/agent/h/{handoff_id}/reply"), not the path as sent: an audit row must not keep whatever the
    caller put in the URL (issue 18: a card number there ended up in audit_events.detail)."""
    return str(getattr(request.scope.get("route"), "path", None) or "?")


async def _guard_post(request: Request, signed: SignedIn | None = None) -> tuple[SignedIn, Any] | Response:
    """Who is posting, and their form, if the session, the origin and the CSRF token all check out. A caller that
    has already looked the session up (to check a role) passes it, so it is not read twice."""
    app = _app(request)
    signed = signed or await _signed_in(request)
    if signed is None:
        return _refuse(request, 401, "Please log in again.")
    if not _same_origin(request):
        await run_in_threadpool(_audit, app, "csrf_rejected", actor=users.actor(signed.user),
                                detail={"path": _route_template(request), "why": "origin"})
        return _refuse(request, 403, "This form came from another site, so it was refused.")
    form = await request.form()
    given = form.get("csrf_token") or request.headers.get("x-csrf-token")
    if not auth.csrf_ok(signed.csrf_token, str(given) if given else None):
        await run_in_threadpool(_audit, app, "csrf_rejected", actor=users.actor(signed.user),
                                detail={"path": _route_template(request), "why": "token"})
        return _refuse(request, 403, "This form has expired. Reload the page and try again.")
    return signed, form


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse("/agent/login", status_code=303, headers={"Cache-Control": "no-store"})


def _done(request: Request, handoff_id: str | None, notice: str, **extra: Any) -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": True, "notice": NOTICES.get(notice, ""), **extra}, headers=SECURITY_HEADERS)
    target = f"/agent/h/{handoff_id}?notice={notice}" if handoff_id else f"/agent?notice={notice}"
    return RedirectResponse(target, status_code=303)


def _queue_error(request: Request, exc: queue.QueueError) -> Response:
    status = 404 if isinstance(exc, queue.NotFound) else 409 if isinstance(exc, queue.Conflict) else \
        403 if isinstance(exc, queue.Forbidden) else 400
    return _refuse(request, status, str(exc))


# --- static -------------------------------------------------------------------------------------------------------

@router.get("/static/{name}")
async def console_static(name: str) -> Response:
    files = {"console.js": "application/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8",
             "print.css": "text/css; charset=utf-8"}
    if name not in files:
        return Response(status_code=404)
    return FileResponse(STATIC / name, media_type=files[name], headers={"Cache-Control": "no-cache"})


# --- login --------------------------------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    if await _signed_in(request) is not None:
        return RedirectResponse("/agent", status_code=303)
    return _login_form(request)


def _login_form(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    ended = request.query_params.get("ended") == "1"  # sent here by the page when the session ended (console.js)
    response = _render(request, "login.html", {"csrf_token": token, "error": error, "ended": ended},
                       status_code=status_code)
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/agent",
                        secure=_secure(request), max_age=3600)
    return response


def _login(app: _App, username: str, password: str) -> tuple[str, SignedIn] | None:
    with session_scope(app.engine) as session:
        user = users.authenticate(session, username, password)
        if user is None:
            return None
        return auth.start(session, user, lifetime=timedelta(hours=max(1, app.settings.agent_session_max_hours)))


@router.post("/login")
async def login(request: Request) -> Response:
    app = _app(request)
    form = await request.form()
    # Login CSRF: a double-submit token, so another site cannot sign this browser in as someone else.
    if not _same_origin(request) or not auth.csrf_ok(request.cookies.get(auth.LOGIN_CSRF_COOKIE),
                                                     str(form.get("csrf_token") or "")):
        return _login_form(request, "The login form expired. Please try again.", status_code=403)
    started = await run_in_threadpool(_login, app, str(form.get("username") or ""), str(form.get("password") or ""))
    if started is None:
        # One message for every failure: no telling a wrong name from a wrong password or a locked account.
        return _login_form(request, "Wrong username or password.", status_code=401)
    token, _signed = started
    response = RedirectResponse("/agent", status_code=303)
    # Path "/": one login serves the agent console (/agent) and the compliance console (/compliance).
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict", path="/", secure=_secure(request),
                        max_age=max(1, app.settings.agent_session_max_hours) * 3600)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/agent")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    guard = await _guard_post(request)
    if isinstance(guard, Response):
        return guard
    signed, _form = guard

    def end() -> None:
        with session_scope(_app(request).engine) as session:
            auth.end(session, signed)

    await run_in_threadpool(end)
    response = RedirectResponse("/agent/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


# --- the queue ----------------------------------------------------------------------------------------------------

def _queue_context(app: _App, signed: SignedIn) -> dict[str, Any]:
    user = signed.user
    now = datetime.now(timezone.utc)
    with session_scope(app.engine) as session:
        names = {u.id: u.display_name for u in session.scalars(select(User))}
        sections = [("Waiting", "waiting", queue.waiting(session)),
                    ("Yours", "mine", queue.claimed(session, user.id))]
        if users.sees_everything(user):
            sections.append(("Owned by others", "others",
                             [h for h in queue.claimed(session) if h.claimed_by != user.id]))
            sections.append(("Recently closed", "closed", queue.recently_closed(session)))
        else:
            sections.append(("You closed recently", "closed", queue.recently_closed(session, user.id, limit=10)))
        shown = queue.summaries(session, [h for _, _, handoffs in sections for h in handoffs], now,
                                reading=reading_for(user))
        rows = {key: [(h, shown[h.id]) for h in handoffs] for _, key, handoffs in sections}
        # HO-1, LANG-1: "Take" is offered only where claim would accept it; the reason is shown instead.
        take_refusals = queue.take_refusals(session, [h for h, _ in rows["waiting"]], user, now)
    return {"sections": [(title, key) for title, key, _ in sections], "rows": rows, "names": names,
            "waiting_ids": [h.id for h, _summary in rows["waiting"]],
            "user": user, "csrf_token": signed.csrf_token, "can_work": users.can_work(user),
            "take_refusals": take_refusals,
            "reason_labels": queue.REASON_LABELS, "outcomes": queue.OUTCOMES,
            "outcome_labels": queue.OUTCOME_LABELS}


@router.get("", response_class=HTMLResponse)
async def queue_page(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _login_redirect(request)
    if signed.user.role == users.OPERATOR:  # operators work at /ops; the queue's conversations are not theirs
        return RedirectResponse("/ops", status_code=303)
    context = await run_in_threadpool(_queue_context, _app(request), signed)
    return _render(request, "queue.html", {**context, "notice": request.query_params.get("notice")})


@router.get("/events/queue")
async def queue_events(request: Request) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _refuse(request, 401, "Please log in again.")
    if signed.user.role == users.OPERATOR:
        return _refuse(request, 403, "The queue is for agents, supervisors and compliance.")
    app = _app(request)

    def render(current: SignedIn) -> dict[str, str]:
        return {"queue": _fragment(app, "_queue_sections.html", _queue_context(app, current))}

    return _stream(request, [agents.QUEUE_TOPIC], render)


# --- available / away ---------------------------------------------------------------------------------------------

_BACK_TO = re.compile(r"^/agent(?:/h/[A-Za-z0-9_-]{1,60})?$")  # only our own pages: no open redirect


@router.post("/availability")
async def availability(request: Request) -> Response:
    """The header's switch: only available people count toward the wait the bot quotes a debtor (HO-1)."""
    guard = await _guard_post(request)
    if isinstance(guard, Response):
        return guard
    signed, form = guard
    wanted = str(form.get("available") or "")
    if wanted not in ("1", "0"):
        return _refuse(request, 400, "Say available (1) or away (0).")
    app = _app(request)

    def run() -> None:
        with session_scope(app.engine) as session:
            users.set_available(session, session.get(User, signed.user.id), wanted == "1")

    try:
        await run_in_threadpool(run)
    except users.UserError as exc:
        return _refuse(request, 403, f"Not changed: {exc}.")
    if _wants_json(request):
        return JSONResponse({"ok": True, "available": wanted == "1"}, headers=SECURITY_HEADERS)
    back = str(form.get("next") or "/agent")
    return RedirectResponse(back if _BACK_TO.match(back) else "/agent", status_code=303)


# --- the team: who answers in which language (supervisors) -------------------------------------------------------

def _team_context(app: _App, signed: SignedIn) -> dict[str, Any]:
    with session_scope(app.engine) as session:
        people = list(session.scalars(select(User).where(User.role.in_(users.ANSWERING_ROLES))
                                      .order_by(User.active.desc(), User.display_name)))
        spoken = {person.id: users.languages(person) for person in people}
        session.expunge_all()
    return {"people": people, "spoken": spoken, "user": signed.user, "csrf_token": signed.csrf_token,
            "language_names": [(code, queue.LANGUAGE_NAMES.get(code, code)) for code in wording.LANGUAGES]}


async def _supervisor(request: Request) -> SignedIn | Response:
    signed = await _signed_in(request)
    if signed is None:
        return _login_redirect(request) if request.method == "GET" else _refuse(request, 401, "Please log in again.")
    if not users.can_reassign(signed.user):
        return _refuse(request, 403, "Only supervisors set who answers in which language.")
    return signed


@router.get("/team", response_class=HTMLResponse)
async def team_page(request: Request) -> Response:
    signed = await _supervisor(request)
    if isinstance(signed, Response):
        return signed
    context = await run_in_threadpool(_team_context, _app(request), signed)
    saved = request.query_params.get("saved")
    return _render(request, "team.html", {**context, "notice": "languages_saved" if saved else None})


@router.post("/team/{user_id}/languages")
async def team_languages(request: Request, user_id: str) -> Response:
    """A supervisor sets the languages a person answers in (issue 23): validated by bot/agents/users.py (only
    languages Settle writes in, at least one) and audited there (REC-2) with the supervisor as the actor."""
    signed = await _supervisor(request)
    if isinstance(signed, Response):
        return signed
    guard = await _guard_post(request, signed)
    if isinstance(guard, Response):
        return guard
    signed, form = guard
    wanted = [str(value) for value in form.getlist("languages")]
    app = _app(request)

    def run() -> str | None:
        with session_scope(app.engine) as session:
            person = session.get(User, user_id)
            if person is None or not users.answers_debtors(person.role):
                return None
            users.set_languages(session, person, wanted, changed_by=users.actor(signed.user))
            return person.id

    try:
        changed = await run_in_threadpool(run)
    except users.UserError as exc:
        context = await run_in_threadpool(_team_context, app, signed)
        return _render(request, "team.html", {**context, "error": f"Not changed: {exc}."}, status_code=400)
    if changed is None:
        return _refuse(request, 404, "There is no such agent or supervisor.")
    return RedirectResponse(f"/agent/team?saved=1#person-{changed}", status_code=303)


# --- one conversation ---------------------------------------------------------------------------------------------

def _conversation_context(app: _App, signed: SignedIn, handoff_id: str) -> dict[str, Any]:
    user = signed.user
    with session_scope(app.engine) as session:
        handoff = queue.get(session, handoff_id)
        if not users.can_view(user, handoff):
            raise queue.Forbidden(users.why_not_view(user))
        conversation = session.get(Conversation, handoff.conversation_id)
        messages = list(session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                                        .order_by(Message.id)))
        names = {u.id: u.display_name for u in session.scalars(select(User))}
        # A rule the debtor's words put in force while a person owns the chat, shown where they read (notices.py).
        shown_notices = notices.for_conversation(session, conversation.id)
        waiting = queue.waiting(session)
        mine = queue.claimed(session, user.id)
        # REC-2, HO-1: what this person may read of the messages, one rule for the page and its live updates.
        reading = reading_for(user)
        mine_shown = queue.summaries(session, mine, reading=reading)
        context = {
            # Beside the conversation: the person's other open ones, and what waits (the new-arrival alert).
            "mine": [(h, mine_shown[h.id]) for h in mine],
            "waiting_ids": [h.id for h in waiting],
            "handoff": handoff, "conversation": conversation, "messages": messages, "compliance_notices": shown_notices,
            "transcript": sorted([("message", m.created_at, m) for m in messages]
                                 + [("notice", n.at, n) for n in shown_notices], key=lambda item: item[1]),
            "notes": notes.for_conversation(session, conversation.id),
            "summary": queue.summaries(session, [handoff], reading=reading)[handoff.id],
            "panel": queue.account_panel(session, handoff), "reading": reading, "read": reading.message,
            # TIME-1: the debtor's clock beside the callback field and the callback itself.
            "debtor_clock": queue.debtor_clock(session, handoff), "now_utc": datetime.now(timezone.utc),
            "names": names, "user": user, "csrf_token": signed.csrf_token,
            "can_work": users.can_work(user), "can_reply": users.can_reply(user, handoff),
            "can_reassign": users.can_reassign(user),
            "take_refusal": (queue.take_refusals(session, [handoff], user)[handoff.id]
                             if handoff.status == queue.WAITING and users.can_work(user) else None),
            "can_close": users.can_work(user) and handoff.status == queue.CLAIMED and (
                handoff.claimed_by == user.id or users.can_reassign(user)),
            "assignable": queue.assign_choices(session) if users.can_reassign(user) else [],
            "outcomes": queue.OUTCOMES, "outcome_labels": queue.OUTCOME_LABELS, "reason_labels": queue.REASON_LABELS,
            "canned": [(c.id, c.title, c.render(user.display_name, languages.current(session, conversation)))
                       for c in canned.default()],
        }
    return context


@router.get("/h/{handoff_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, handoff_id: str) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _login_redirect(request)
    app = _app(request)
    try:
        context = await run_in_threadpool(_conversation_context, app, signed, handoff_id)
    except queue.QueueError as exc:
        return _queue_error(request, exc)
    if context["user"].role == users.COMPLIANCE:
        # REC-2: each read of a transcript by a reviewer is logged, named by what was shown (bot/records/reading.py).
        await run_in_threadpool(_audit, app, context["reading"].audit_kind, actor=users.actor(signed.user),
                                conversation_id=context["conversation"].id)
    return _render(request, "conversation.html", {**context, "notice": request.query_params.get("notice")})


@router.get("/h/{handoff_id}/events")
async def conversation_events(request: Request, handoff_id: str) -> Response:
    signed = await _signed_in(request)
    if signed is None:
        return _refuse(request, 401, "Please log in again.")
    app = _app(request)
    try:
        after = int(request.query_params.get("after", "0"))
        notes_after = int(request.query_params.get("notes_after", "0"))
        notices_after = int(request.query_params.get("notices_after", "0"))
    except ValueError:
        return _refuse(request, 400, "Bad position.")
    seen = {"message": after, "note": notes_after, "notice": notices_after}

    def render(current: SignedIn) -> dict[str, Any]:
        context = _conversation_context(app, current, handoff_id)
        new_messages = [m for m in context["messages"] if m.id > seen["message"]]
        new_notes = [n for n in context["notes"] if n.id > seen["note"]]
        new_notices = [n for n in context["compliance_notices"] if n.id > seen["notice"]]
        if new_messages:
            seen["message"] = new_messages[-1].id
        if new_notes:
            seen["note"] = new_notes[-1].id
        if new_notices:
            seen["notice"] = new_notices[-1].id
        return {
            "messages": [{"id": m.id, "html": _fragment(app, "_message.html", {**context, "m": m})}
                         for m in new_messages],
            # In the transcript after the message that caused them (console.js); ids of their own (data-id).
            "notices": [{"id": f"notice-{n.id}", "html": _fragment(app, "_notice.html", {**context, "n": n})}
                        for n in new_notices],
            "notes": [{"id": n.id, "html": _fragment(app, "_note.html", {**context, "n": n})} for n in new_notes],
            "status": _fragment(app, "_status.html", context),
            "ended": _fragment(app, "_ended.html", context),
            "actions": _fragment(app, "_actions.html", context),
            "panel": _fragment(app, "_panel.html", context),
            "mine": _fragment(app, "_mine.html", context),
        }

    conversation_id = await run_in_threadpool(_conversation_of, app, handoff_id)
    if conversation_id is None:
        return _refuse(request, 404, "That conversation is not in the queue.")
    return _stream(request, [agents.conversation_topic(conversation_id)], render)


def _conversation_of(app: _App, handoff_id: str) -> str | None:
    with session_scope(app.engine) as session:
        return session.scalar(select(Handoff.conversation_id).where(Handoff.id == handoff_id))


def _stream(request: Request, topics: list[str], render: Any) -> StreamingResponse:
    """SSE: after each nudge from the hub (or every POLL_SECONDS) re-render; send what changed. The session is
    checked again each time, so logging out or being disabled ends the stream."""
    app = _app(request)
    token = request.cookies.get(auth.COOKIE)

    async def events() -> AsyncIterator[str]:
        wake = asyncio.Event()
        pumps = []
        async with _Subscriptions(app.hub, topics) as subscriptions:
            for subscription in subscriptions:
                pumps.append(asyncio.create_task(_pump(subscription, wake)))
            sent: dict[str, str] = {}
            quiet_since = asyncio.get_running_loop().time()
            try:
                while not await request.is_disconnected():
                    wake.clear()  # before reading: a nudge that lands while we read brings another read
                    current = await run_in_threadpool(_resolve, app, token)
                    if current is None:
                        yield _sse("logout", {"url": "/agent/login"})
                        return
                    try:
                        parts = await run_in_threadpool(render, current)
                    except queue.QueueError as exc:
                        yield _sse("gone", {"error": str(exc)})
                        return
                    for name, value in parts.items():
                        if isinstance(value, list):
                            for item in value:
                                yield _sse(name[:-1], item)
                        elif sent.get(name) != value:
                            sent[name] = value
                            yield _sse(name, {"html": value})
                    now = asyncio.get_running_loop().time()
                    if now - quiet_since > KEEPALIVE_SECONDS:
                        quiet_since = now
                        yield ": keepalive\n\n"
                    with suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                    await asyncio.sleep(0.05)  # a burst of nudges becomes one re-read
            finally:
                for pump in pumps:
                    pump.cancel()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={**SECURITY_HEADERS, "X-Accel-Buffering": "no"})


class _Subscriptions:
    """Subscribe to several hub topics at once (none without a hub: the stream then only polls)."""

    def __init__(self, hub: LiveHub | None, topics: list[str]) -> None:
        self.managers = [hub.subscribe(t) for t in topics] if hub is not None else []

    async def __aenter__(self) -> list[Any]:
        return [await m.__aenter__() for m in self.managers]

    async def __aexit__(self, *exc: Any) -> None:
        for manager in reversed(self.managers):
            await manager.__aexit__(*exc)


async def _pump(subscription: Any, wake: asyncio.Event) -> None:
    try:
        async for _event in subscription:
            wake.set()
    except SubscriberLagged:
        wake.set()  # fell behind: the next poll re-reads everything anyway


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


# --- actions ------------------------------------------------------------------------------------------------------

async def _act(request: Request, handoff_id: str, work: Any, notice: str, keep: tuple[str, ...] = ()) -> Response:
    """Run one queue action for the signed-in user in a transaction, wake the consoles, then redirect. A form whose
    fields are named in `keep` comes back, when what was typed is refused, on the conversation page with the reason
    and those fields as typed (a 400), rather than on an error page that loses them."""
    guard = await _guard_post(request)
    if isinstance(guard, Response):
        return guard
    signed, form = guard
    app = _app(request)

    def run() -> tuple[str, Any]:
        with session_scope(app.engine) as session:
            user = session.get(User, signed.user.id)
            result = work(session, user, form)
            handoff = queue.get(session, handoff_id)
            return handoff.conversation_id, result

    try:
        conversation_id, result = await run_in_threadpool(run)
    except queue.QueueError as exc:
        if keep and type(exc) is queue.QueueError and not _wants_json(request):
            return await _typed_again(request, signed, handoff_id, str(exc), {k: str(form.get(k) or "") for k in keep})
        return _queue_error(request, exc)
    if isinstance(result, Posted):
        await couriers_for(request.app).deliver([result])
    if isinstance(result, _Notice):
        notice = result.key
    await replies.notify(app.hub, conversation_id)
    return _done(request, handoff_id, notice)


async def _typed_again(request: Request, signed: SignedIn, handoff_id: str, error: str,
                       typed: dict[str, str]) -> Response:
    """The conversation page again, with why the form was refused and what was typed in it (a 400)."""
    try:
        context = await run_in_threadpool(_conversation_context, _app(request), signed, handoff_id)
    except queue.QueueError as exc:
        return _queue_error(request, exc)
    return _render(request, "conversation.html", {**context, "notice": None, "form_error": error, "typed": typed},
                   status_code=400)


@router.post("/h/{handoff_id}/claim")
async def claim(request: Request, handoff_id: str) -> Response:
    return await _act(request, handoff_id, lambda s, u, f: queue.claim(s, handoff_id, u), "claimed")


@router.post("/h/{handoff_id}/release")
async def release(request: Request, handoff_id: str) -> Response:
    return await _act(request, handoff_id, lambda s, u, f: queue.release(s, handoff_id, u), "released")


@router.post("/h/{handoff_id}/reassign")
async def reassign(request: Request, handoff_id: str) -> Response:
    def work(session: Any, user: User, form: Any) -> Handoff:
        target = session.get(User, str(form.get("user_id") or ""))
        if target is None:
            raise queue.QueueError("Pick who should take it.")
        return queue.reassign(session, handoff_id, user, target)

    return await _act(request, handoff_id, work, "reassigned")


@router.post("/h/{handoff_id}/handback")
async def hand_back(request: Request, handoff_id: str) -> Response:
    def work(session: Any, user: User, form: Any) -> Posted | None:
        handoff = queue.hand_back(session, handoff_id, user)
        return replies.record_bot_notice(session, handoff)

    return await _act(request, handoff_id, work, "handed_back")


@router.post("/h/{handoff_id}/resolve")
async def resolve(request: Request, handoff_id: str) -> Response:
    app = _app(request)

    def work(session: Any, user: User, form: Any) -> Posted | None:
        callback_at = None
        raw = str(form.get("callback_at") or "").strip()
        if raw:  # typed on the debtor's clock, the one the page shows beside the field (TIME-1)
            clock = queue.debtor_clock(session, queue.get(session, handoff_id))
            callback_at = clock.read(raw, str(form.get("callback_zone") or "") or None)
        handoff = queue.resolve(session, handoff_id, user, str(form.get("outcome") or ""), callback_at=callback_at)
        # The agent's end of the conversation: the feedback question, if the debtor is still there and may be asked.
        return feedback.after_resolve(session, handoff, window=timedelta(minutes=app.settings.session_idle_minutes))

    return await _act(request, handoff_id, work, "resolved", keep=("outcome", "callback_at", "callback_zone"))


@router.post("/h/{handoff_id}/stop-autopay")
async def stop_autopay(request: Request, handoff_id: str) -> Response:
    """PLAN-2: the debtor asked the person to stop the automatic payments on a plan (Reg E: a revocation by any
    reasonable means); the owner stops them here, audited in their name."""
    def work(session: Any, user: User, form: Any) -> _Notice:
        plan = queue.owned_plan(session, handoff_id, user, str(form.get("plan_id") or ""))
        if not autopay.stop(session, plan.id, "the debtor asked a person", actor=users.actor(user),
                            conversation_id=queue.get(session, handoff_id).conversation_id):
            raise queue.Conflict("Automatic payments on that plan were already off.")
        rule = holds.hold_rule(session, session.get(Account, plan.account_id))
        return _Notice(f"autopay_stopped_{rule}" if rule in holds.HOLD_MESSAGES else "autopay_stopped")

    return await _act(request, handoff_id, work, "autopay_stopped")


@router.post("/h/{handoff_id}/reply")
async def reply(request: Request, handoff_id: str) -> Response:
    guard = await _guard_post(request)
    if isinstance(guard, Response):
        return guard
    signed, form = guard
    app = _app(request)

    def run() -> Posted:
        with session_scope(app.engine) as session:
            user = session.get(User, signed.user.id)
            return replies.record_reply(session, handoff_id, user, str(form.get("text") or ""))

    try:
        outgoing = await run_in_threadpool(run)
    except queue.QueueError as exc:
        return _queue_error(request, exc)
    except replies.ReplyError as exc:
        return _refuse(request, 400, str(exc))
    await couriers_for(request.app).deliver([outgoing])
    await replies.notify(app.hub, outgoing.conversation_id)
    if outgoing.status == "deferred":
        # TIME-1 / FREQ-1 / TIME-2: the debtor's session is over and now is not a time to start a contact.
        when = f"{outgoing.not_before:%Y-%m-%d %H:%M} UTC" if outgoing.not_before else "later"
        if _wants_json(request):
            return JSONResponse({"ok": True, "deferred": True, "rule_ids": list(outgoing.rule_ids),
                                 "reasons": list(outgoing.reasons), "not_before": when,
                                 "notice": f"Queued: it goes at {when} ({', '.join(outgoing.rule_ids)})."},
                                headers=SECURITY_HEADERS)
        return _done(request, handoff_id, "deferred")
    if not outgoing.sent:
        if _wants_json(request):
            return JSONResponse({"ok": False, "blocked": True, "rule_ids": list(outgoing.rule_ids),
                                 "reasons": list(outgoing.reasons),
                                 "error": "Not sent: " + ", ".join(outgoing.rule_ids)},
                                status_code=422, headers=SECURITY_HEADERS)
        return _done(request, handoff_id, "blocked")
    return _done(request, handoff_id, "sent", message_id=outgoing.message_id)


@router.post("/h/{handoff_id}/notes")
async def add_note(request: Request, handoff_id: str) -> Response:
    guard = await _guard_post(request)
    if isinstance(guard, Response):
        return guard
    signed, form = guard
    app = _app(request)

    def run() -> AgentNote:
        with session_scope(app.engine) as session:
            user = session.get(User, signed.user.id)
            return notes.add(session, queue.get(session, handoff_id), user, str(form.get("text") or ""))

    try:
        note = await run_in_threadpool(run)
    except queue.QueueError as exc:
        return _queue_error(request, exc)
    except notes.NoteForbidden as exc:
        return _refuse(request, 403, str(exc))
    except notes.NoteError as exc:
        return _refuse(request, 400, str(exc))
    await replies.notify(app.hub, note.conversation_id)
    return _done(request, handoff_id, "noted")
