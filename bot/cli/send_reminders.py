"""`python -m bot send-reminders [--dry-run] [--campaign first-contact --segment creditor=NAME|all] [--now ISO]
[--loop SECONDS]`: text debtors whose installment is due soon or was missed, or run a first-contact campaign.
Every text passes the outbound gate; --dry-run prints every decision and writes nothing; --loop is the scheduler."""

from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy import inspect

from bot import reminders, sms
from bot.cli.time_option import parse_now
from bot.config import Settings
from bot.db import get_engine
from bot.mail import transport as mail_transport


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "send-reminders",
        help="text installment reminders (or a first-contact campaign) through the outbound gate",
        description="Queue and send installment reminders (due within REMINDER_DAYS_AHEAD days, or missed), or a "
        "first-contact campaign, each through the outbound gate (quiet hours in the debtor's time, frequency "
        "caps, opt-outs, holds, ID-5). Without Twilio keys the texts go to the local outbox (the demo phone).",
    )
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would be sent to whom, and why each skipped debtor is skipped; write nothing")
    parser.add_argument("--campaign", choices=reminders.CAMPAIGNS, help="run a campaign instead of reminders")
    parser.add_argument("--segment", default="all",
                        help="with --campaign: 'all' or 'creditor=NAME' (default: all)")
    parser.add_argument("--now", type=parse_now, metavar="ISO",
                        help="judge everything at this time, e.g. 2026-03-06T20:59:00-08:00 (default: now)")
    parser.add_argument("--loop", type=float, metavar="SECONDS",
                        help="run again every SECONDS until interrupted (the scheduler)")
    parser.set_defaults(handler=handle)




def handle(args: argparse.Namespace) -> int:
    if args.loop is not None and (args.dry_run or args.now):
        print("error: --loop runs for real at the current time; drop --dry-run and --now", file=sys.stderr)
        return 2
    if args.loop is not None and args.loop <= 0:
        print("error: --loop needs a number of seconds above 0", file=sys.stderr)
        return 2
    if args.segment != "all" and not args.campaign:
        print("error: --segment goes with --campaign", file=sys.stderr)
        return 2
    try:
        reminders.parse_segment(args.segment)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    if not inspect(engine).has_table("scheduled_messages"):
        print("error: the database has no tables yet; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    transport = mail_transport.outbound_transport(engine, settings)  # email by SMTP_URL, texts by Twilio
    if not sms.twilio_configured(settings) and not args.dry_run:
        print("(no Twilio keys: texts go to the local outbox; see them at /phone)")
    try:
        while True:
            report = reminders.run(engine, settings, transport, now=args.now, dry_run=args.dry_run,
                                   campaign=args.campaign, segment=args.segment)
            if args.loop is None:
                return 1 if report.stopped else 0  # 1: Twilio unreachable, the rest stays queued
            time.sleep(args.loop)
    except KeyboardInterrupt:  # Ctrl-C ends the scheduler; a message being decided was rolled back
        print("stopped")
        return 0
