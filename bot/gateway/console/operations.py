"""The operations console at /ops: portfolio uploads, segments, policy edits, campaigns and the KPI dashboard.

Same login, session and CSRF as the agent console (routes.py). Role operator only, except the dashboard, which
compliance reviewers read too (it used to be on their console). Everything here is an adapter: the work is done by
bot/portfolio_import.py, bot/segments.py, bot/policy_edits.py, bot/campaigns.py and bot/dashboard.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bot import audit, campaigns, dashboard, outreach_order, policy_edits, portfolio_import, segments
from bot.agents import users
from bot.agents.auth import SignedIn
from bot.compliance import redaction
from bot.db import session_scope
from bot.db.models import AuditEvent, Campaign
from bot.gateway import hardening
from bot.gateway.console import routes
from bot.gateway.console.kpi_chart import bar_chart, line_chart
from bot.mail import transport as mail_transport
from bot.records import kpi

router = APIRouter(prefix="/ops", include_in_schema=False)
UPLOAD_PATH = "/ops/portfolio"  # its body limit is hardening.UPLOAD_FILE_BYTES's, not the gateway's 1 MiB
MAX_LISTED = 500  # accounts listed on the segment page; the CSV export has them all
FIRST_YEAR, LAST_YEAR = 1900, 2999
REPEATS = (("", "Once"), ("1", "Every day"), ("7", "Every week"), ("14", "Every two weeks"),
           ("30", "Every 30 days"))
# A segment asked for by name (a link, or a URL typed by hand) that segments.yml does not define. The name is not
# repeated: an error page never echoes what was sent.
NO_SEGMENT = "There is no segment by that name in segments.yml: pick one from the list below."
NOT_DATES = "Dates are YYYY-MM-DD."
NOTICES = {"created": "Campaign created. Try a dry run first: it shows who would get what, and why not.",
           "saved": "Saved. The change is in the audit trail below."}


async def _operator(request: Request, *, dashboard_reader: bool = False) -> SignedIn | Response:
    signed = await routes._signed_in(request)
    if signed is None:
        return routes._login_redirect(request)
    allowed = users.reads_dashboard(signed.user) if dashboard_reader else users.can_operate(signed.user)
    if not allowed:
        return routes._refuse(request, 403, "The operations console is for operators.", back=routes.HOME)
    return signed


async def _operator_post(request: Request) -> tuple[SignedIn, Any] | Response:
    """An operator's form post: the role first (403 for anyone else), then the origin and CSRF checks."""
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    return await routes._guard_post(request, signed)


def _page(request: Request, signed: SignedIn, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return routes._render(request, name, {"user": signed.user, "csrf_token": signed.csrf_token, "notice": None,
                                          "ops_notice": NOTICES.get(request.query_params.get("notice") or ""),
                                          **context}, status_code=status_code)


def _engine(request: Request) -> Any:
    return routes._app(request).engine


# --- home: upload and segments ----------------------------------------------------------------------------------

def _segment_context(request: Request, segment: str | None) -> dict[str, Any]:
    problem = None
    with session_scope(_engine(request)) as session:
        try:
            book = segments.active_segments(session)
        except segments.SegmentsError as exc:
            return {"segments_problem": str(exc), "counts": [], "listed": [], "segment": None, "total": 0,
                    "order_basis": outreach_order.basis(session)}
        assignments = segments.assign_all(session, book)
        order_basis = outreach_order.basis(session)
    chosen = book.by_name(segment) if segment else None
    if segment and chosen is None:
        problem = NO_SEGMENT
    listed = [a for a in assignments if chosen is not None and a.segment.name == chosen.name]
    return {"segments_problem": problem, "counts": segments.counts(book, assignments), "segment": chosen,
            "listed": listed[:MAX_LISTED], "more": max(0, len(listed) - MAX_LISTED), "total": len(assignments),
            "variants": book.plan_variants, "order_basis": order_basis}


@router.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    context = await run_in_threadpool(_segment_context, request, request.query_params.get("segment"))
    # An unknown segment is a 400 that is still the page: the counts, the list to pick from, and why.
    refused = context["segments_problem"] == NO_SEGMENT
    return _page(request, signed, "ops_home.html", {**context, "upload": None}, status_code=400 if refused else 200)


@router.post(UPLOAD_PATH.removeprefix("/ops"), response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    """A portfolio CSV through the same import as `python -m bot import`: every row checked first, then all of it in
    one transaction, or nothing; each problem shown with its line."""
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    try:
        guarded = await routes._guard_post(request, signed)
    except hardening.BodyTooLarge:
        # The body was refused unread (the middleware): nothing was imported, and the operator stays on the page.
        return await _upload_page(request, signed, {"errors": [_too_big()]}, 413)
    if isinstance(guarded, Response):
        return guarded
    signed, form = guarded
    file = form.get("portfolio")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _upload_page(request, signed, {"errors": ["Choose a CSV file to upload."]}, 400)
    if file.size is None or file.size > hardening.UPLOAD_FILE_BYTES[UPLOAD_PATH]:
        return await _upload_page(request, signed, {"errors": [_too_big()]}, 413)
    # The parser spooled the file to disk past 1 MB; the import streams it from there, never whole in memory.
    spooled, name = file.file, (file.filename or "upload.csv")[-100:]

    def work() -> dict[str, Any]:
        try:
            result = portfolio_import.import_accounts(_engine(request), spooled, actor=users.actor(signed.user),
                                                      file_name=name)
        except portfolio_import.PortfolioImportError as exc:
            return {"errors": [str(e) for e in exc.errors], "summary": str(exc)}
        return {"result": result}

    outcome = await run_in_threadpool(work)
    return await _upload_page(request, signed, outcome, 400 if "errors" in outcome else 200)


def _too_big() -> str:
    megabytes = hardening.UPLOAD_FILE_BYTES[UPLOAD_PATH] / 1024 / 1024
    return (f"This file is over {megabytes:g} MB, the most this page takes: nothing was "
            "imported. Import it with `bin/settle import-accounts` (README, \"The command line\").")


async def _upload_page(request: Request, signed: SignedIn, upload_state: dict[str, Any], status: int) -> Response:
    context = await run_in_threadpool(_segment_context, request, None)
    return _page(request, signed, "ops_home.html", {**context, "upload": upload_state}, status_code=status)


@router.get("/segments.csv")
async def segments_csv(request: Request) -> Response:
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed

    def build() -> tuple[int, str]:
        """(200, the CSV) or (an error status, why)."""
        with session_scope(_engine(request)) as session:
            try:
                book = segments.active_segments(session)
            except segments.SegmentsError:
                return 409, "segments.yml has problems; fix it under Policies first."
            named = request.query_params.get("segment")
            if named and book.by_name(named) is None:
                return 400, NO_SEGMENT
            rows = segments.assign_all(session, book, segment=named)
            # Debtors' balances and segments leave the system: who took them is on the record (REC-2).
            audit.record(session, "segments_exported", rule_id="REC-2", actor=users.actor(signed.user),
                         detail={"rows": len(rows), "segment": named})
            return 200, segments.as_csv(rows)

    status, body = await run_in_threadpool(build)
    if status != 200:
        return routes._refuse(request, status, body)
    return _download(body, "segments.csv", "text/csv")


def _audit_dashboard_export(request: Request, signed: SignedIn, picked: tuple[date, date]) -> None:
    with session_scope(_engine(request)) as session:
        audit.record(session, "dashboard_exported", rule_id="REC-2", actor=users.actor(signed.user),
                     detail={"from": picked[0].isoformat(), "to": picked[1].isoformat()})


def _download(body: str, name: str, media: str) -> Response:
    return Response(body, media_type=media, headers={**routes.SECURITY_HEADERS,
                                                     "Content-Disposition": f'attachment; filename="{name}"'})


# --- policies -------------------------------------------------------------------------------------------------------

def _policy_context(request: Request, name: str) -> dict[str, Any]:
    with session_scope(_engine(request)) as session:
        trail = list(session.scalars(select(AuditEvent).where(AuditEvent.kind == policy_edits.AUDIT_KIND)
                                     .order_by(AuditEvent.id.desc()).limit(20)))
        version, in_force = policy_edits.in_force(session, name)
        text = policy_edits.read(name, session=session)
        session.expunge_all()
    return {"name": name, "title": policy_edits.EDITABLE[name], "editable": policy_edits.EDITABLE,
            "trail": trail, "problems": [], "warnings": [], "to_confirm": [], "in_force": in_force,
            "base_version": version, "text": text}


@router.get("/policies/{name}", response_class=HTMLResponse)
async def policy_page(request: Request, name: str) -> Response:
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    if name not in policy_edits.EDITABLE:
        return routes._refuse(request, 404, "No such policy file.")
    context = await run_in_threadpool(_policy_context, request, name)
    return _page(request, signed, "ops_policy.html", context)


@router.post("/policies/{name}", response_class=HTMLResponse)
async def policy_save(request: Request, name: str) -> Response:
    guarded = await _operator_post(request)
    if isinstance(guarded, Response):
        return guarded
    signed, form = guarded
    if name not in policy_edits.EDITABLE:
        return routes._refuse(request, 404, "No such policy file.")
    text = str(form.get("text") or "")
    base = str(form.get("base_version") or "")
    base_version = int(base) if base.isdigit() else None

    confirmed = frozenset(str(value) for value in form.getlist("confirm_creditor"))

    def work() -> tuple[list[str], list[str]]:
        """(problems, creditor names to confirm): both empty when saved."""
        try:
            with session_scope(_engine(request)) as session:
                policy_edits.save(session, name, text, actor=users.actor(signed.user), base_version=base_version,
                                  confirmed_creditors=confirmed)
        except policy_edits.PolicyEditUnconfirmed as exc:
            return exc.problems, exc.creditors
        except policy_edits.PolicyEditRefused as exc:
            return exc.problems, []
        return [], []

    problems, to_confirm = await run_in_threadpool(work)
    if not problems:
        return RedirectResponse(f"/ops/policies/{name}?notice=saved", status_code=303)
    context = await run_in_threadpool(_policy_context, request, name)
    # The text as typed stays in the box, so nothing the operator wrote is lost; so does the version it was edited
    # from, so that after a clash a second save fails too until the operator has seen the newer version.
    keep = {"base_version": base_version} if base_version is not None else {}
    found = {"warnings": problems, "to_confirm": to_confirm} if to_confirm else {"problems": problems}
    return _page(request, signed, "ops_policy.html", {**context, "text": text, **found, **keep}, status_code=400)


# --- campaigns ------------------------------------------------------------------------------------------------------

def _campaigns_context(request: Request) -> dict[str, Any]:
    with session_scope(_engine(request)) as session:
        found = list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc())))
        session.expunge_all()
        try:
            names = [(s.name, s.label, s.treatment.channels) for s in segments.active_segments(session).segments]
        except segments.SegmentsError:
            names = []
    return {"campaigns": found, "segment_names": names, "problems": [], "warnings": [], "form": {},
            "schedules": {c.id: campaigns.schedule_words(c) for c in found}, "repeats": REPEATS}


@router.get("/campaigns", response_class=HTMLResponse)
async def campaigns_page(request: Request) -> Response:
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    context = await run_in_threadpool(_campaigns_context, request)
    return _page(request, signed, "ops_campaigns.html", context)


def _starts(value: str) -> datetime | None:
    """The form's start (a local datetime-local value read as UTC); None when it is not one."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@router.post("/campaigns", response_class=HTMLResponse)
async def campaign_create(request: Request) -> Response:
    guarded = await _operator_post(request)
    if isinstance(guarded, Response):
        return guarded
    signed, form = guarded
    fields = {k: str(form.get(k) or "") for k in ("name", "segment", "channel", "starts_at", "result_days",
                                                  "variant_a", "variant_b", "variant_c", "variant_a_es",
                                                  "variant_b_es", "variant_c_es", "repeat_days", "ends_at",
                                                  "start_now", "confirm_past_start")}
    # An empty start is not "now" unless the operator says so: the scheduler runs a due campaign within a minute,
    # before any dry run (exploratory pass).
    start_now = fields["start_now"] == "1" and not fields["starts_at"].strip()
    starts = datetime.now(timezone.utc) if start_now else _starts(fields["starts_at"])
    days = int(fields["result_days"]) if fields["result_days"].strip().isdigit() else -1
    repeat = fields["repeat_days"].strip()
    repeat_days = None if not repeat else int(repeat) if repeat.isdigit() else -1
    ends = _starts(fields["ends_at"]) if fields["ends_at"].strip() else None

    def work() -> tuple[str | None, list[str], bool]:
        """(the campaign made, problems, whether they are warnings the operator may confirm)."""
        if starts is None and not fields["starts_at"].strip():
            return None, ["starts: give a date and time (UTC), or tick \"Start now\" to start as soon as it is made "
                          "(the scheduler then runs it within a minute, before any dry run)"], False
        if starts is None:
            return None, ["starts: a date and time, YYYY-MM-DDTHH:MM (UTC)"], False
        if fields["ends_at"].strip() and ends is None:
            return None, ["ends: a date and time, YYYY-MM-DDTHH:MM (UTC)"], False
        try:
            with session_scope(_engine(request)) as session:
                made = campaigns.create(session, segments.active_segments(session), name=fields["name"],
                                        segment=fields["segment"], channel=fields["channel"],
                                        texts=[fields["variant_a"], fields["variant_b"], fields["variant_c"]],
                                        spanish_texts=[fields["variant_a_es"], fields["variant_b_es"],
                                                       fields["variant_c_es"]],
                                        starts_at=starts, result_days=days, actor=users.actor(signed.user),
                                        repeat_days=repeat_days, ends_at=ends,
                                        confirm_past_start=fields["confirm_past_start"] == "1")
                return made.id, [], False
        except campaigns.CampaignUnconfirmed as exc:
            return None, exc.problems, True
        except campaigns.CampaignError as exc:
            return None, exc.problems, False
        except segments.SegmentsError as exc:
            return None, [str(exc)], False

    made, problems, unconfirmed = await run_in_threadpool(work)
    if made is not None:
        return RedirectResponse(f"/ops/campaigns/{made}?notice=created", status_code=303)
    context = await run_in_threadpool(_campaigns_context, request)
    # A start in the past is held, not refused: the form comes back as typed with the warning and a box to confirm.
    found = {"warnings": problems} if unconfirmed else {"problems": problems}
    return _page(request, signed, "ops_campaigns.html", {**context, **found, "form": fields}, status_code=400)


def _campaign_context(request: Request, campaign_id: str) -> dict[str, Any] | None:
    with session_scope(_engine(request)) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return None
        found = campaigns.results(session, campaign)
        session.expunge_all()
    return {"campaign": campaign, "results": found, "metrics": campaigns.METRICS, "report": None,
            "schedule": campaigns.schedule_words(campaign)}


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(request: Request, campaign_id: str) -> Response:
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    context = await run_in_threadpool(_campaign_context, request, campaign_id)
    if context is None:
        return routes._refuse(request, 404, "No such campaign.")
    return _page(request, signed, "ops_campaign.html", context)


@router.get("/campaigns/{campaign_id}/{action}", response_class=HTMLResponse)
async def campaign_action_address(request: Request, campaign_id: str, action: str) -> Response:
    """The address a Dry run or Run now result was shown at, opened again (a bookmark, the history, a typed URL):
    the campaign's page, never a 405. Nothing runs on a GET."""
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    if action not in ("dry-run", "run"):
        return routes._refuse(request, 404, "No such action.")
    return RedirectResponse(f"/ops/campaigns/{campaign_id}", status_code=303)


@router.post("/campaigns/{campaign_id}/{action}", response_class=HTMLResponse)
async def campaign_run(request: Request, campaign_id: str, action: str) -> Response:
    """Dry run (decides, writes nothing) or run now (queues through the outbox and sends what the gate allows)."""
    if action not in ("dry-run", "run"):
        return routes._refuse(request, 404, "No such action.")
    guarded = await _operator_post(request)
    if isinstance(guarded, Response):
        return guarded
    signed, _ = guarded
    app = routes._app(request)

    def work() -> campaigns.Report | str:
        transport = mail_transport.outbound_transport(app.engine, app.settings)
        try:
            return campaigns.run(app.engine, app.settings, campaign_id, transport, dry_run=action == "dry-run",
                                 actor=users.actor(signed.user))
        except (campaigns.CampaignError, segments.SegmentsError) as exc:
            return str(exc)

    report = await run_in_threadpool(work)
    if isinstance(report, str):
        return routes._refuse(request, 409, report)
    context = await run_in_threadpool(_campaign_context, request, campaign_id)
    if context is None:
        return routes._refuse(request, 404, "No such campaign.")
    # The result is shown here, but the address becomes the campaign's own (console.js, data-address), so that a
    # reload is a GET of the campaign page and never runs the campaign again.
    return _page(request, signed, "ops_campaign.html",
                 {**context, "report": report, "address": f"/ops/campaigns/{campaign_id}"})


# --- dashboard ------------------------------------------------------------------------------------------------------

def _default_range() -> tuple[date, date]:
    """The last 30 days, today included."""
    today = datetime.now(timezone.utc).date()
    return today - timedelta(days=29), today


def _range(request: Request) -> tuple[date, date] | str:
    first, today = _default_range()
    try:
        start = date.fromisoformat(request.query_params.get("from") or first.isoformat())
        last = date.fromisoformat(request.query_params.get("to") or today.isoformat())
    except ValueError:
        return NOT_DATES
    if not (FIRST_YEAR <= start.year and last.year <= LAST_YEAR):  # the day after must exist (no overflow)
        return f"Pick dates from {FIRST_YEAR} to {LAST_YEAR}."
    if last < start or (last - start).days > 366:
        return "Pick a range of one day to a year, with the start first."
    return start, last


def _board(request: Request, start: date, last: date) -> dashboard.Dashboard:
    with session_scope(_engine(request)) as session:
        try:
            book: segments.SegmentBook | None = segments.active_segments(session)
        except segments.SegmentsError:
            book = None
        return dashboard.compute(session, start, last + timedelta(days=1), book)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request) -> Response:
    signed = await _operator(request, dashboard_reader=True)
    if isinstance(signed, Response):
        return signed
    picked = _range(request)
    problem = picked if isinstance(picked, str) else None
    if problem:
        # The dashboard stays (its default range), with why the range was refused and the dates as typed (a 400).
        picked = _default_range()
    start, last = picked
    board = await run_in_threadpool(_board, request, start, last)
    groups = [board.overall, *board.groups]
    charts = {key: bar_chart(f"{label} by segment, campaign and channel",
                             [(f"{g.kind}: {g.name}" if g.kind != "overall" else "All", g.rate(key))
                              for g in groups])
              for key, (label, _definition) in kpi.DEFINITIONS.items()}
    trends = {k.key: line_chart(k.label, k.series) for k in board.overall.kpis}
    sent_chart = bar_chart("Messages sent by segment, campaign and channel",
                           [(f"{g.kind}: {g.name}" if g.kind != "overall" else "All", float(g.messages_sent))
                            for g in groups], percent=False)
    return _page(request, signed, "ops_dashboard.html", {
        "board": board, "groups": groups, "charts": charts, "trends": trends, "sent_chart": sent_chart,
        "kpi_definitions": kpi.DEFINITIONS, "definitions": dashboard.DEFINITIONS, "dollars": dashboard.dollars,
        "start": start, "last": last, "form_error": problem,
        # The export is of the range shown: after a refused range, the last 30 days, not what was typed.
        "query": urlencode({"from": start.isoformat(), "to": last.isoformat()}),
        # As typed, card numbers masked (PCI-2: an error page never repeats one); a browser's date field would blank
        # a value that is not a date, so then the two are shown as text.
        "typed_from": _shown(request, "from") if problem else start,
        "typed_to": _shown(request, "to") if problem else last,
        "dates_as_text": problem == NOT_DATES}, status_code=400 if problem else 200)


def _shown(request: Request, key: str) -> str:
    return redaction.redact(request.query_params.get(key) or "").text


@router.get("/dashboard.csv")
async def dashboard_csv(request: Request) -> Response:
    signed = await _operator(request, dashboard_reader=True)
    if isinstance(signed, Response):
        return signed
    picked = _range(request)
    if isinstance(picked, str):
        return routes._refuse(request, 400, picked)
    board = await run_in_threadpool(_board, request, *picked)
    await run_in_threadpool(_audit_dashboard_export, request, signed, picked)
    return _download(dashboard.as_csv(board), f"dashboard-{picked[0]}-{picked[1]}.csv", "text/csv")
