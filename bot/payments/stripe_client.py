"""The one way Settle talks to Stripe: the real `stripe` SDK, built from settings.

With STRIPE_SECRET_KEY set, the SDK talks to Stripe (or to STRIPE_API_BASE if that is set too). Without a key it
talks to the local stand-in (stripe_standin/, started by `python -m bot run`) with a test key, so the same code
paths run in the demo and the tests as in production. Timeouts are short (a debtor is waiting on the pay link) and
the SDK's own retries (5xx, 409, timeouts) reuse the request's idempotency key, so a retry never acts twice."""

from __future__ import annotations

import stripe

from bot.config import Settings

STANDIN_KEY = "sk_test_settle_standin"


def uses_standin(settings: Settings) -> bool:
    """No key: the local stand-in plays Stripe (the demo and the tests)."""
    return not settings.stripe_secret_key


def api_base(settings: Settings) -> str | None:
    """Where the SDK sends requests: STRIPE_API_BASE, else Stripe with a key, else the stand-in on its port."""
    if settings.stripe_api_base:
        return settings.stripe_api_base
    return None if settings.stripe_secret_key else f"http://127.0.0.1:{settings.stripe_standin_port}"


def build_client(settings: Settings) -> stripe.StripeClient:
    base = api_base(settings)
    return stripe.StripeClient(
        settings.stripe_secret_key or STANDIN_KEY,
        base_addresses={"api": base} if base else None,
        http_client=stripe.RequestsClient(timeout=settings.stripe_timeout_seconds),
        max_network_retries=settings.stripe_max_network_retries,
    )
