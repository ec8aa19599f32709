"""`python -m bot data-request export|delete (--account REF | --phone E164) [--out FILE] [--actor NAME]` (REC-3).

export writes a JSON document of what is held about the debtor (to FILE, or standard output) and completes the
request; delete removes what may go now, suppresses further contact and prints what was kept and why. Both record
the request (received, due, completed) and are audited. Exits 0, or 2 on bad input (nothing is changed then)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.records import data_requests, retention


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("data-request", help="answer a debtor's data access or deletion request (REC-3)")
    parser.add_argument("action", choices=("export", "delete"))
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--account", metavar="REF", help="the debtor's account reference")
    who.add_argument("--phone", metavar="E164", help="the debtor's phone number, e.g. +15555550101")
    parser.add_argument("--out", type=Path, metavar="FILE", help="export: write the JSON here (default: stdout)")
    parser.add_argument("--actor", default="operator", metavar="NAME", help="who handled the request (audited)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if not 0 < len(args.actor.strip()) <= 60:
        print("settle: --actor must be 1 to 60 characters", file=sys.stderr)
        return 2
    if args.out is not None and args.action != "export":
        print("settle: --out applies to export only", file=sys.stderr)
        return 2
    try:
        policy = retention.load_retention_policy()
    except (retention.RetentionPolicyError, OSError) as exc:
        print(f"settle: {exc}", file=sys.stderr)
        return 2
    engine = get_engine(Settings.from_env().database_url)
    try:
        with session_scope(engine) as session:
            debtor = data_requests.find_debtor(session, account_ref=args.account, phone=args.phone)
            if args.action == "export":
                outcome = data_requests.export(session, debtor, actor=args.actor)
                text = json.dumps(outcome.document, indent=2, ensure_ascii=False, default=str)
                if args.out is not None:
                    # Written before the transaction commits: a file that cannot be written completes nothing.
                    descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    with os.fdopen(descriptor, "w", encoding="utf-8") as handle_:
                        handle_.write(text + "\n")
            else:
                outcome = data_requests.delete(session, debtor, actor=args.actor, policy=policy)
            request = outcome.request
            summary = (f"{request.kind} request {request.id} for debtor {debtor.id}: received "
                       f"{request.received_at.isoformat()}, due {request.due_at.date().isoformat()}, completed")
    except data_requests.DataRequestError as exc:
        print(f"settle: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"settle: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.action == "export":
        if args.out is None:
            print(text)
        else:
            print(f"wrote {args.out}", file=sys.stderr)
    else:
        for line in outcome.deleted:
            print(f"deleted: {line}")
        for line in outcome.suppressed:
            print(f"suppressed: {line}")
        for line in outcome.kept:
            print(f"kept: {line}")
    print(summary, file=sys.stderr if args.action == "export" and args.out is None else sys.stdout)
    return 0
