"""POST /webhooks/stripe: Stripe's signed events (bot/payments/webhooks.py does the work).

A missing or wrong signature gets 400 and nothing is read or written (not even an audit row: an unsigned
request is not Stripe, and must not be able to fill the database). A handled event, or a redelivery of one,
gets 200; a failure gets 500, so Stripe delivers it again later."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.gateway.pay_routes import deliver, stripe_client
from bot.payments import webhooks

log = logging.getLogger("settle.stripe_webhook")
router = APIRouter()


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
    try:
        result = await run_in_threadpool(webhooks.handle, app.state.engine, stripe_client(app), app.state.settings,
                                         event)
    except Exception:
        log.exception("Stripe event %s (%s) failed; Stripe will deliver it again", event.get("id"), event.get("type"))
        return JSONResponse({"error": "processing failed"}, status_code=500)
    await deliver(app, result.delivered)
    return JSONResponse({"received": True, "outcome": result.outcome})
