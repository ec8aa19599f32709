"""The compliance console at /compliance (REC-2): search, read (redacted), review and export conversations.

Same login, session and CSRF as the agent console (routes.py). Role compliance only: an agent or a supervisor gets
403, and nothing here can reply, claim or change a conversation's state. Every view, export and action is audited
by the services in bot/records/."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot import audit, contact_preferences, conversations
from bot.agents import users
from bot.agents.queue import OUTCOME_LABELS
from bot.compliance import redaction
from bot.db import session_scope
from bot.gateway.console import routes
from bot.records import export, review, search
from bot.records.flags import FLAGS, LABELS
from bot.records.reading import NotPermitted, Reading, may_read_unredacted, reading_for

router = APIRouter(prefix="/compliance", include_in_schema=False)
ROLE = "compliance"


async def _reviewer(request: Request) -> Any:
    signed = await routes._signed_in(request)
    if signed is None:
        return routes._login_redirect(request)
    if signed.user.role != ROLE:
        return routes._refuse(request, 403, "The compliance console is for compliance reviewers only.",
                              back=routes.HOME)
    return signed


def _typed(params: Any) -> dict[str, str]:
    """The search form's fields as the reviewer typed them, to show back, with any card number or SSN masked by the
    one redaction rule (PCI-2): a page, above all an error page, never repeats one."""
    return {key: redaction.redact(str(value)).text for key, value in params.items()}


@router.get("", response_class=HTMLResponse)
async def list_page(request: Request) -> Response:
    signed = await _reviewer(request)
    if isinstance(signed, Response):
        return signed
    params = request.query_params

    def load() -> search.Page | search.SearchRefused:
        with session_scope(routes._app(request).engine) as session:
            try:
                return search.search(session, search.read_filters(session, params), page=search.read_page(params))
            except search.SearchRefused as exc:
                return exc

    found = await run_in_threadpool(load)
    # A bad date, a reversed range, a value no list offers: a 400 that is still the search page, saying why above
    # the form, with every field as typed (nothing is lost) and nothing listed (none was asked for).
    refused = found if isinstance(found, search.SearchRefused) else None
    result = search.Page(rows=[], total=0, page=1, page_size=1) if refused else found
    return routes._render(request, "compliance_list.html", {
        "user": signed.user, "csrf_token": signed.csrf_token, "result": result, "params": _typed(params),
        "flags": FLAGS, "labels": LABELS, "query": str(params), "notice": None, "outcomes": OUTCOME_LABELS,
        "review_statuses": search.REVIEW_STATUSES, "channels": conversations.CHANNELS,
        "form_error": str(refused) if refused else None, "bad_field": refused.field if refused else None,
        "as_text": refused.field if refused and refused.not_a_date else None},
        status_code=400 if refused else 200)


@router.get("/c/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, conversation_id: str) -> Response:
    signed = await _reviewer(request)
    if isinstance(signed, Response):
        return signed
    try:
        reading = reading_for(signed.user, unredacted=request.query_params.get("unredacted") == "1")
    except NotPermitted as exc:
        await run_in_threadpool(_audit_refused_unredacted, request, signed.user, conversation_id)
        return routes._refuse(request, 403, str(exc))
    return await _conversation(request, signed, conversation_id, reading, {"saved": request.query_params.get("saved")})


def _audit_refused_unredacted(request: Request, user: Any, conversation_id: str) -> None:
    """REC-2: an attempt to read a transcript unredacted without the permission is itself on the record."""
    with session_scope(routes._app(request).engine) as session:
        audit.record(session, "transcript_unredacted_refused", rule_id="REC-2", actor=users.actor(user),
                     detail={"conversation": conversation_id[:64]})


async def _conversation(request: Request, signed: Any, conversation_id: str, reading: Reading, extra: dict[str, Any],
                        status_code: int = 200) -> Response:
    """The conversation page as this reviewer may read it (a read, audited by what was shown: REC-2)."""

    def load() -> dict[str, Any] | None:
        with session_scope(routes._app(request).engine) as session:
            try:
                record = export.conversation_record(session, conversation_id, reading)
            except LookupError:
                return None
            audit.record(session, reading.audit_kind, conversation_id=conversation_id,
                         actor=users.actor(signed.user), detail={"rule": "REC-2"})
            opted_out = contact_preferences.email_opt_out(session, conversation_id)
            record["email_opt_out"] = None if opted_out is None else {
                "at": opted_out.opted_out_at, "via": opted_out.opted_out_via,
                "requests": [(m.id, m.created_at, reading.message(m)) for m in opted_out.requests]}
            return record

    record = await run_in_threadpool(load)
    if record is None:
        return routes._refuse(request, 404, "No such conversation.")
    return routes._render(request, "compliance_conversation.html", {
        "user": signed.user, "csrf_token": signed.csrf_token, "record": record, "labels": LABELS,
        # REC-2: the way to the unredacted view is shown to those who may open it, and only to them.
        "may_read_unredacted": may_read_unredacted(signed.user),
        "notice": None, "saved": None, **extra}, status_code=status_code)


@router.post("/c/{conversation_id}/{action}")
async def act(request: Request, conversation_id: str, action: str) -> Response:
    if action not in ("reviewed", "reopen", "annotate", "escalate", "email-opt-in"):
        return routes._refuse(request, 404, "No such action.")
    signed = await _reviewer(request)
    if isinstance(signed, Response):
        return signed
    guarded = await routes._guard_post(request)
    if isinstance(guarded, Response):
        return guarded
    _, form = guarded
    text = str(form.get("text") or "")

    def work() -> str | None:
        with session_scope(routes._app(request).engine) as session:
            user = session.merge(signed.user)
            try:
                if action == "reviewed":
                    review.mark_reviewed(session, user, conversation_id)
                elif action == "reopen":
                    review.reopen(session, user, conversation_id)
                elif action == "annotate":
                    review.annotate(session, user, conversation_id, text)
                elif action == "email-opt-in":  # OPT-3: the debtor's verified request, recorded by a reviewer
                    chosen = str(form.get("message_id") or "")
                    contact_preferences.reenable_email_on_request(
                        session, conversation_id, int(chosen) if chosen.isdigit() and len(chosen) < 19 else -1,
                        actor=users.actor(user), note=text)
                else:
                    review.escalate(session, user, conversation_id, text)
            except (review.ReviewError, contact_preferences.OptInRefused) as exc:
                return str(exc)
            return None

    error = await run_in_threadpool(work)
    if error:
        # The reviewer stays on the conversation, with why and what they wrote (a 400), not on a bare error page.
        return await _conversation(request, signed, conversation_id, reading_for(signed.user),
                                   {"form_error": error, "failed_action": action, "typed": text}, status_code=400)
    return RedirectResponse(f"/compliance/c/{conversation_id}?saved={action}", status_code=303)


@router.get("/export.{fmt}")
async def export_search(request: Request, fmt: str) -> Response:
    signed = await _reviewer(request)
    if isinstance(signed, Response):
        return signed
    if fmt not in ("csv", "json"):
        return routes._refuse(request, 404, "Exports are CSV or JSON.")
    one = request.query_params.get("conversation")

    def build() -> str | search.SearchRefused | None:
        with session_scope(routes._app(request).engine) as session:
            try:
                ids = [one] if one else search.all_ids(session, search.read_filters(session, request.query_params))
            except search.SearchRefused as exc:
                return exc
            writer = export.as_csv if fmt == "csv" else export.as_json
            try:
                return writer(session, signed.user, ids)
            except LookupError:
                return None

    body = await run_in_threadpool(build)
    if isinstance(body, search.SearchRefused):
        return routes._refuse(request, 400, str(body))
    if body is None:
        return routes._refuse(request, 404, "No such conversation.")
    name = f"transcript-{one or 'search'}.{fmt}"
    return Response(body, media_type="text/csv" if fmt == "csv" else "application/json",
                    headers={**routes.SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@router.get("/c/{conversation_id}/print", response_class=HTMLResponse)
async def printable(request: Request, conversation_id: str) -> Response:
    """A transcript fit for a regulator: events inline, the hash-chain check and head hash, a print stylesheet."""
    signed = await _reviewer(request)
    if isinstance(signed, Response):
        return signed

    def load() -> dict[str, Any] | None:
        with session_scope(routes._app(request).engine) as session:
            try:
                return export.printable_record(session, signed.user, conversation_id)
            except LookupError:
                return None

    record = await run_in_threadpool(load)
    if record is None:
        return routes._refuse(request, 404, "No such conversation.")
    return routes._render(request, "compliance_print.html", {"record": record, "labels": LABELS,
                                                             "printed_by": signed.user.username})


@router.get("/kpi")
async def kpi_page(request: Request) -> Response:
    """The KPIs moved to the operations console (/ops/dashboard), which reviewers still read; old links land there."""
    signed = await _reviewer(request)
    if isinstance(signed, Response):
        return signed
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/ops/dashboard{query}", status_code=303)
