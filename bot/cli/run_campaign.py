"""`python -m bot run-campaign NAME [--dry-run] [--now ISO]` or `python -m bot run-campaign --due`: send a campaign
(bot/campaigns.py) through the outbox. --due runs every campaign with a round due (a one-off whose start has come,
or a recurring one's next round): the scheduled job. --dry-run prints who would get which variant, or why not,
and writes nothing."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from sqlalchemy import inspect

from bot import campaigns, segments, sms
from bot.cli.time_option import parse_now
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.mail import transport as mail_transport


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run-campaign", help="send a campaign (or every due one, --due) through the outbound gate",
        description="Queue and send a campaign's messages through the outbox: quiet hours in the debtor's time, "
        "frequency caps, opt-outs, holds and ID-5 apply, and each skipped or held message says why. Without Twilio "
        "keys the texts go to the local outbox (/phone); email goes to SMTP_URL (the local mail server: /mailbox).")
    parser.add_argument("campaign", nargs="?", help="the campaign's name (or id)")
    parser.add_argument("--due", action="store_true",
                        help="run every campaign with a round due: a one-off whose start has come, a recurring "
                        "campaign's next round (the scheduled job)")
    parser.add_argument("--dry-run", action="store_true", help="print who would get what and why not; write nothing")
    parser.add_argument("--now", type=parse_now, metavar="ISO",
                        help="judge everything at this time, e.g. 2026-03-06T12:00:00-08:00 (default: now)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if bool(args.campaign) == bool(args.due):
        print("error: name one campaign, or pass --due (not both)", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    if not inspect(engine).has_table("campaigns"):
        print("error: the database has no campaigns table yet; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    if args.due:
        with session_scope(engine) as session:
            keys = [c.id for c in campaigns.due(session, args.now or datetime.now(timezone.utc))]
        if not keys:
            print("no campaign is due")
            return 0
    else:
        keys = [args.campaign]
    transport = mail_transport.outbound_transport(engine, settings)
    if not sms.twilio_configured(settings) and not args.dry_run:
        print("(no Twilio keys: texts go to the local outbox; see them at /phone)")
    for key in keys:
        try:
            report = campaigns.run(engine, settings, key, transport, now=args.now, dry_run=args.dry_run,
                                   actor="cli")
        except (campaigns.CampaignError, segments.SegmentsError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for line in report.lines():
            print(line)
        if not args.dry_run:
            with session_scope(engine) as session:
                found = campaigns.by_name_or_id(session, key)
                print(f"  schedule: {campaigns.schedule_words(found)}" if found else "")
    return 0
