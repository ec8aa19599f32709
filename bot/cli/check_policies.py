"""`python -m bot check-policies`: validate the operator's policy files; `run` does this before starting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.agents.canned import DEFAULT_CANNED_PATH, CannedError
from bot.agents.canned import load as load_canned
from bot.compliance.frequency import DEFAULT_CONTACT_RULES_PATH, ContactRulesError, load_contact_rules
from bot.compliance.tone import DEFAULT_BANNED_PHRASES_PATH, BannedPhrasesError, load_banned_phrases
from bot.plans.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy
from bot.records.retention import DEFAULT_RETENTION_PATH, RetentionPolicyError, load_retention_policy


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check-policies",
                            help="validate policy/*.yml (plans, contact, banned phrases, canned replies, retention)")
    parser.add_argument("--plans", type=Path, default=DEFAULT_POLICY_PATH)
    parser.add_argument("--contact-rules", type=Path, default=DEFAULT_CONTACT_RULES_PATH)
    parser.add_argument("--banned-phrases", type=Path, default=DEFAULT_BANNED_PHRASES_PATH)
    parser.add_argument("--canned-responses", type=Path, default=DEFAULT_CANNED_PATH)
    parser.add_argument("--retention", type=Path, default=DEFAULT_RETENTION_PATH)
    parser.set_defaults(handler=handle)


def problems(plans: Path = DEFAULT_POLICY_PATH, contact_rules: Path = DEFAULT_CONTACT_RULES_PATH,
             banned_phrases: Path = DEFAULT_BANNED_PHRASES_PATH, canned: Path = DEFAULT_CANNED_PATH,
             retention: Path = DEFAULT_RETENTION_PATH) -> list[str]:
    """Every problem in the policy files, each naming its file and field; empty when all are valid."""
    found = []
    for load, path, error in ((load_policy, plans, PolicyError), (load_contact_rules, contact_rules, ContactRulesError),
                              (load_banned_phrases, banned_phrases, BannedPhrasesError),
                              (load_canned, canned, CannedError),
                              (load_retention_policy, retention, RetentionPolicyError)):
        try:
            load(path)
        except error as exc:
            found.append(str(exc))
        except OSError as exc:
            found.append(f"{path}: cannot read the file: {exc.strerror or exc}")
    return found


def handle(args: argparse.Namespace) -> int:
    found = problems(args.plans, args.contact_rules, args.banned_phrases, args.canned_responses, args.retention)
    for problem in found:
        print(f"settle: {problem}", file=sys.stderr)
    if not found:
        print("settle: policy files are valid")
    return 2 if found else 0
