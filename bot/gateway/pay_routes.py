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



def _say(key: str, language: str | None, **values: str) -> str:
    """A page's words, escaped; values (already HTML) are put in after the escaping."""
    return escape(wording.say(key, language)).format(**values) if values else escape(wording.say(key, language))


def _language(request: Request, known: str | None) -> str:
    """The pages' language: the debtor's when Settle knows it, else the browser's (Accept-Language)."""
    return texts.page_language(known, request.headers.get("accept-language"))


def stripe_client(app: Any) -> stripe.StripeClient:
    """One SDK client per gateway (it keeps its HTTP connections), built from the settings on first use."""
    client = getattr(app.state, "stripe_client", None)
    if client is None:
        client = app.state.stripe_client = build_client(app.state.settings)
    return client


def _page(title: str, heading: str, body: str, status: int = 200, language: str | None = None) -> HTMLResponse:
    html = f"""<!doctype html><html lang="{wording.language_or_default(language)}"><head><meta charset="utf-8">
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
    if summary is None:
        speaks = _language(request, None)
        return _page(wording.say("page_title_payment", speaks), wording.say("page_thank_you", speaks),
                     f"<p>{_say('page_receipt_soon', speaks)}</p>", language=speaks)
    speaks = _language(request, summary["language"])
    if summary["status"] == "succeeded":
        amount = f"<strong>{escape(summary['amount'])}</strong>"
        reference = f"<strong>{escape(summary['reference'])}</strong>"
        body = (f"<p>{_say('page_received', speaks, amount=amount, reference=reference)}</p>"
                f"<p>{_say('page_receipt_in_chat', speaks)}</p>")
        body += await run_in_threadpool(_esign_form, app.state.engine, session_id, speaks)
    elif summary["status"] == "held":
        body = f"<p>{_say('page_held', speaks)}</p>"
    else:
        body = f"<p>{_say('page_processing', speaks, amount=escape(summary['amount']))}</p>"
    return _page(wording.say("page_title_received", speaks), wording.say("page_thank_you", speaks), body,
                 language=speaks)


def _esign_form(engine: Any, session_id: str, speaks: str | None = None) -> str:
    """EMAIL-1: when this payment set up autopay, a box to get the PLAN-3 notices by email (E-SIGN consent)."""
    with session_scope(engine) as session:
        words = autopay_authorisation.esign_offer(session, session_id)
    if words is None:
        return ""
    return (f'<h2>{_say("page_notices_heading", speaks)}</h2><form method="post" action="/pay/notices">'
            f'<input type="hidden" name="session_id" value="{_escape(session_id)}">'
            f'<p><label><input type="checkbox" name="esign" value="yes"> {escape(words)}</label></p>'
            f'<p>{_say("page_notices_if_empty", speaks)}</p>'
            f'<button type="submit">{_say("esign_web_save", speaks)}</button></form>')


@router.post("/pay/notices")
async def pay_notices(request: Request) -> Response:
    """The E-SIGN box's answer: stored word for word (EMAIL-1); a session without a box to answer changes nothing."""
    form = await request.form()
    session_id, ticked = str(form.get("session_id") or ""), form.get("esign") == "yes"

    def save() -> bool:
        with session_scope(request.app.state.engine) as session:
            return autopay_authorisation.record_esign(session, session_id, ticked, datetime.now(timezone.utc)) \
                is not None

    summary = await run_in_threadpool(service.session_summary, request.app.state.engine, session_id) \
        if session_id else None
    speaks = _language(request, summary["language"] if summary else None)
    title = wording.say("page_notices_title", speaks)
    if not await run_in_threadpool(save):
        return _page(title, wording.say("page_nothing_to_change", speaks), f"<p>{_say('page_no_choice', speaks)}</p>",
                     404, language=speaks)
    said = _say("page_saved_yes" if ticked else "page_saved_no", speaks)
    return _page(title, wording.say("page_saved", speaks), f"<p>{said} {_say('page_close', speaks)}</p>",
                 language=speaks)


@router.get("/pay/{token}")
async def pay_link(request: Request, token: str, cancelled: str | None = None) -> Response:
    """Follow a pay link: a fresh (or the still-open) Checkout Session for exactly this link's amount."""
    app = request.app
    if cancelled:
        speaks = _language(request, await run_in_threadpool(service.token_language, app.state.engine, token))
        return _page(wording.say("page_title_payment", speaks), wording.say("page_no_payment", speaks),
                     f"<p>{_say('page_left', speaks)}</p><p><a class=\"button\" "
                     f"href=\"/pay/{_escape(token)}\">{_say('page_go_back', speaks)}</a></p>"
                     f"<p>{_say('page_or_person', speaks)}</p>", language=speaks)
    try:
        url = await run_in_threadpool(service.open_checkout, app.state.engine, stripe_client(app),
                                      app.state.settings, token)
    except service.LinkProblem as problem:
        speaks = _language(request, problem.language)
        return _page(wording.say("page_title_payment", speaks), wording.say("page_cant_open", speaks),
                     f"<p>{_say(problem.key, speaks)}</p>", problem.status, language=speaks)
    except service.CheckoutUnavailable:
        # Stripe answered 5xx or not at all (after the SDK's own retries): nothing was recorded twice, and the
        # same link retries with the same idempotency key.
        speaks = _language(request, await run_in_threadpool(service.token_language, app.state.engine, token))
        return _page(wording.say("page_title_payment", speaks), wording.say("page_try_again", speaks),
                     f"<p>{_say('page_unavailable', speaks)}</p>", 503, language=speaks)
    return RedirectResponse(url, status_code=303)


async def deliver(app: Any, delivered: Delivered) -> None:
    """Messages a payment posted for the debtor (receipts): handed to the couriers (an open widget, Twilio).
    Without Twilio the stored message is the SMS outbox the demo phone shows."""
    await couriers_for(app).deliver(delivered.posted)

