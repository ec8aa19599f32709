"""`python -m bot check-policies [--in-force]`: validate the operator's policy files; `run` does this before starting.
With --in-force, validate the set in force instead: the plan policy, contact rules and segments versions saved at
/ops in the database (DATABASE_URL; the shipped file where none was saved) with the other files, which catches a
new release's file that no longer fits a version an operator saved. The checks themselves live in
bot/policy_edits.py, which the operations console's editor runs too."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.agents.canned import DEFAULT_CANNED_PATH
from bot.compliance.frequency import DEFAULT_CONTACT_RULES_PATH
from bot.compliance.tone import DEFAULT_BANNED_PHRASES_PATH
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.plans.policy import DEFAULT_POLICY_PATH
from bot.policy_edits import PolicyPaths, problems_in_force
from bot.policy_edits import problems as policy_problems
from bot.records.retention import DEFAULT_RETENTION_PATH
from bot.segments import DEFAULT_SEGMENTS_PATH


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check-policies",
                            help="validate policy/*.yml (plans, contact, banned phrases, canned replies, retention, "
                                 "segments)")
    parser.add_argument("--plans", type=Path, default=DEFAULT_POLICY_PATH)
    parser.add_argument("--contact-rules", type=Path, default=DEFAULT_CONTACT_RULES_PATH)
    parser.add_argument("--banned-phrases", type=Path, default=DEFAULT_BANNED_PHRASES_PATH)
    parser.add_argument("--canned-responses", type=Path, default=DEFAULT_CANNED_PATH)
    parser.add_argument("--retention", type=Path, default=DEFAULT_RETENTION_PATH)
    parser.add_argument("--segments", type=Path, default=DEFAULT_SEGMENTS_PATH)
    parser.add_argument("--in-force", action="store_true",
                        help="check the versions in force in the database (DATABASE_URL) with the other files")
    parser.set_defaults(handler=handle)


def problems(plans: Path = DEFAULT_POLICY_PATH, contact_rules: Path = DEFAULT_CONTACT_RULES_PATH,
             banned_phrases: Path = DEFAULT_BANNED_PHRASES_PATH, canned: Path = DEFAULT_CANNED_PATH,
             retention: Path = DEFAULT_RETENTION_PATH, segments: Path = DEFAULT_SEGMENTS_PATH) -> list[str]:
    """Every problem in the policy files, each naming its file and field; empty when all are valid."""
    return policy_problems(PolicyPaths(plans, contact_rules, banned_phrases, canned, retention, segments))


def handle(args: argparse.Namespace) -> int:
    if args.in_force:
        paths = PolicyPaths(args.plans, args.contact_rules, args.banned_phrases, args.canned_responses,
                            args.retention, args.segments)
        with session_scope(get_engine(Settings.from_env().database_url)) as session:
            found = problems_in_force(session, paths)
    else:
        found = problems(args.plans, args.contact_rules, args.banned_phrases, args.canned_responses, args.retention,
                         args.segments)
    for problem in found:
        print(f"settle: {problem}", file=sys.stderr)
    if not found:
        print("settle: the policies in force are valid" if args.in_force else "settle: policy files are valid")
    return 2 if found else 0
