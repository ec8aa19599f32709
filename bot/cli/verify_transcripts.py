"""`python -m bot verify-transcripts [--conversation ID] [--json]`: check the hash-chained transcript record (REC-1).

Prints each problem with where and what, then a summary line; exits 0 when every chain is intact, 1 when any
problem is found (an edited, inserted or deleted message, audit event or entry), 2 when it cannot check.
Conversations emptied by the retention purge are counted as purged, not as intact or broken."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import inspect

from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.records import verification


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("verify-transcripts",
                            help="check every conversation's hash-chained transcript; exit 1 on any edit or deletion")
    parser.add_argument("--conversation", action="append", metavar="ID",
                        help="check only this conversation (repeatable); default: all")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    engine = get_engine(Settings.from_env().database_url)
    if not inspect(engine).has_table("transcript_entries"):
        print("error: the database has no transcript tables yet; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    with session_scope(engine) as session:
        report = verification.verify(session, args.conversation)
    if args.conversation and report.conversations < len(set(args.conversation)):
        print("error: no such conversation: " + ", ".join(sorted(set(args.conversation) - report.checked)),
              file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"intact": report.intact, "conversations": report.conversations, "entries": report.entries,
                          "purged": report.purged,
                          "problems": [{"conversation_id": p.conversation_id, "where": p.where, "what": p.what}
                                       for p in report.problems]}, indent=2))
    else:
        for problem in report.problems:
            print(f"PROBLEM {problem}")
        verdict = "intact" if report.intact else "NOT INTACT"
        print(f"{verdict}: {report.conversations} conversations, {report.entries} entries, "
              f"{len(report.problems)} problems"
              + (f", {len(report.purged)} purged at the end of retention (REC-1)" if report.purged else ""))
    return 0 if report.intact else 1
