"""POST /webhooks/stripe: Stripe's signed events (bot/payments/webhooks.py does the work).

A missing or wrong signature gets 400 and nothing is read or written (not even an audit row: an unsigned
request is not Stripe, and must not be able to fill the database). A handled event, or a redelivery of one,
gets 200, and so does an event naming a payment intent or charge Stripe does not know (recorded and audited once:
no redelivery could change it). A transient failure (network, Stripe 5xx, the database) gets 500, so Stripe
delivers it again later."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.gateway.pay_routes import deliver, stripe_client
from bot.payments import webhooks

log = logging.getLogger("settle.stripe_webhook")
router = APIRouter()


def _is_event(event: object) -> bool:
    """The shape webhooks.handle reads: an id, a type and (if any) a data.object that is an object."""
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        return False
    data = event.get("data") or {}
    return isinstance(data, dict) and isinstance(data.get("object") or {}, dict)


@router.post("/webhooks/stripe")
async def stripe_webhook(request: Request) -> JSONResponse:
    app = request.app
    payload = await request.body()
    try:
        event = webhooks.verify(payload, request.headers.get("stripe-signature"),
                                app.state.settings.stripe_webhook_secret)
    except webhooks.BadSignature:
        log.warning("refused a Stripe webhook with a bad signature from %s",
                    request.client.host if request.client else "?")
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    if not _is_event(event):
        # Signed, but not an event (no id or type): it cannot be processed on any delivery, so 400, not 500.
        return JSONResponse({"error": "not a Stripe event"}, status_code=400)
    try:
        result = await run_in_threadpool(webhooks.handle, app.state.engine, stripe_client(app), app.state.settings,
                                         event)
    except Exception:
        log.exception("Stripe event %s (%s) failed; Stripe will deliver it again", event.get("id"), event.get("type"))
        return JSONResponse({"error": "processing failed"}, status_code=500)
    await deliver(app, result.delivered)
    return JSONResponse({"received": True, "outcome": result.outcome})
