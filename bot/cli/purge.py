"""`python -m bot purge [--dry-run] [--now ISO]`: delete the records whose retention has ended (REC-1).

The dry run prints each expired debtor (id, account refs, conversations, what would be deleted, when retention
ended) and changes nothing. The real run purges each debtor in a transaction of its own, so a failure on one
leaves the others done and itself untouched. Exits 0, or 2 when the policy file is invalid."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.cli.time_option import parse_now
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.records import retention


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("purge", help="delete conversations and personal data whose retention has ended (REC-1)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be purged; change nothing")
    parser.add_argument("--now", type=parse_now, help="act as if at this ISO time (default: now)")
    parser.add_argument("--policy", type=Path, default=retention.DEFAULT_RETENTION_PATH)
    parser.set_defaults(handler=handle)


def _describe(candidate: retention.Candidate) -> str:
    counts = ", ".join(f"{name} {value}" for name, value in candidate.counts.items())
    return (f"debtor {candidate.debtor_id}: accounts {', '.join(candidate.account_refs) or '-'}; "
            f"conversations {', '.join(candidate.conversation_ids) or '-'}; {counts}; "
            f"last activity {candidate.last_activity_at.date().isoformat()}, "
            f"retention ended {candidate.retention_ends_at.date().isoformat()}")


def handle(args: argparse.Namespace) -> int:
    try:
        policy = retention.load_retention_policy(args.policy)
    except (retention.RetentionPolicyError, OSError) as exc:
        print(f"settle: {exc}", file=sys.stderr)
        return 2
    now: datetime = args.now or datetime.now(timezone.utc)
    engine = get_engine(Settings.from_env().database_url)
    with session_scope(engine) as session:
        found = retention.candidates(session, policy, now)
        session.expunge_all()
    verb = "would purge" if args.dry_run else "purged"
    skipped = 0
    for candidate in found:
        if not args.dry_run:
            try:
                with session_scope(engine) as session:
                    retention.purge(session, candidate, now, actor="purge")
            except retention.StillRetained as exc:
                skipped += 1
                print(f"skipped {exc}")
                continue
        print(f"{verb} {_describe(candidate)}")
    total = f"{len(found)} debtors would be purged" if args.dry_run else f"{len(found) - skipped} debtors purged"
    print(f"{'dry run: ' if args.dry_run else ''}{total} "
          f"(retention {policy.years_after_last_activity} years after the last collection activity)")
    return 0
