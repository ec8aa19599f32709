"""`python -m bot charge-installments [--now ISO] [--dry-run] [--loop SECONDS] [--no-send]`: the autopay scheduler.

Each pass queues the PLAN-3 notices that are due, charges every autopay installment that is due (off-session, one
idempotency key per installment attempt, never before the due date in the debtor's time zone), then sends what
is queued through the outbound gate (receipts, notices, decline messages with a pay-now link), unless --no-send
leaves that to `send-reminders`. Two schedulers at once never charge an installment twice (bot/payments/autopay.py).
Without STRIPE_SECRET_KEY it charges through the local Stripe stand-in that `run` starts."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone

from sqlalchemy import inspect

from bot.cli.time_option import parse_now
from bot.config import Settings
from bot.db import get_engine
from bot.mail import transport as mail_transport
from bot.messaging import queue as outbound_queue
from bot.payments import autopay
from bot.payments.stripe_client import api_base, build_client, uses_standin


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "charge-installments",
        help="autopay: charge plan installments that are due to their saved cards (the scheduler)",
        description="Charge every autopay installment that is due, queue PLAN-3 notices, send receipts and "
        "decline messages. Declines are retried once after AUTOPAY_RETRY_BUSINESS_DAYS business days, then the "
        "installment is marked missed (README, Payments).",
    )
    parser.add_argument("--now", type=parse_now, metavar="ISO",
                        help="act as if it were this time, e.g. 2026-03-06T09:00:00-05:00 (default: now)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be charged; charge nothing")
    parser.add_argument("--loop", type=float, metavar="SECONDS", help="run again every SECONDS until interrupted")
    parser.add_argument("--no-send", action="store_true",
                        help="leave queued messages to `send-reminders` instead of sending them here")
    parser.set_defaults(handler=handle)




def handle(args: argparse.Namespace) -> int:
    if args.loop is not None and (args.loop <= 0 or args.dry_run):
        print("error: --loop needs seconds above 0 and charges for real (drop --dry-run)", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    if not inspect(engine).has_table("payments"):
        print("error: the database has no payment tables yet; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    client = build_client(settings)
    if uses_standin(settings):
        print(f"(no STRIPE_SECRET_KEY: charging through the local Stripe stand-in at {api_base(settings)})")
    transport = mail_transport.outbound_transport(engine, settings)  # email by SMTP_URL, texts by Twilio
    try:
        while True:
            now = args.now or datetime.now(timezone.utc)
            summary = autopay.charge_due(engine, client, settings, now=now, dry_run=args.dry_run)
            for line in summary.lines:
                print(line)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "nothing due"
            print(f"{now:%Y-%m-%d %H:%M} UTC: {counts}")
            if not args.no_send:
                sent = outbound_queue.process_due(engine, transport, now=now, dry_run=args.dry_run)
                print(f"messages: sent {sent.sent}, deferred {sent.deferred}, blocked {sent.blocked}")
            if args.loop is None:
                return 0
            time.sleep(args.loop)
    except KeyboardInterrupt:
        print("stopped")
        return 0
