"""Pay links in the browser: GET /pay/<token> creates a Checkout Session and redirects there (303); the pages
Stripe sends the debtor back to (done, cancelled); and pushing payment messages to live channels.

PCI-1: the card is typed on Stripe's hosted page (the local stand-in in the demo), never on ours; these pages
only ever show an amount, a receipt number and what to do next."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from html import escape as _escape
from typing import Any

import stripe
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot import wording
from bot.compliance import esign
from bot.db import session_scope
from bot.gateway import texts
from bot.gateway.couriers import couriers_for
from bot.payments import autopay_authorisation, service
from bot.payments.messages import Delivered
from bot.payments.stripe_client import build_client

log = logging.getLogger("settle.pay")


def escape(text: str) -> str:
    """Text content only (never inside an attribute), so apostrophes stay readable."""
    return _escape(text, quote=False)
router = APIRouter()



def stripe_client(app: Any) -> stripe.StripeClient:
    """One SDK client per gateway (it keeps its HTTP connections), built from the settings on first use."""
    client = getattr(app.state, "stripe_client", None)
    if client is None:
        client = app.state.stripe_client = build_client(app.state.settings)
    return client


async def _words(request: Request, *, session_id: str | None = None,
                 token: str | None = None) -> tuple[str, dict[str, str]]:
    """The pages' language: the debtor's (by the link or its Checkout Session), else the browser's; and its texts
    (bot/gateway/texts/<language>.json, "pay")."""
    known = await run_in_threadpool(service.debtor_language, request.app.state.engine, session_id=session_id,
                                    token=token)
    lang = known if known in wording.LANGUAGES else texts.preferred(request.headers.get("accept-language"))
    return lang, texts.section("pay", lang)


def _page(title: str, heading: str, body: str, status: int = 200, lang: str = "en") -> HTMLResponse:
    html = f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1f36;
line-height:1.5}}a.button{{display:inline-block;background:#635bff;color:#fff;padding:.6rem 1rem;border-radius:4px;
text-decoration:none}}</style></head><body><h1>{escape(heading)}</h1>{body}</body></html>"""
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "no-referrer"})


@router.get("/pay/done")
async def pay_done(request: Request, session_id: str = "") -> Response:
    """Stripe's success_url. The payment is applied here too if the webhook has not arrived yet (the same
    idempotent path), so the debtor sees the result at once and the ledger still changes only once."""
    app = request.app
    delivered = Delivered()
    if session_id:
        try:
            delivered = await run_in_threadpool(service.sync_checkout_session, app.state.engine, stripe_client(app),
                                                app.state.settings, session_id)
        except (service.CheckoutUnavailable, stripe.StripeError):
            log.warning("could not check Checkout Session %s on the success page", session_id)
    await deliver(app, delivered)
    summary = await run_in_threadpool(service.session_summary, app.state.engine, session_id) if session_id else None
    lang, t = await _words(request, session_id=session_id or None)
    if summary is None:
        return _page(t["payment"], t["thank_you"], f"<p>{escape(t['if_paid'])}</p>", lang=lang)
    if summary["status"] == "succeeded":
        received = escape(t["received"]).replace("{amount}", f"<strong>{escape(summary['amount'])}</strong>") \
            .replace("{reference}", f"<strong>{escape(summary['reference'])}</strong>")
        body = f"<p>{received}</p><p>{escape(t['receipt_in_chat'])}</p>"
        body += await run_in_threadpool(_esign_form, app.state.engine, session_id)
    elif summary["status"] == "held":
        body = f"<p>{escape(t['held'])}</p>"
    else:
        body = f"<p>{escape(t['processing'].format(amount=summary['amount']))}</p>"
    return _page(t["received_title"], t["thank_you"], body, lang=lang)


def _esign_form(engine: Any, session_id: str) -> str:
    """EMAIL-1: when this payment set up autopay, a box to get the PLAN-3 notices by email (E-SIGN consent)."""
    with session_scope(engine) as session:
        words = autopay_authorisation.esign_offer(session, session_id)
    if words is None:
        return ""
    return (f'<h2>Notices about your plan</h2><form method="post" action="/pay/notices">'
            f'<input type="hidden" name="session_id" value="{_escape(session_id)}">'
            f'<p><label><input type="checkbox" name="esign" value="yes"> {escape(words)}</label></p>'
            f'<p>If you leave it empty, we\'ll text them to you if you\'ve texted us, or we can\'t take later '
            f'payments automatically.</p><button type="submit">{escape(esign.WEB_SAVE)}</button></form>')


@router.post("/pay/notices")
async def pay_notices(request: Request) -> Response:
    """The E-SIGN box's answer: stored word for word (EMAIL-1); a session without a box to answer changes nothing."""
    form = await request.form()
    session_id, ticked = str(form.get("session_id") or ""), form.get("esign") == "yes"

    def save() -> bool:
        with session_scope(request.app.state.engine) as session:
            return autopay_authorisation.record_esign(session, session_id, ticked, datetime.now(timezone.utc)) \
                is not None

    if not await run_in_threadpool(save):
        return _page("Notices", "Nothing to change", "<p>There is no choice to make on this page. You can close "
                     "it.</p>", 404)
    said = ("We'll email the notices about your plan. You can ask for paper copies, or stop emails, at any time."
            if ticked else "We won't email the notices about your plan.")
    return _page("Notices", "Saved", f"<p>{escape(said)} You can close this page.</p>")


@router.get("/pay/{token}")
async def pay_link(request: Request, token: str, cancelled: str | None = None) -> Response:
    """Follow a pay link: a fresh (or the still-open) Checkout Session for exactly this link's amount."""
    if cancelled:
        lang, t = await _words(request, token=token)
        return _page(t["payment"], t["no_payment"],
                     f"<p>{escape(t['left'])}</p><p><a class=\"button\" href=\"/pay/{_escape(token)}\">"
                     f"{escape(t['go_back'])}</a></p><p>{escape(t['or_person'])}</p>", lang=lang)
    app = request.app
    try:
        url = await run_in_threadpool(service.open_checkout, app.state.engine, stripe_client(app),
                                      app.state.settings, token)
    except service.LinkProblem as problem:
        lang, t = await _words(request, token=token)
        return _page(t["payment"], t["cant_open"], f"<p>{escape(problem.message)}</p>", problem.status, lang)
    except service.CheckoutUnavailable:
        # Stripe answered 5xx or not at all (after the SDK's own retries): nothing was recorded twice, and the
        # same link retries with the same idempotency key.
        lang, t = await _words(request, token=token)
        return _page(t["payment"], t["try_later"], f"<p>{escape(t['unavailable'])}</p>", 503, lang)
    return RedirectResponse(url, status_code=303)


async def deliver(app: Any, delivered: Delivered) -> None:
    """Messages a payment posted for the debtor (receipts): handed to the couriers (an open widget, Twilio).
    Without Twilio the stored message is the SMS outbox the demo phone shows."""
    await couriers_for(app).deliver(delivered.posted)

