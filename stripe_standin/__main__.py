"""`python -m stripe_standin`: serve the stand-in on loopback. The webhook secret comes from
STRIPE_WEBHOOK_SECRET (the gateway checks signatures with the same one)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from stripe_standin import DEFAULT_PORT, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_standin", description="local Stripe stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--webhook-url", default=os.environ.get("STANDIN_WEBHOOK_URL"),
                        help="where events are POSTed (the gateway's /webhooks/stripe)")
    parser.add_argument("--public-url", default=None, help="the address browsers reach the checkout page at")
    args = parser.parse_args()
    app = create_app(webhook_url=args.webhook_url, webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
                     public_url=args.public_url)
    # Access logs show paths only (never a form body), so no card number reaches the log (PCI-3).
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
