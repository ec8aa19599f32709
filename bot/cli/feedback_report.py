"""`python -m bot feedback-report [--days N] [--json]`: what debtors said when asked how it went (bot/feedback.py),
overall and per channel, per agent and per intent: questions asked, answered, mean score, response rate."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

from bot import feedback
from bot.config import Settings
from bot.db import get_engine, session_scope


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("feedback-report",
                            help="debtor feedback: mean score, count and response rate per channel, agent and intent")
    parser.add_argument("--days", type=int, default=None, metavar="N",
                        help="only questions asked in the last N days (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.set_defaults(handler=handle)


def _line(name: str, figures: feedback.FeedbackFigures) -> str:
    mean = f"{figures.mean_score:.2f}" if figures.mean_score is not None else "-"
    rate = f"{figures.response_rate:.0%}" if figures.response_rate is not None else "-"
    return f"  {name:<28} {figures.asked:>6} {figures.answered:>9} {mean:>6} {rate:>9} {figures.comments:>9}"


def render(report: feedback.FeedbackReport) -> str:
    """The report as plain-text tables, one per grouping."""
    period = f"since {report.since:%Y-%m-%d %H:%M} UTC" if report.since else "all time"
    header = f"  {'':<28} {'asked':>6} {'answered':>9} {'mean':>6} {'response':>9} {'comments':>9}"
    lines = [f"Debtor feedback ({period}); scores 1 (poor) to 5 (great)", header, _line("overall", report.overall)]
    for title, groups in (("channel", report.by_channel), ("agent", report.by_agent), ("intent", report.by_intent)):
        lines += ["", f"By {title}", header] + [_line(name, figures) for name, figures in groups.items()]
        if not groups:
            lines.append("  (no questions asked)")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    if args.days is not None and args.days < 1:
        print("error: --days must be 1 or more", file=sys.stderr)
        return 2
    since = datetime.now(timezone.utc) - timedelta(days=args.days) if args.days else None
    with session_scope(get_engine(Settings.from_env().database_url)) as session:
        report = feedback.feedback_report(session, since=since)
    if args.json:
        document = asdict(report)
        document["since"] = report.since.isoformat() if report.since else None
        document["until"] = report.until.isoformat() if report.until else None
        print(json.dumps(document, indent=2))
    else:
        print(render(report))
    return 0
