"""`python -m stripe_standin`: serve the stand-in on loopback. The webhook secret comes from
STRIPE_WEBHOOK_SECRET (the gateway checks signatures with the same one). `--state FILE` keeps the objects in that
SQLite file across restarts (`python -m bot run` passes var/stripe-standin.db); without it they live in memory."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from stripe_standin import DEFAULT_PORT, create_app
from stripe_standin.store import StoreError


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_standin", description="local Stripe stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--webhook-url", default=os.environ.get("STANDIN_WEBHOOK_URL"),
                        help="where events are POSTed (the gateway's /webhooks/stripe)")
    parser.add_argument("--public-url", default=None, help="the address browsers reach the checkout page at")
    parser.add_argument("--state", default=None, metavar="FILE",
                        help="a SQLite file to keep customers, cards, sessions, payments... in across restarts "
                             "(made if missing, 0600); without it everything is in memory")
    args = parser.parse_args()
    try:
        app = create_app(webhook_url=args.webhook_url, webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
                         public_url=args.public_url, state_path=args.state)
    except StoreError as exc:
        sys.exit(f"stripe_standin: {exc}")
    # Access logs show paths only (never a form body), so no card number reaches the log (PCI-3).
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
